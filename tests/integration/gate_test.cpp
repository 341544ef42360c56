// gate-check as a black box with real SSH keys made by ssh-keygen (ed25519, ecdsa, rsa) and real signatures,
// each cross-checked with `ssh-keygen -Y verify`; every way an approval counts for nothing; soak from a ledger
// written by record (ended by a later deployment, voided by an incident); evidence; the step summary, the
// artifact's history entry, and the policy schema judged by Python's jsonschema.
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>

using namespace digestflow::testsupport;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string repo = "127.0.0.1:1/team/app";  // never contacted: artifacts are captured --offline
const std::string digest = "sha256:" + std::string(60, 'a') + "0001";
const std::string other_digest = "sha256:" + std::string(60, 'a') + "0002";

std::string rfc3339(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}
std::string hours_from_now(int hours) { return rfc3339(std::chrono::system_clock::now() + std::chrono::hours(hours)); }

class GateTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        keys = new TempDir("digestflow-gate-keys");
        for (const auto& [name, type] : std::vector<std::pair<std::string, std::vector<std::string>>>{
                 {"alice", {"-t", "ed25519"}}, {"bob", {"-t", "ecdsa", "-b", "256"}}, {"carol", {"-t", "rsa", "-b", "3072"}},
                 {"dave", {"-t", "ed25519"}}, {"mallory", {"-t", "ed25519"}}}) {
            std::vector<std::string> args{"ssh-keygen", "-q", "-N", "", "-C", name, "-f", keys->file(name)};
            args.insert(args.begin() + 2, type.begin(), type.end());
            run_checked(args);
        }
        auto key_of = [](const std::string& name) {
            const std::string line = read_text_file(keys->file(name + ".pub"));
            return line.substr(0, line.find(' ', line.find(' ') + 1));
        };
        write_text_file(keys->file("allowed_signers"),
                        "# release managers\nalice@example.com " + key_of("alice") + "\nbob@example.com " + key_of("bob") +
                            "\ncarol@example.com namespaces=\"digestflow-approval\" " + key_of("carol") +
                            "\ndave@example.com valid-before=\"20200101Z\" " + key_of("dave") + "\n");
    }
    static void TearDownTestSuite() { delete keys; }

    void SetUp() override {
        write_text_file(work.file("allowed_signers"), read_text_file(keys->file("allowed_signers")));
        policy = work.file("gate-policy.json");
        write_text_file(policy, policy_text());
        artifact = capture(digest, "a.json");
        fs::create_directories(work.file("approvals"));
    }

    std::string policy_text(const std::string& extra_rule = "") const {
        return R"({"signers": "allowed_signers",
  "groups": {"release": ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]},
  "environments": {
    "staging": {"requires": [{"rule": "age", "max": "30d"}]},
    "production": {"requires": [
      {"rule": "approvals", "min": 2, "from": ["group:release"], "distinctFrom": ["builder"]})" + extra_rule + R"(]}}})";
    }

    std::string capture(const std::string& d, const std::string& name) {
        const std::string path = work.file(name);
        const RunResult r = run_tool("capture-digest", {"--image", repo + ":1.4", "--digest", d, "--offline", "--out", path},
                                     {{"USER", "ci-builder"}, {"GITHUB_ACTOR", ""}, {"GITLAB_USER_LOGIN", ""}});
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        return path;
    }

    RunResult approve(const std::string& who, const std::string& out, std::vector<std::string> extra = {},
                      const std::string& artifact_path = "") {
        std::vector<std::string> args{"approve", "--artifact", artifact_path.empty() ? artifact : artifact_path, "--policy", policy,
                                      "--environment", "production", "--key", keys->file(who), "--identity", who + "@example.com",
                                      "--out", out};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_tool("gate-check", args);
    }

    RunResult gate(const std::string& approvals, std::vector<std::string> extra = {}, std::map<std::string, std::string> env = {}) {
        std::vector<std::string> args{"--artifact", artifact, "--policy", policy, "--environment", "production",
                                      "--approvals", approvals, "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_tool("gate-check", args, env);
    }

    // The reason the approvals rule gives, from --json.
    static std::string approvals_reason(const RunResult& r) {
        const json out = json_output(r);
        for (const auto& rule : out["rules"])
            if (rule["rule"] == "approvals") return rule["reason"];
        return "";
    }

    static TempDir* keys;
    TempDir work{"digestflow-gate"};
    std::string policy, artifact;
};

