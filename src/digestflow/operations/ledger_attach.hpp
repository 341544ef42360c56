// Ledger entries kept in the registry beside the image (record --attach, record history --registry): each entry
// is pushed as a small OCI artifact whose subject is the image's manifest, found again through the referrers API
// or, where the registry has none, the sha256-<hex> fallback tag (merged with what is already there).
// The entry's bytes are the artifact's one layer, so the layer digest is the entry's ledger hash.
#pragma once

#include "digestflow/manifest.hpp"
#include "digestflow/reference.hpp"
#include "digestflow/registry/client.hpp"

#include <string>
#include <vector>

namespace digestflow::operations {

inline constexpr const char* deployment_artifact_type = "application/vnd.digestflow.deployment.v1+json";

struct AttachedEntry {
    Digest manifest;   // the artifact manifest's digest
    std::string line;  // the entry line, "\n"-terminated; its sha256 equals the layer digest
    std::string how;   // "referrers API" or "fallback tag sha256-…"
};

// Pushes `line` as an artifact referring to `subject` (repository + manifest descriptor of the image) and makes
// it findable (fallback tag merged when the registry does not answer with OCI-Subject).
AttachedEntry attach_entry(registry::RegistryClient& client, const Reference& repository, const Descriptor& subject,
                           const std::string& environment, const std::string& line);

// Every deployment entry attached to `image` (REPO@DIGEST), oldest first by the entry's "at"; each layer is
// fetched by digest and hash-checked, and entries whose line does not name `image`'s digest are refused.
std::vector<AttachedEntry> attached_entries(registry::RegistryClient& client, const Reference& image);

}  // namespace digestflow::operations
