// Evidence files for check rules, the format told from the content: Trivy JSON (`trivy image -f json`, schema 2,
// and the bare array of Trivy < 0.20), Grype JSON (`grype -o json`), and a generic result
// {"name", "digest", "status": "pass"|"fail", "url"} (tests, load tests).
#pragma once

#include "digestflow/gate/policy.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow::gate {

struct Finding {
    std::string id;                    // CVE-…, GHSA-…, a secret's rule id, a misconfiguration's id
    std::vector<std::string> aliases;  // Grype's relatedVulnerabilities ids
    Severity severity = Severity::Unknown;
};

struct Evidence {
    std::string format;                 // "trivy", "trivy-legacy", "grype", "result"
    std::vector<std::string> subjects;  // what the report says it is about: "repo@sha256:…" or "sha256:…"
    std::vector<std::string> image_ids; // config digests it names (never a subject)
    std::vector<Finding> findings;
    std::string not_an_image;           // "a Trivy filesystem scan": a report that cannot be about an image
    bool passed = false;                // generic result
    std::string name, url;              // generic result
};

// Throws Error(Usage) "ORIGIN: …" when the text is none of the formats.
Evidence read_evidence(std::string_view text, const std::string& origin);

}  // namespace digestflow::gate
