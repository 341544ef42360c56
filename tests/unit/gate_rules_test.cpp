// The rules, table-driven, at the edge of each threshold, with the clock given: approvals (who counts), age,
// and check over Trivy / Grype / generic evidence (findings, acceptances, and whether the report is about the
// artifact's digest at all) — with shapes written from the scanners' documented formats and with every real
// report of ../shared/corpus/scan-reports.
#include "digestflow/error.hpp"
#include "digestflow/gate/evaluation.hpp"
#include "digestflow/gate/evidence.hpp"
#include "digestflow/ledger/timestamp.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace digestflow;
using namespace digestflow::gate;
using nlohmann::json;

namespace {

const std::string digest = "sha256:" + std::string(64, 'a');
const std::string child = "sha256:" + std::string(64, 'b');
const std::string config = "sha256:" + std::string(64, 'c');
const std::string other = "sha256:" + std::string(64, 'd');

std::int64_t at(const char* text) { return *ledger::parse_rfc3339(text); }

Policy policy_with(const std::string& rules) {
    return Policy::parse(R"({"signers": "s", "groups": {"release": ["alice@example.com", "bob@example.com", "carol@example.com"]},
        "aliases": {"alice@example.com": ["alice"]}, "environments": {"production": {"requires": [)" + rules + "]}}}",
                         "policy.json");
}

ApprovalVerdict approval(const std::string& approver, const std::string& key, const std::string& role = "") {
    ApprovalVerdict v;
    v.file = approver + ".json";
    v.valid = true;
    v.statement.approver = approver;
    v.statement.role = role;
    v.key_fingerprint = key;
    v.signature_sha256 = "sha256:" + std::string(64, 'e');
    return v;
}

GateInputs inputs_with(std::vector<ApprovalVerdict> approvals) {
    GateInputs inputs;
    inputs.repository = "registry.example.com/team/app";
    inputs.digest = digest;
    inputs.child_digests = {child};
    inputs.builder = "alice";
    inputs.commit_author = "Bob Builder <bob@example.com>";
    inputs.deployer = "deploy-bot";
    inputs.environment = "production";
    inputs.now = at("2026-12-02T12:00:00Z");
    inputs.approvals = std::move(approvals);
    return inputs;
}

RuleResult approvals_result(const std::string& rule, std::vector<ApprovalVerdict> approvals) {
    static std::vector<Policy> keep;  // results point at their rule
    keep.push_back(policy_with(rule));
    Decision decision;
    GateInputs inputs = inputs_with(std::move(approvals));
    return evaluate_approvals(keep.back().rules_for("production")[0], keep.back(), inputs, decision);
}

TEST(GateApprovals, WhoCountsAndWhoDoesNot) {
    const std::string two = R"({"rule": "approvals", "min": 2, "from": ["group:release"], "distinctFrom": ["builder", "commitAuthor"]})";
    struct Case {
        std::string name;
        std::vector<ApprovalVerdict> approvals;
        bool pass;
        std::string reason;
    };
    ApprovalVerdict bad_signature = approval("carol@example.com", "K3");
    bad_signature.valid = false;
    bad_signature.why = "signature: the signature does not verify with key K3";
    const std::vector<Case> cases{
        {"an approver outside the group", {approval("carol@example.com", "K3"), approval("dave@example.com", "K4")}, false,
         "dave@example.com is not among group:release"},
        {"the builder (by alias)", {approval("alice@example.com", "K1"), approval("carol@example.com", "K3")}, false,
         "alice@example.com is the builder"},
        {"the commit author (by address)", {approval("bob@example.com", "K2"), approval("carol@example.com", "K3")}, false,
         "bob@example.com is the commitAuthor"},
        {"the same approver twice", {approval("carol@example.com", "K3"), approval("carol@example.com", "K3")}, false,
         "carol@example.com is counted once"},
        {"one key for two principals", {approval("carol@example.com", "K3"), approval("bob@example.com", "K3")}, false,
         "not counted"},
        {"a bad signature", {bad_signature, approval("carol@example.com", "K5")}, false, "does not verify"},
        {"none", {}, false, "0 of 2 approvals (no approval files)"},
    };
    for (const Case& c : cases) {
        const RuleResult r = approvals_result(two, c.approvals);
        EXPECT_EQ(r.pass, c.pass) << c.name << ": " << r.reason;
        EXPECT_NE(r.reason.find(c.reason), std::string::npos) << c.name << ": " << r.reason;
    }
    // The edge: exactly min.
    const std::string one = R"({"rule": "approvals", "min": 1, "from": ["group:release"], "distinctFrom": ["builder", "commitAuthor", "deployer"]})";
    const RuleResult exactly = approvals_result(one, {approval("carol@example.com", "K3")});
    EXPECT_TRUE(exactly.pass);
    EXPECT_EQ(exactly.reason, "1 of 1 approval: carol@example.com");
}

