// Image references per distribution/reference: the grammar, docker.io normalisation, printing.
#pragma once

#include "digestflow/digest.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace digestflow {

struct Reference {
    std::string domain;                // "docker.io", "registry.example.com:5000", "127.0.0.1:5000", "[::1]:5000"
    std::string path;                  // "library/ubuntu", "team/app"
    std::optional<std::string> tag;    // "1.0" (kept even when a digest is present; see without_tag())
    std::optional<Digest> digest;      // "sha256:…"

    // ParseNormalizedNamed semantics: "ubuntu" -> docker.io/library/ubuntu; first component is a domain
    // iff it is "localhost" or contains '.' or ':' or an uppercase letter; index.docker.io -> docker.io.
    // Name-only references get no tag here (callers decide whether "latest" applies).
    // Throws Error(Usage) with the reason (empty, uppercase, invalid format, too long, bad digest, 64-hex name).
    static Reference parse(std::string_view text);

    // Strict grammar without normalisation (distribution's Parse): leftmost domain capture.
    static Reference parse_strict(std::string_view text);

    std::string repository() const { return domain + "/" + path; }  // "docker.io/library/ubuntu"
    std::string str() const;       // full form: domain/path[:tag][@digest]
    std::string familiar() const;  // drops docker.io/ and library/ like docker's FamiliarString

    // Host to connect to for the API: docker.io -> registry-1.docker.io; others unchanged.
    std::string api_host() const;
    // True for localhost, 127.0.0.0/8 and [::1] (with any port).
    bool is_loopback() const;

    Reference with_digest(const Digest& d) const;  // same repository, tag dropped, digest set
    Reference with_tag(const std::string& t) const;  // same repository, digest dropped, tag set
                                                      // (throws Error(Usage) for an invalid tag)
    Reference without_tag() const;                    // same repository and digest, no tag
};

// Tag grammar: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
bool is_valid_tag(std::string_view tag);

}  // namespace digestflow
