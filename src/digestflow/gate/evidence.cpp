#include "digestflow/gate/evidence.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"

namespace digestflow::gate {

namespace {

using nlohmann::json;

const char* k_formats = "Trivy JSON (trivy image -f json), Grype JSON (grype -o json) or a result "
                        "{\"name\", \"digest\", \"status\": \"pass\"|\"fail\"}";

std::string text_of(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& member_or_empty(const json& object, const char* key) {
    static const json empty;
    auto it = object.find(key);
    return it != object.end() ? *it : empty;
}

Severity severity_of(const json& object, const char* key) {
    return parse_severity(text_of(object, key)).value_or(Severity::Unknown);
}

void add_strings(const json& list, std::vector<std::string>& out) {
    if (!list.is_array()) return;
    for (const auto& item : list)
        if (item.is_string() && !item.get<std::string>().empty()) out.push_back(item.get<std::string>());
}

// One Trivy Result: vulnerabilities, secrets and failed misconfigurations carry severities (licenses do too,
// but are not security findings; ExperimentalModifiedFindings are the suppressed ones).
void read_trivy_result(const json& result, Evidence& out) {
    if (!result.is_object()) return;
    for (const auto& v : member_or_empty(result, "Vulnerabilities"))
        if (v.is_object()) out.findings.push_back({text_of(v, "VulnerabilityID"), {}, severity_of(v, "Severity")});
    for (const auto& s : member_or_empty(result, "Secrets"))
        if (s.is_object()) out.findings.push_back({text_of(s, "RuleID"), {}, severity_of(s, "Severity")});
    for (const auto& m : member_or_empty(result, "Misconfigurations"))
        if (m.is_object() && text_of(m, "Status") == "FAIL")
            out.findings.push_back({text_of(m, "ID"), {}, severity_of(m, "Severity")});
}

void read_trivy(const json& doc, Evidence& out) {
    out.format = "trivy";
    const json& metadata = member_or_empty(doc, "Metadata");
    if (metadata.is_object()) {
        add_strings(member_or_empty(metadata, "RepoDigests"), out.subjects);
        if (const std::string id = text_of(metadata, "ImageID"); !id.empty()) out.image_ids.push_back(id);
    }
    // ArtifactName is the argument as given: "repo@sha256:…" when the scan was by digest.
    if (const std::string name = text_of(doc, "ArtifactName"); name.find("@sha256:") != std::string::npos)
        out.subjects.push_back(name);
    for (const auto& result : member_or_empty(doc, "Results")) read_trivy_result(result, out);
}

void read_grype(const json& doc, Evidence& out) {
    out.format = "grype";
    const json& source = member_or_empty(doc, "source");
    const json& target = source.is_object() ? member_or_empty(source, "target") : source;
    if (target.is_object()) {
        add_strings(member_or_empty(target, "repoDigests"), out.subjects);
        if (const std::string m = text_of(target, "manifestDigest"); !m.empty()) out.subjects.push_back(m);
        if (const std::string id = text_of(target, "imageID"); !id.empty()) out.image_ids.push_back(id);
    }
    for (const auto& match : member_or_empty(doc, "matches")) {
        if (!match.is_object()) continue;
        const json& vulnerability = member_or_empty(match, "vulnerability");
        if (!vulnerability.is_object()) continue;
        Finding finding{text_of(vulnerability, "id"), {}, severity_of(vulnerability, "severity")};
        for (const auto& related : member_or_empty(match, "relatedVulnerabilities"))
            if (related.is_object() && !text_of(related, "id").empty()) finding.aliases.push_back(text_of(related, "id"));
        out.findings.push_back(std::move(finding));
    }
}

}  // namespace

Evidence read_evidence(std::string_view text, const std::string& origin) {
    const json doc = parse_json_input_unordered(text, {origin, std::string(" (give ") + k_formats + ")", false});
    Evidence out;
    if (doc.is_array()) {  // Trivy before 0.20: the Results array alone, no metadata
        out.format = "trivy-legacy";
        for (const auto& result : doc) read_trivy_result(result, out);
        return out;
    }
    if (!doc.is_object()) throw_usage(origin + ": not one of " + k_formats);
    if (doc.contains("SchemaVersion") || doc.contains("ArtifactName") || doc.contains("Results")) {
        read_trivy(doc, out);
    } else if (doc.contains("matches") && doc["matches"].is_array()) {
        read_grype(doc, out);
    } else if (doc.contains("status") && doc.contains("digest")) {
        out.format = "result";
        const std::string status = text_of(doc, "status");
        if (status != "pass" && status != "fail")
            throw_usage(origin + ": \"status\" must be \"pass\" or \"fail\"");
        out.passed = status == "pass";
        out.name = text_of(doc, "name");
        out.url = text_of(doc, "url");
        out.subjects.push_back(text_of(doc, "digest"));
    } else {
        throw_usage(origin + ": not one of " + k_formats);
    }
    return out;
}

}  // namespace digestflow::gate