TEST(GateApprovals, SeparationOfDutiesThatCannotBeCheckedDenies) {
    const Policy policy = policy_with(R"({"rule": "approvals", "min": 1, "from": ["group:release"], "distinctFrom": ["commitAuthor"]})");
    GateInputs inputs = inputs_with({approval("carol@example.com", "K3")});
    inputs.commit_author.clear();
    Decision decision;
    const RuleResult r = evaluate_approvals(policy.rules_for("production")[0], policy, inputs, decision);
    EXPECT_FALSE(r.pass);
    EXPECT_NE(r.reason.find("does not say who wrote the commit"), std::string::npos) << r.reason;
}

TEST(GateApprovals, RoleMustMatch) {
    const std::string rule = R"({"rule": "approvals", "min": 1, "from": ["carol@example.com"], "role": "security-review"})";
    EXPECT_FALSE(approvals_result(rule, {approval("carol@example.com", "K3")}).pass);
    EXPECT_FALSE(approvals_result(rule, {approval("carol@example.com", "K3", "release")}).pass);
    const RuleResult ok = approvals_result(rule, {approval("carol@example.com", "K3", "security-review")});
    EXPECT_TRUE(ok.pass) << ok.reason;
    EXPECT_EQ(ok.reason, "1 of 1 approval (security-review): carol@example.com");
}

TEST(GateAge, AtTheEdge) {
    Rule rule;
    rule.type = Rule::Type::Age;
    rule.max_age = 72 * 3600;
    GateInputs inputs = inputs_with({});
    inputs.captured_at = inputs.now - 72 * 3600;
    EXPECT_TRUE(evaluate_age(rule, inputs).pass);
    inputs.captured_at = inputs.now - 72 * 3600 - 1;
    const RuleResult old = evaluate_age(rule, inputs);
    EXPECT_FALSE(old.pass);
    EXPECT_NE(old.reason.find("captured 3d ago"), std::string::npos) << old.reason;
    inputs.captured_at = inputs.now + 3600;  // in the future: an edited artifact or a wrong clock
    const RuleResult future = evaluate_age(rule, inputs);
    EXPECT_FALSE(future.pass);
    EXPECT_NE(future.reason.find("after the time of the gate"), std::string::npos) << future.reason;
    inputs.captured_at.reset();
    EXPECT_FALSE(evaluate_age(rule, inputs).pass);
}

// Reports shaped as Trivy and Grype write them (FORMATS.md §3): several results, the same CVE twice, a finding
// without severity, title-case and lower-case severities.
json trivy_report(const std::vector<std::string>& repo_digests) {
    return {{"SchemaVersion", 2}, {"ArtifactName", "registry.example.com/team/app:1.4"}, {"ArtifactType", "container_image"},
            {"Metadata", {{"ImageID", config}, {"RepoTags", {"registry.example.com/team/app:1.4"}}, {"RepoDigests", repo_digests}}},
            {"Results", json::array({{{"Target", "app (debian 12)"}, {"Class", "os-pkgs"},
                                      {"Vulnerabilities", json::array({{{"VulnerabilityID", "CVE-2024-0001"}, {"Severity", "CRITICAL"}},
                                                                       {{"VulnerabilityID", "CVE-2024-0002"}, {"Severity", "MEDIUM"}},
                                                                       {{"VulnerabilityID", "CVE-2024-0003"}}})}},
                                     {{"Target", "app/package-lock.json"}, {"Class", "lang-pkgs"},
                                      {"Vulnerabilities", json::array({{{"VulnerabilityID", "CVE-2024-0001"}, {"Severity", "CRITICAL"}},
                                                                       {{"VulnerabilityID", "CVE-2024-0004"}, {"Severity", "HIGH"}}})}},
                                     {{"Target", "app (secrets)"}, {"Class", "secret"}}})}};
}

