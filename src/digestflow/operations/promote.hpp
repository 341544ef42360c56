// retag's library call: put the artifact's digest under new names — tags in the same repository, other
// repositories of the same registry (blobs mounted), other registries (blobs streamed) — byte for byte.
#pragma once

#include "digestflow/digest.hpp"
#include "digestflow/reference.hpp"
#include "digestflow/registry/client.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::operations {

struct PromoteRequest {
    Reference source;                     // repository@digest: a source tag is never resolved
    std::vector<Reference> destinations;  // repository:tag, or a bare repository (the digest only, no tag)
    bool allow_move = false;              // let a destination tag that points elsewhere move
    bool referrers = false;               // also copy what refers to the digest (signatures, SBOMs, ...)
};

struct DestinationOutcome {
    Reference destination;
    std::string action;              // "tagged", "copied", "moved", "unchanged"
    std::optional<Digest> previous;  // what a moved tag pointed at before
};

struct BlobCounts {
    int present = 0;   // already in the destination repository
    int mounted = 0;   // cross-repository mount
    int uploaded = 0;  // streamed from the source
    std::int64_t bytes_uploaded = 0;
};

struct PromoteResult {
    Digest digest;
    std::string media_type;
    std::vector<DestinationOutcome> destinations;
    BlobCounts blobs;
    int referrers = 0;  // referrer manifests copied into other repositories
};

// The destinations a user named: --tag T in the source repository, --to REPO[:TAG] anywhere. Throws
// Error(Usage) for an invalid tag, a destination with a digest, or no destination at all.
std::vector<Reference> promotion_destinations(const Reference& source, const std::vector<std::string>& tags,
                                              const std::vector<std::string>& to);

// The history entry a promotion leaves in the artifact: {"step":"retag","by","to":[…],"previous":{…}}.
nlohmann::ordered_json promotion_history_entry(const PromoteResult& result);

// Where blobs are known to be, per registry, so that a later copy mounts instead of uploading again. One per
// run; shared by the promotions of a --from-list run (thread-safe).
class BlobPlacements {
public:
    std::optional<std::string> holder(const std::string& registry, const Digest& digest) const;
    void record(const std::string& registry, const Digest& digest, const std::string& repository_path);

private:
    mutable std::mutex m_mutex;
    std::map<std::string, std::map<std::string, std::string>> m_placed;  // registry -> digest -> repository path
};

// Called while blob bytes move: (digest, bytes so far, total).
using ProgressFn = std::function<void(const Digest&, std::int64_t, std::int64_t)>;

// Fetches the source (verified) once; refuses, before writing anything, a destination tag that points at
// another digest unless allow_move (Error(CheckFailed), naming both digests); copies children before the
// index and blobs before manifests; then confirms every destination tag resolves to the digest.
PromoteResult promote(registry::RegistryClient& client, const PromoteRequest& request,
                      const ProgressFn& progress = {}, BlobPlacements* placements = nullptr);

}  // namespace digestflow::operations