TempDir* GateTest::keys = nullptr;

TEST_F(GateTest, TwoSignedApprovalsAllowAndSshKeygenAgrees) {
    const RunResult none = gate(work.file("approvals"));
    EXPECT_EQ(none.exit_code, 1) << none.describe();
    EXPECT_EQ(json_output(none)["decision"], "deny");
    for (const std::string who : {"alice", "bob", "carol"}) {
        const std::string file = work.file("approvals/" + who + ".json");
        const RunResult made = approve(who, file, {"--comment", "looks good"});
        ASSERT_EQ(made.exit_code, 0) << made.describe();
        // The independent judge: ssh-keygen verifies the very bytes that were signed.
        const json approval = json::parse(read_text_file(file));
        write_text_file(work.file(who + ".sig"), approval["signature"].get<std::string>());
        RunOptions with_statement;
        with_statement.stdin_text = approval["statement"].get<std::string>();
        const RunResult judged = run_command({"ssh-keygen", "-Y", "verify", "-f", work.file("allowed_signers"), "-I",
                                              who + "@example.com", "-n", "digestflow-approval", "-s", work.file(who + ".sig")},
                                             with_statement);
        EXPECT_EQ(judged.exit_code, 0) << who << ": " << judged.describe();
        EXPECT_EQ(json::parse(approval["statement"].get<std::string>())["digest"], digest);
    }
    const std::string summary = work.file("summary.md");
    const std::string outputs = work.file("github_output");
    const RunResult allowed = gate(work.file("approvals"), {},
                                   {{"GITHUB_ACTIONS", "true"}, {"GITHUB_STEP_SUMMARY", summary}, {"GITHUB_OUTPUT", outputs}});
    EXPECT_EQ(allowed.exit_code, 0) << allowed.describe();
    EXPECT_EQ(approvals_reason(allowed), "3 of 2 approvals: alice@example.com, bob@example.com, carol@example.com");
    EXPECT_NE(read_text_file(summary).find("| approvals | pass | 3 of 2 approvals"), std::string::npos) << read_text_file(summary);
    EXPECT_NE(read_text_file(outputs).find("decision=allow\nenvironment=production\npolicy=sha256:"), std::string::npos)
        << read_text_file(outputs);
    const json history = json::parse(read_text_file(artifact))["history"];
    const json& entry = history.back();
    EXPECT_EQ(entry["step"], "gate");
    EXPECT_EQ(entry["decision"], "allow");
    EXPECT_EQ(entry["environment"], "production");
    EXPECT_EQ(entry["approvals"].size(), 3u);
    EXPECT_EQ(entry["policy"].get<std::string>().rfind("sha256:", 0), 0u);
    EXPECT_FALSE(entry.contains("evaluatedAt"));
    EXPECT_EQ(schema_problem(artifact), "");
    // A replay is recorded as one: the real time, and the time it evaluated as.
    ASSERT_EQ(gate(work.file("approvals"), {"--now", hours_from_now(1)}).exit_code, 0);
    const json replay = json::parse(read_text_file(artifact))["history"].back();
    EXPECT_TRUE(replay.contains("evaluatedAt"));
    EXPECT_NE(replay["at"], replay["evaluatedAt"]);
    // An approval file of another version is refused, not read as this one.
    json future = json::parse(read_text_file(work.file("approvals/bob.json")));
    future["digestflowApproval"] = 2;
    write_text_file(work.file("approvals/bob.json"), future.dump());
    const RunResult newer = gate(work.file("approvals"), {"--dry-run"});
    EXPECT_EQ(newer.exit_code, 2) << newer.describe();
    EXPECT_NE(newer.stderr_text.find("is not version 1"), std::string::npos) << newer.describe();
}