json grype_report(const std::string& manifest_digest) {
    return {{"matches", json::array({{{"vulnerability", {{"id", "GHSA-aaaa-bbbb-cccc"}, {"severity", "High"}}},
                                      {"relatedVulnerabilities", json::array({{{"id", "CVE-2024-0009"}, {"severity", "Critical"}}})}},
                                     {{"vulnerability", {{"id", "CVE-2024-0010"}, {"severity", "Negligible"}}}}})},
            {"source", {{"type", "image"}, {"target", {{"userInput", "registry.example.com/team/app:1.4"}, {"imageID", config},
                                                        {"manifestDigest", manifest_digest}, {"repoDigests", json::array()}}}}},
            {"descriptor", {{"name", "grype"}, {"version", "0.80.0"}}}};
}

class GateCheck : public ::testing::Test {
protected:
    RuleResult check(const std::string& rule_json, const json& report, std::int64_t now = at("2026-12-02T12:00:00Z")) {
        policies.push_back(policy_with(rule_json));
        // ctest runs each test in its own process, two at a time: the name must be this process's own.
        const std::string path = ::testing::TempDir() + "gate-evidence-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(policies.size()) + ".json";
        std::ofstream(path) << (report.is_string() ? report.get<std::string>() : report.dump());
        GateInputs inputs = inputs_with({});
        inputs.now = now;
        const Rule& rule = policies.back().rules_for("production")[0];
        inputs.evidence[rule.name] = path;
        Decision decision;
        RuleResult r = evaluate_check(rule, inputs, decision);
        EXPECT_EQ(decision.evidence_digests.count(rule.name), 1u);
        return r;
    }
    std::vector<Policy> policies;
};

TEST_F(GateCheck, TrivyAboveAndBelowTheThreshold) {
    const json about = trivy_report({"registry.example.com/team/app@" + digest});
    const RuleResult high = check(R"({"rule": "check", "name": "trivy", "maxSeverity": "high"})", about);
    EXPECT_FALSE(high.pass);
    EXPECT_EQ(high.reason, "trivy: 1 CRITICAL (CVE-2024-0001) above HIGH");  // two copies, one finding
    EXPECT_TRUE(check(R"({"rule": "check", "name": "trivy", "maxSeverity": "critical"})", about).pass);
    const RuleResult medium = check(R"({"rule": "check", "name": "trivy", "maxSeverity": "MEDIUM"})", about);
    EXPECT_EQ(medium.reason, "trivy: 1 CRITICAL (CVE-2024-0001); 1 HIGH (CVE-2024-0004) above MEDIUM");
    // A finding with no severity counts as unknown, the lowest.
    const RuleResult none = check(R"({"rule": "check", "name": "trivy", "maxSeverity": "unknown"})", about);
    EXPECT_EQ(none.reason.find("CVE-2024-0003"), std::string::npos) << none.reason;
}

TEST_F(GateCheck, AcceptancesCoverEveryCopyUntilTheirDayEnds) {
    const json about = trivy_report({"registry.example.com/team/app@" + digest});
    const std::string rule = R"({"rule": "check", "name": "trivy", "maxSeverity": "high",
        "accept": [{"id": "CVE-2024-0001", "until": "2026-12-31", "reason": "not reachable"}]})";
    const RuleResult accepted = check(rule, about, at("2026-12-31T23:59:59Z"));
    EXPECT_TRUE(accepted.pass) << accepted.reason;
    EXPECT_NE(accepted.reason.find("accepted: CVE-2024-0001"), std::string::npos) << accepted.reason;
    const RuleResult expired = check(rule, about, at("2027-01-01T00:00:00Z"));
    EXPECT_FALSE(expired.pass);
    EXPECT_NE(expired.reason.find("counting for nothing: CVE-2024-0001 (expired 2026-12-31)"), std::string::npos) << expired.reason;
}

