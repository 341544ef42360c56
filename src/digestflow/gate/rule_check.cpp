// The check rule: the named evidence file must be about the artifact's digest (or one of its index children;
// never its image ID) and pass: a generic result says "pass", a scan report has no finding above maxSeverity
// that an unexpired acceptance does not cover.
#include "digestflow/digest.hpp"
#include "digestflow/gate/evaluation.hpp"
#include "digestflow/gate/evidence.hpp"
#include "digestflow/ledger/timestamp.hpp"
#include "digestflow/text_file.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace digestflow::gate {

namespace {

constexpr std::size_t k_max_evidence_bytes = 64 * 1024 * 1024;

std::string digest_part(const std::string& subject) {
    const auto at = subject.rfind('@');
    return at == std::string::npos ? subject : subject.substr(at + 1);
}

// The subject that ties the report to the artifact: "" when none does.
std::string tying_subject(const Evidence& evidence, const GateInputs& inputs, std::string& child) {
    for (const std::string& subject : evidence.subjects) {
        const std::string digest = digest_part(subject);
        if (digest == inputs.digest) return subject;
        if (std::find(inputs.child_digests.begin(), inputs.child_digests.end(), digest) != inputs.child_digests.end()) {
            child = digest;
            return subject;
        }
    }
    return "";
}

std::string untied_reason(const Evidence& evidence, const GateInputs& inputs) {
    if (!evidence.not_an_image.empty())
        return "the report is " + evidence.not_an_image + ", not of an image, so it says nothing about " + inputs.digest +
               "; scan the image by digest: " + inputs.repository + "@" + inputs.digest;
    if (evidence.format == "trivy-legacy")
        return "a Trivy report from before 0.20 (a bare array of results) names no image, so it cannot be tied to " +
               inputs.digest + "; scan again with a current Trivy";
    if (evidence.subjects.empty() && !evidence.image_ids.empty())
        return "the report names only the image ID " + evidence.image_ids.front() +
               " (a config digest, never compared with a manifest digest), so it cannot be tied to " + inputs.digest +
               "; scan the image by digest: " + inputs.repository + "@" + inputs.digest;
    if (evidence.subjects.empty())
        return "the report names no image digest (a scan of a tarball, a directory or a local image without a "
               "repository digest), so it cannot be tied to " + inputs.digest + "; scan the image by digest: " +
               inputs.repository + "@" + inputs.digest;
    std::string named;
    for (const auto& s : evidence.subjects) named += (named.empty() ? "" : ", ") + s;
    return "the report is about " + named + ", not " + inputs.digest;
}

}  // namespace

RuleResult evaluate_check(const Rule& rule, const GateInputs& inputs, Decision& decision) {
    RuleResult result;
    const std::string label = rule.name + ": ";
    auto file = inputs.evidence.find(rule.name);
    if (file == inputs.evidence.end()) {
        result.reason = label + "no evidence given: pass --evidence " + rule.name + "=FILE";
        return result;
    }
    InputFileOptions options;
    options.max_bytes = k_max_evidence_bytes;
    const std::string text = read_text_file(file->second, "--evidence " + rule.name, options);
    decision.evidence_digests[rule.name] = Digest::of(text).str();
    const Evidence evidence = read_evidence(text, file->second);
    result.details = {{"file", file->second}, {"format", evidence.format}, {"sha256", decision.evidence_digests[rule.name]}};

    std::string child;
    const std::string subject = tying_subject(evidence, inputs, child);
    if (subject.empty()) {
        result.reason = label + untied_reason(evidence, inputs);
        return result;
    }
    result.details["subject"] = subject;
    const std::string about = child.empty() ? "" : " (about the index child " + child + ")";
    if (evidence.format == "result") {
        if (evidence.name != rule.name) {
            result.reason = label + "the result is for " + (evidence.name.empty() ? std::string("no named check") : "\"" + evidence.name + "\"") +
                            ", not " + rule.name + " (its \"name\" must be the check's)";
            return result;
        }
        if (rule.max_severity) {
            result.reason = label + "the policy expects a scan report (maxSeverity), this is a pass/fail result";
            return result;
        }
        result.pass = evidence.passed;
        result.reason = label + (evidence.passed ? "pass" : "FAIL") + about + (evidence.url.empty() ? "" : " " + evidence.url);
        return result;
    }
    if (!rule.max_severity) {
        result.reason = label + "a " + evidence.format + " report needs maxSeverity in the rule";
        return result;
    }
    // Acceptances in force, by id; one covers every copy of its finding (and a finding known by an alias).
    std::set<std::string> accepted;
    std::vector<std::string> expired;
    for (const AcceptedFinding& a : rule.accept) {
        if (inputs.now <= a.until) accepted.insert(a.id);
        else expired.push_back(a.id + " (expired " + a.until_text + ")");
    }
    std::map<std::string, Severity> above;  // id -> its highest severity
    std::set<std::string> covered, all;
    for (const Finding& f : evidence.findings) {
        all.insert(f.id);
        if (f.severity <= *rule.max_severity) continue;
        // A finding is accepted by its own id; one keyed by an advisory id (GHSA-, ALAS-, …) also by the CVE
        // Grype relates it to. A CVE never covers another CVE that merely lists it.
        std::string by = accepted.count(f.id) ? f.id : "";
        if (by.empty() && f.id.rfind("CVE-", 0) != 0)
            for (const std::string& alias : f.aliases)
                if (accepted.count(alias)) by = alias;
        if (!by.empty()) {
            covered.insert(by == f.id ? f.id : f.id + " (as " + by + ")");
            continue;
        }
        auto [it, inserted] = above.emplace(f.id, f.severity);
        if (!inserted) it->second = std::max(it->second, f.severity);
    }
    result.pass = above.empty();
    std::map<Severity, std::vector<std::string>, std::greater<>> by_severity;
    for (const auto& [id, severity] : above) by_severity[severity].push_back(id);
    std::string counts;
    for (const auto& [severity, ids] : by_severity) {
        std::string list;
        for (std::size_t i = 0; i < ids.size() && i < 5; ++i) list += (i ? ", " : "") + ids[i];
        if (ids.size() > 5) list += ", …";
        counts += (counts.empty() ? "" : "; ") + std::to_string(ids.size()) + " " + severity_name(severity) + " (" + list + ")";
    }
    if (result.pass)
        result.reason = label + std::to_string(all.size()) + " finding" + (all.size() == 1 ? "" : "s") + ", none above " +
                        severity_name(*rule.max_severity) + about;
    else
        result.reason = label + counts + " above " + severity_name(*rule.max_severity) + about;
    if (!covered.empty()) {
        std::string list;
        for (const auto& id : covered) list += (list.empty() ? "" : ", ") + id;
        result.reason += "; accepted: " + list;
    }
    if (!expired.empty()) {
        std::string list;
        for (const auto& e : expired) list += (list.empty() ? "" : ", ") + e;
        result.reason += "; counting for nothing: " + list;
    }
    result.details["above"] = nlohmann::ordered_json::array();
    for (const auto& [id, severity] : above) result.details["above"].push_back({{"id", id}, {"severity", severity_name(severity)}});
    return result;
}

}  // namespace digestflow::gate