TEST_F(GateTest, ApprovalsThatCountForNothingSayWhy) {
    ASSERT_EQ(approve("bob", work.file("approvals/bob.json")).exit_code, 0);  // one good approval: min is 2
    struct Case {
        std::string name, file, why;
    };
    std::vector<Case> cases;
    // Tampered: the statement says staging, the signature was over production.
    {
        const std::string file = work.file("tampered.json");
        ASSERT_EQ(approve("alice", file).exit_code, 0);
        json a = json::parse(read_text_file(file));
        std::string statement = a["statement"];
        statement.replace(statement.find("\"production\""), 12, "\"staging\"");
        a["statement"] = statement;
        write_text_file(file, a.dump());
        cases.push_back({"tampered statement", file, "signature: the signature does not verify"});
    }
    {
        const std::string file = work.file("other-digest.json");
        ASSERT_EQ(approve("alice", file, {}, capture(other_digest, "other.json")).exit_code, 0);
        cases.push_back({"another digest", file, "it approves " + other_digest});
    }
    {
        const std::string file = work.file("staging.json");
        const RunResult r = run_tool("gate-check", {"approve", "--artifact", artifact, "--policy", policy, "--environment", "staging",
                                                    "--key", keys->file("alice"), "--identity", "alice@example.com", "--out", file});
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        cases.push_back({"another environment", file, "it approves environment staging"});
    }
    {
        // Signed under another policy file (other bytes, other sha256).
        const std::string second = work.file("second-policy.json");
        write_text_file(second, policy_text(R"(, {"rule": "age", "max": "30d"})"));
        const std::string file = work.file("second-policy-approval.json");
        const RunResult r = run_tool("gate-check", {"approve", "--artifact", artifact, "--policy", second, "--environment",
                                                    "production", "--key", keys->file("alice"), "--identity", "alice@example.com",
                                                    "--out", file});
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        cases.push_back({"another policy", file, "it was given under policy"});
    }
    {
        const std::string file = work.file("expired.json");
        ASSERT_EQ(approve("alice", file, {"--now", hours_from_now(-10), "--expires", "1h"}).exit_code, 0);
        cases.push_back({"expired", file, "it expired at"});
    }
    // Signed with bob's key but claiming alice: made by hand, as gate-check approve refuses to.
    auto forge = [&](const std::string& name, const std::string& key, const std::string& approver) {
        const std::string file = work.file(name);
        ASSERT_EQ(approve("bob", file).exit_code, 0);
        json a = json::parse(read_text_file(file));
        json statement = json::parse(a["statement"].get<std::string>());
        statement["approver"] = approver;
        RunOptions in;
        in.stdin_text = statement.dump();
        const RunResult signed_run = run_command({"ssh-keygen", "-q", "-Y", "sign", "-f", keys->file(key), "-n", "digestflow-approval"}, in);
        ASSERT_EQ(signed_run.exit_code, 0) << signed_run.describe();
        a["statement"] = statement.dump();
        a["signature"] = signed_run.stdout_text;
        write_text_file(file, a.dump());
    };
    forge("bob-as-alice.json", "bob", "alice@example.com");
    cases.push_back({"a key not allowed for that principal", work.file("bob-as-alice.json"), "is allowed in"});
    forge("mallory.json", "mallory", "carol@example.com");
    cases.push_back({"a key not in the signers file", work.file("mallory.json"), "is not in"});
    forge("dave.json", "dave", "dave@example.com");
    cases.push_back({"valid-before passed", work.file("dave.json"), "the key expired at 2020-01-01T00:00:00Z (valid-before)"});
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        const std::string dir = work.file("case-" + std::to_string(&c - cases.data()));
        fs::create_directories(dir);
        fs::copy_file(work.file("approvals/bob.json"), dir + "/bob.json");
        fs::copy_file(c.file, dir + "/candidate.json");
        const RunResult r = gate(dir, {"--dry-run"});
        EXPECT_EQ(r.exit_code, 1) << r.describe();
        const std::string reason = approvals_reason(r);
        EXPECT_NE(reason.find("1 of 2 approvals: bob@example.com; not counted: " + dir + "/candidate.json ("), std::string::npos) << reason;
        EXPECT_NE(reason.find(c.why), std::string::npos) << reason;
    }
}