TEST_F(GateCheck, GrypeGhsaWithItsCveAndNegligible) {
    const std::string rule = R"({"rule": "check", "name": "grype", "maxSeverity": "medium",
        "accept": [{"id": "CVE-2024-0009", "until": "2027-01-31", "reason": "fixed upstream"}]})";
    const RuleResult r = check(rule, grype_report(digest));
    EXPECT_TRUE(r.pass) << r.reason;  // the GHSA finding is accepted through its CVE; Negligible counts as low
    const RuleResult low = check(R"({"rule": "check", "name": "grype", "maxSeverity": "unknown"})", grype_report(digest));
    EXPECT_NE(low.reason.find("1 LOW (CVE-2024-0010)"), std::string::npos) << low.reason;
}

TEST_F(GateCheck, TheReportMustBeAboutTheDigest) {
    const std::string rule = R"({"rule": "check", "name": "trivy", "maxSeverity": "critical"})";
    const RuleResult child_report = check(rule, trivy_report({"registry.example.com/team/app@" + child}));
    EXPECT_TRUE(child_report.pass) << child_report.reason;
    EXPECT_NE(child_report.reason.find("about the index child " + child), std::string::npos);
    // A short Docker Hub name is still the digest's report (the digest is the content).
    EXPECT_TRUE(check(rule, trivy_report({"alpine@" + digest})).pass);
    const RuleResult another = check(rule, trivy_report({"registry.example.com/team/app@" + other}));
    EXPECT_FALSE(another.pass);
    EXPECT_NE(another.reason.find("is about registry.example.com/team/app@" + other + ", not " + digest), std::string::npos)
        << another.reason;
    const RuleResult image_id = check(rule, trivy_report({}));
    EXPECT_FALSE(image_id.pass);
    EXPECT_NE(image_id.reason.find("names only the image ID " + config), std::string::npos) << image_id.reason;
    json filesystem = trivy_report({"registry.example.com/team/app@" + digest});
    filesystem["ArtifactType"] = "filesystem";  // a directory named like the image says nothing about it
    const RuleResult fs_scan = check(rule, filesystem);
    EXPECT_FALSE(fs_scan.pass);
    EXPECT_NE(fs_scan.reason.find("a Trivy filesystem scan, not of an image"), std::string::npos) << fs_scan.reason;
    const RuleResult legacy = check(rule, json::array({{{"Target", "x"}, {"Vulnerabilities", json::array()}}}));
    EXPECT_FALSE(legacy.pass);
    EXPECT_NE(legacy.reason.find("before 0.20"), std::string::npos);
    EXPECT_FALSE(check(R"({"rule": "check", "name": "grype", "maxSeverity": "critical"})", grype_report(config)).pass);
}

TEST_F(GateCheck, ReportsNotShapedAsTheScannerWritesThemAreRefused) {
    const std::string rule = R"({"rule": "check", "name": "trivy", "maxSeverity": "medium"})";
    json severe = trivy_report({"r@" + digest});
    severe["Results"][0]["Vulnerabilities"][0]["Severity"] = "Severe";
    json numeric = trivy_report({"r@" + digest});
    numeric["Results"][0]["Vulnerabilities"][0]["Severity"] = 4;
    json results_string = trivy_report({"r@" + digest});
    results_string["Results"] = "oops";
    json strings = trivy_report({"r@" + digest});
    strings["Results"][0]["Vulnerabilities"] = {"CVE-1"};
    for (const json& bad : {severe, numeric, results_string, strings}) {
        try {
            check(rule, bad);
            ADD_FAILURE() << bad.dump().substr(0, 200);
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("not a report as Trivy writes it"), std::string::npos) << e.what();
        }
    }
}

