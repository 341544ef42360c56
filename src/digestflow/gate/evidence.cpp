#include "digestflow/gate/evidence.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"

#include <algorithm>
#include <stdexcept>

namespace digestflow::gate {

namespace {

using nlohmann::json;

const char* k_formats = "Trivy JSON (trivy image -f json), Grype JSON (grype -o json) or a result "
                        "{\"name\", \"digest\", \"status\": \"pass\"|\"fail\"}";

// A report that is there but not the shape its scanner writes: refused, never read as "no findings".
class ShapeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string text_of(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The array at `key` (absent or null: none), each item an object; anything else is a ShapeError naming `path`.
std::vector<const json*> objects_at(const json& object, const char* key, const std::string& path) {
    std::vector<const json*> out;
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return out;
    if (!it->is_array()) throw ShapeError(path + key + " is " + it->type_name() + ", not an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_object())
            throw ShapeError(path + key + "[" + std::to_string(i) + "] is " + (*it)[i].type_name() + ", not an object");
        out.push_back(&(*it)[i]);
    }
    return out;
}

// Absent, null or "" is unknown (the scanner had none); a word that is no severity, or a number, is not a
// report we can judge: guessing it low would let anything through.
Severity severity_at(const json& object, const char* key, const std::string& path) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty())) return Severity::Unknown;
    if (!it->is_string()) throw ShapeError(path + key + " is " + it->type_name() + ", not a severity word");
    const auto severity = parse_severity(it->get<std::string>());
    if (!severity)
        throw ShapeError(path + key + " \"" + it->get<std::string>() + "\" is not a severity (unknown, low, medium, high, critical)");
    return *severity;
}

void add_strings(const json& object, const char* key, std::vector<std::string>& out) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_array()) return;
    for (const auto& item : *it)
        if (item.is_string() && !item.get<std::string>().empty() &&
            std::find(out.begin(), out.end(), item.get<std::string>()) == out.end())
            out.push_back(item.get<std::string>());
}

// One Trivy Result: vulnerabilities, secrets and failed misconfigurations carry severities (licenses do too,
// but are not security findings; ExperimentalModifiedFindings are the suppressed ones).
void read_trivy_result(const json& result, const std::string& path, Evidence& out) {
    for (const json* v : objects_at(result, "Vulnerabilities", path))
        out.findings.push_back({text_of(*v, "VulnerabilityID"), {}, severity_at(*v, "Severity", path + "Vulnerabilities[].")});
    for (const json* secret : objects_at(result, "Secrets", path))
        out.findings.push_back({text_of(*secret, "RuleID"), {}, severity_at(*secret, "Severity", path + "Secrets[].")});
    for (const json* m : objects_at(result, "Misconfigurations", path))
        if (text_of(*m, "Status") == "FAIL")
            out.findings.push_back({text_of(*m, "ID"), {}, severity_at(*m, "Severity", path + "Misconfigurations[].")});
}

void read_trivy_results(const json& holder, const char* key, Evidence& out) {
    const auto results = objects_at(holder, key, "");
    for (std::size_t i = 0; i < results.size(); ++i)
        read_trivy_result(*results[i], std::string(key) + "[" + std::to_string(i) + "].", out);
}

void add_subject(Evidence& out, const std::string& subject) {
    if (!subject.empty() && std::find(out.subjects.begin(), out.subjects.end(), subject) == out.subjects.end())
        out.subjects.push_back(subject);
}

void read_trivy(const json& doc, Evidence& out) {
    out.format = "trivy";
    read_trivy_results(doc, "Results", out);
    // Only an image scan is about an image: a filesystem or repository scan named like a digest is not.
    if (const std::string type = text_of(doc, "ArtifactType"); !type.empty() && type != "container_image") {
        out.not_an_image = "a Trivy " + type + " scan";
        return;
    }
    auto metadata = doc.find("Metadata");
    if (metadata != doc.end() && metadata->is_object()) {
        add_strings(*metadata, "RepoDigests", out.subjects);
        if (const std::string id = text_of(*metadata, "ImageID"); !id.empty()) out.image_ids.push_back(id);
    }
    // ArtifactName is the argument as given: "repo@sha256:…" when the scan was by digest.
    if (const std::string name = text_of(doc, "ArtifactName"); name.find("@sha256:") != std::string::npos) add_subject(out, name);
}

void read_grype(const json& doc, Evidence& out) {
    out.format = "grype";
    auto source = doc.find("source");
    if (source != doc.end() && source->is_object() && text_of(*source, "type") != "image")
        out.not_an_image = "a Grype scan of a " + (text_of(*source, "type").empty() ? std::string("source of no type") : text_of(*source, "type"));
    else if (source != doc.end() && source->is_object()) {
        auto target = source->find("target");
        if (target != source->end() && target->is_object()) {
            add_strings(*target, "repoDigests", out.subjects);
            add_subject(out, text_of(*target, "manifestDigest"));
            if (const std::string id = text_of(*target, "imageID"); !id.empty()) out.image_ids.push_back(id);
        }
    }
    const auto matches = objects_at(doc, "matches", "");
    for (std::size_t i = 0; i < matches.size(); ++i) {
        const std::string path = "matches[" + std::to_string(i) + "].";
        auto vulnerability = matches[i]->find("vulnerability");
        if (vulnerability == matches[i]->end() || !vulnerability->is_object())
            throw ShapeError(path + "vulnerability is missing or not an object");
        Finding finding{text_of(*vulnerability, "id"), {}, severity_at(*vulnerability, "severity", path + "vulnerability.")};
        for (const json* related : objects_at(*matches[i], "relatedVulnerabilities", path))
            if (!text_of(*related, "id").empty()) finding.aliases.push_back(text_of(*related, "id"));
        out.findings.push_back(std::move(finding));
    }
}

}  // namespace

Evidence read_evidence(std::string_view text, const std::string& origin) {
    const json doc = parse_json_input_unordered(text, {origin, std::string(" (give ") + k_formats + ")", false});
    Evidence out;
    try {
        if (doc.is_array()) {  // Trivy before 0.20: the Results array alone, no metadata
            out.format = "trivy-legacy";
            const json holder{{"Results", doc}};
            read_trivy_results(holder, "Results", out);
            return out;
        }
        if (!doc.is_object()) throw_usage(origin + ": not one of " + k_formats);
        if (doc.contains("SchemaVersion") || doc.contains("ArtifactName") || doc.contains("Results")) {
            read_trivy(doc, out);
        } else if (doc.contains("matches")) {
            read_grype(doc, out);
        } else if (doc.contains("status") && doc.contains("digest")) {
            out.format = "result";
            const std::string status = text_of(doc, "status");
            if (status != "pass" && status != "fail") throw_usage(origin + ": \"status\" must be \"pass\" or \"fail\"");
            out.passed = status == "pass";
            out.name = text_of(doc, "name");
            out.url = text_of(doc, "url");
            add_subject(out, text_of(doc, "digest"));
        } else {
            throw_usage(origin + ": not one of " + k_formats);
        }
    } catch (const ShapeError& e) {
        throw_usage(origin + ": " + e.what() + " (not a report as " +
                    (out.format.rfind("trivy", 0) == 0 ? "Trivy" : "Grype") + " writes it)");
    }
    return out;
}

}  // namespace digestflow::gate