TEST_F(GateTest, TheBuilderCannotApproveAndApproveRefusesKeysThatWouldNotCount) {
    json p = json::parse(policy_text());
    p["aliases"] = {{"carol@example.com", {"ci-builder"}}};
    write_text_file(policy, p.dump());
    ASSERT_EQ(approve("carol", work.file("approvals/carol.json")).exit_code, 0);
    ASSERT_EQ(approve("alice", work.file("approvals/alice.json")).exit_code, 0);
    const RunResult r = gate(work.file("approvals"), {"--dry-run"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(approvals_reason(r).find("carol@example.com is the builder"), std::string::npos) << approvals_reason(r);
    // approve: a key the signers file does not allow for the identity, and one whose validity has ended.
    const RunResult wrong = run_tool("gate-check", {"approve", "--artifact", artifact, "--policy", policy, "--environment",
                                                    "production", "--key", keys->file("mallory"), "--identity",
                                                    "alice@example.com", "--out", work.file("no.json")});
    EXPECT_EQ(wrong.exit_code, 2) << wrong.describe();
    EXPECT_NE(wrong.stderr_text.find("this approval would not count"), std::string::npos) << wrong.describe();
    EXPECT_FALSE(fs::exists(work.file("no.json")));
    EXPECT_EQ(approve("dave", work.file("dave.json")).exit_code, 2);
    EXPECT_EQ(run_tool("gate-check", {"approve", "--artifact", artifact}).exit_code, 2);
    EXPECT_EQ(approve("alice", work.file("long.json"), {"--expires", "400d"}).exit_code, 2);
    EXPECT_EQ(gate(work.file("approvals"), {"--dry-run", "--deployer", ""}).exit_code, 2);  // an unset CI variable
}

TEST_F(GateTest, TheCommitAuthorCannotApprove) {
    json p = json::parse(policy_text());
    p["environments"]["production"]["requires"][0]["distinctFrom"] = {"builder", "commitAuthor"};
    write_text_file(policy, p.dump());
    // GitLab says who wrote the commit; capture-digest records it as build.commitAuthor.
    const RunResult captured = run_tool("capture-digest", {"--image", repo + ":1.4", "--digest", digest, "--offline", "--force",
                                                           "--out", artifact},
                                        {{"CI_COMMIT_AUTHOR", "Carol Example <CAROL@example.com>"}});
    ASSERT_EQ(captured.exit_code, 0) << captured.describe();
    EXPECT_EQ(json::parse(read_text_file(artifact))["build"]["commitAuthor"], "Carol Example <CAROL@example.com>");
    ASSERT_EQ(approve("carol", work.file("approvals/carol.json")).exit_code, 0);
    ASSERT_EQ(approve("alice", work.file("approvals/alice.json")).exit_code, 0);
    const RunResult r = gate(work.file("approvals"), {"--dry-run"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(approvals_reason(r).find("carol@example.com is the commitAuthor"), std::string::npos) << approvals_reason(r);
    // Given on the command line it wins over the environment.
    const RunResult flagged = run_tool("capture-digest", {"--image", repo + ":1.4", "--digest", digest, "--offline", "--force",
                                                          "--commit-author", "Dave <dave@example.com>", "--out", artifact},
                                       {{"CI_COMMIT_AUTHOR", "Carol Example <carol@example.com>"}});
    ASSERT_EQ(flagged.exit_code, 0) << flagged.describe();
    EXPECT_EQ(json::parse(read_text_file(artifact))["build"]["commitAuthor"], "Dave <dave@example.com>");
}

TEST_F(GateTest, SoakFromTheLedgerRecordWrites) {
    write_text_file(policy, R"({"environments": {"production": {"requires": [
        {"rule": "promoted-from", "environment": "staging", "minSoak": "24h"}]}}})");
    const std::string ledger = work.file("deployments.jsonl");
    auto soak = [&](const std::string& now) {
        const RunResult r = run_tool("gate-check", {"--artifact", artifact, "--policy", policy, "--environment", "production",
                                                    "--ledger", ledger, "--now", now, "--dry-run", "--json"});
        return std::make_pair(r.exit_code, json_output(r)["rules"][0]["reason"].get<std::string>());
    };
    const RunResult unknown = run_tool("gate-check", {"--artifact", artifact, "--policy", policy, "--environment", "production",
                                                      "--dry-run"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.stdout_text.find("pass --ledger FILE"), std::string::npos) << unknown.describe();
    ASSERT_EQ(run_tool("record", {"--artifact", artifact, "--environment", "staging", "--ledger", ledger}).exit_code, 0);
    auto [early, early_reason] = soak(hours_from_now(1));
    EXPECT_EQ(early, 1) << early_reason;
    EXPECT_NE(early_reason.find("soak 1h"), std::string::npos) << early_reason;
    EXPECT_NE(early_reason.find(" of 1d: in staging since "), std::string::npos) << early_reason;
    auto [soaked, soaked_reason] = soak(hours_from_now(25));
    EXPECT_EQ(soaked, 0) << soaked_reason;
    // Another digest deployed to staging ends the run: in the future it has soaked almost nothing.
    const std::string other = capture(other_digest, "other.json");
    ASSERT_EQ(run_tool("record", {"--artifact", other, "--environment", "staging", "--ledger", ledger}).exit_code, 0);
    auto [ended, ended_reason] = soak(hours_from_now(48));
    EXPECT_EQ(ended, 1) << ended_reason;
    EXPECT_NE(ended_reason.find("replaced by " + other_digest), std::string::npos) << ended_reason;
    // Back in staging, then an incident against it there: the soak does not count.
    ASSERT_EQ(run_tool("record", {"--artifact", artifact, "--environment", "staging", "--ledger", ledger}).exit_code, 0);
    EXPECT_EQ(soak(hours_from_now(25)).first, 0);
    const RunResult incident = run_tool("record", {"incident", "--ledger", ledger, "--environment", "staging", "--note", "5xx spike"});
    ASSERT_EQ(incident.exit_code, 0) << incident.describe();
    auto [voided, voided_reason] = soak(hours_from_now(25));
    EXPECT_EQ(voided, 1);
    EXPECT_NE(voided_reason.find("an incident was recorded against it in staging"), std::string::npos) << voided_reason;
    EXPECT_NE(voided_reason.find("5xx spike"), std::string::npos) << voided_reason;
    // Deploying another digest and this one again does not wash the incident out.
    ASSERT_EQ(run_tool("record", {"--artifact", other, "--environment", "staging", "--ledger", ledger}).exit_code, 0);
    ASSERT_EQ(run_tool("record", {"--artifact", artifact, "--environment", "staging", "--ledger", ledger}).exit_code, 0);
    EXPECT_EQ(soak(hours_from_now(25)).first, 1);
    // A ledger that does not verify (a line removed) is no evidence of a soak.
    const std::string clean = work.file("clean.jsonl");
    ASSERT_EQ(run_tool("record", {"--artifact", artifact, "--environment", "staging", "--ledger", clean}).exit_code, 0);
    ASSERT_EQ(run_tool("record", {"--artifact", other, "--environment", "staging", "--ledger", clean}).exit_code, 0);
    ASSERT_EQ(run_tool("record", {"--artifact", artifact, "--environment", "prod", "--ledger", clean}).exit_code, 0);
    std::string lines = read_text_file(clean);
    const auto second = lines.find('\n') + 1;
    lines.erase(second, lines.find('\n', second) + 1 - second);  // the deployment that ended the run
    write_text_file(clean, lines);
    const RunResult broken = run_tool("gate-check", {"--artifact", artifact, "--policy", policy, "--environment", "production",
                                                     "--ledger", clean, "--now", hours_from_now(25), "--dry-run"});
    EXPECT_EQ(broken.exit_code, 1) << broken.describe();
    EXPECT_NE(broken.stdout_text.find("does not verify"), std::string::npos) << broken.describe();
}

TEST_F(GateTest, EvidenceAndBadInputs) {
    write_text_file(policy, R"({"environments": {"production": {"requires": [
        {"rule": "check", "name": "trivy", "maxSeverity": "high"}]}}})");
    const std::string report = work.file("trivy.json");
    write_text_file(report, json{{"SchemaVersion", 2}, {"ArtifactName", repo + "@" + digest},
                                 {"Metadata", {{"RepoDigests", {repo + "@" + digest}}}},
                                 {"Results", json::array({{{"Target", "x"}, {"Vulnerabilities", json::array({{{"VulnerabilityID", "CVE-1"}, {"Severity", "HIGH"}}})}}})}}
                                .dump());
    std::vector<std::string> base{"--artifact", artifact, "--policy", policy, "--environment", "production", "--dry-run"};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        return run_tool("gate-check", args);
    };
    const RunResult pass = with({"--evidence", "trivy=" + report});
    EXPECT_EQ(pass.exit_code, 0) << pass.describe();
    EXPECT_NE(pass.stdout_text.find("pass  check: trivy: 1 finding, none above HIGH"), std::string::npos) << pass.stdout_text;
    EXPECT_EQ(with({"--evidence", "trivvy=" + report}).exit_code, 2);  // a typo would leave the evidence unread
    EXPECT_EQ(with({"--evidence", "trivy"}).exit_code, 2);
    EXPECT_EQ(with({"--evidence", "trivy=" + work.file("missing.json")}).exit_code, 2);
    write_text_file(work.file("broken.json"), "{\"matches\": ");
    EXPECT_EQ(with({"--evidence", "trivy=" + work.file("broken.json")}).exit_code, 2);
    // A bad policy: exit 2, the JSON path named; the same file judged by the schema.
    write_text_file(policy, R"({"environments": {"production": {"requires": [{"rule": "age", "max": "24h", "maxAge": "1d"}]}}})");
    const RunResult bad = with({});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.stderr_text.find("$.environments.production.requires[0].maxAge: unknown field"), std::string::npos) << bad.describe();
    const std::string judge = "import json,sys,jsonschema\ns=json.load(open(sys.argv[1]))\n"
                              "v=jsonschema.Draft202012Validator(s)\nprint('ok' if v.is_valid(json.load(open(sys.argv[2]))) else 'bad')\n";
    const std::string schema = std::string(DIGESTFLOW_SCHEMA_DIR) + "/gate-policy.schema.json";
    EXPECT_EQ(run_checked({"python3", "-c", judge, schema, policy}).stdout_text, "bad\n");
    write_text_file(policy, policy_text(R"(, {"rule": "window", "deny": ["Fri 15:00-Mon 06:00"], "timezone": "Europe/Berlin"},
        {"rule": "check", "name": "trivy", "maxSeverity": "high", "accept": [{"id": "CVE-1", "until": "2027-01-31", "reason": "r"}]},
        {"rule": "promoted-from", "environment": "staging", "minSoak": "1d12h"})"));
    EXPECT_EQ(run_checked({"python3", "-c", judge, schema, policy}).stdout_text, "ok\n");
    EXPECT_NE(with({}).exit_code, 2);
}

}  // namespace