TEST_F(GateCheck, ACveIsNotCoveredByAnotherCveItLists) {
    json report = grype_report(digest);
    report["matches"][0]["vulnerability"]["id"] = "CVE-2023-44981";
    report["matches"][0]["vulnerability"]["severity"] = "Critical";
    report["matches"][0]["relatedVulnerabilities"] = json::array({{{"id", "CVE-2023-32360"}}});
    const RuleResult r = check(R"({"rule": "check", "name": "grype", "maxSeverity": "medium",
        "accept": [{"id": "CVE-2023-32360", "until": "2027-01-31", "reason": "CUPS not installed"}]})", report);
    EXPECT_FALSE(r.pass) << r.reason;
    const RuleResult ghsa = check(R"({"rule": "check", "name": "grype", "maxSeverity": "medium",
        "accept": [{"id": "CVE-2024-0009", "until": "2027-01-31", "reason": "r"}]})", grype_report(digest));
    EXPECT_NE(ghsa.reason.find("accepted: GHSA-aaaa-bbbb-cccc (as CVE-2024-0009)"), std::string::npos) << ghsa.reason;
}

TEST_F(GateCheck, GenericResults) {
    const std::string rule = R"({"rule": "check", "name": "load-test"})";
    const RuleResult pass = check(rule, {{"name", "load-test"}, {"digest", digest}, {"status", "pass"}, {"url", "https://ci.example.com/1"}});
    EXPECT_TRUE(pass.pass);
    EXPECT_EQ(pass.reason, "load-test: pass https://ci.example.com/1");
    EXPECT_FALSE(check(rule, {{"name", "load-test"}, {"digest", digest}, {"status", "fail"}}).pass);
    EXPECT_FALSE(check(rule, {{"name", "load-test"}, {"digest", other}, {"status", "pass"}}).pass);
    const RuleResult other_check = check(rule, {{"name", "unit-tests"}, {"digest", digest}, {"status", "pass"}});
    EXPECT_FALSE(other_check.pass);  // a pass of another check is no pass of this one
    EXPECT_NE(other_check.reason.find("the result is for \"unit-tests\""), std::string::npos) << other_check.reason;
    EXPECT_FALSE(check(rule, trivy_report({"r@" + digest})).pass);  // a scan report where a result was asked for
    EXPECT_THROW(check(rule, {{"name", "k6"}, {"digest", digest}, {"status", "ok"}}), Error);
    EXPECT_THROW(check(rule, json("not json {")), Error);
    // No evidence given: a fail that says which flag to pass.
    Decision decision;
    GateInputs inputs = inputs_with({});
    policies.push_back(policy_with(rule));
    const RuleResult missing = evaluate_check(policies.back().rules_for("production")[0], inputs, decision);
    EXPECT_EQ(missing.reason, "load-test: no evidence given: pass --evidence load-test=FILE");
}

// Every real report: it reads, each digest it names ties it to an artifact of that digest, and its image ID never does.
TEST(GateEvidenceCorpus, EveryRealReportReadsAndTiesOnlyByManifestDigests) {
    const std::filesystem::path dir = std::filesystem::path(DIGESTFLOW_CORPUS_DIR) / "scan-reports" / "reports";
    ASSERT_TRUE(std::filesystem::exists(dir));
    std::size_t reports = 0, tied = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path());
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        SCOPED_TRACE(entry.path().string());
        const Evidence evidence = read_evidence(text, entry.path().string());
        ++reports;
        EXPECT_TRUE(evidence.format == "trivy" || evidence.format == "trivy-legacy" || evidence.format == "grype") << evidence.format;
        const std::string name = entry.path().filename().string();
        EXPECT_EQ(evidence.format.rfind(name.find("grype") != std::string::npos ? "grype" : "trivy", 0), 0u);
        for (const std::string& id : evidence.image_ids)
            for (const std::string& subject : evidence.subjects) EXPECT_EQ(subject.find(id), std::string::npos);
        for (const std::string& subject : evidence.subjects) {
            const auto at_sign = subject.rfind('@');
            const std::string d = at_sign == std::string::npos ? subject : subject.substr(at_sign + 1);
            if (d.rfind("sha256:", 0) != 0) continue;  // "REDACTED", "" in anonymised reports
            ++tied;
        }
    }
    EXPECT_GE(reports, 40u);
    EXPECT_GE(tied, 10u);
}

}  // namespace
