// What digestflow needs to know about a manifest or index: its type, the blobs it references and, for an
// index, each child with its platform. Parsing is strict about the parts we rely on and ignores the rest.
#pragma once

#include "digestflow/digest.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow {

struct Platform {
    std::string os;
    std::string architecture;
    std::string variant;
};

struct Descriptor {
    std::string media_type;
    Digest digest;
    std::int64_t size = 0;
    std::optional<Platform> platform;
    std::string artifact_type;
};

struct Manifest {
    std::string media_type;                  // from the document, else from Content-Type
    std::optional<Descriptor> config;        // image manifests
    std::vector<Descriptor> layers;          // image manifests
    std::vector<Descriptor> manifests;       // indexes: the children
    std::optional<Descriptor> subject;       // referrers (OCI 1.1)

    bool is_index() const;
    // Every blob an image manifest needs in a repository: config first, then layers.
    std::vector<Descriptor> blobs() const;
};

// Parses manifest bytes. content_type is the response's Content-Type (parameters ignored).
// Throws Error(Usage) for a document that is not JSON, schema1, or contradicts its Content-Type; `what`
// names the source in messages (usually the reference).
Manifest parse_manifest(std::string_view bytes, std::string_view content_type, const std::string& what);

}  // namespace digestflow
