// retag's library call: put the artifact's digest under new names — tags in the same repository, other
// repositories of the same registry (blobs mounted), other registries (blobs streamed) — byte for byte.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/digest.hpp"
#include "digestflow/operations/manifest_cache.hpp"
#include "digestflow/reference.hpp"
#include "digestflow/registry/client.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
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
    bool written = false;            // done: the registry serves the digest under this name
    bool failed = false;             // the step that failed was writing this destination
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
    int referrers_skipped = 0;  // listed as referrers, but their subject is another digest: not copied
    std::optional<std::string> error;  // set in a failed promotion's partial result (PromoteFailure)
};

// What promote() throws when it fails after writing may have begun: the cause's kind and message, and the
// result so far (which destinations were written, with the previous digest of moved tags), so that the
// caller can still record what was written.
class PromoteFailure : public Error {
public:
    PromoteFailure(const Error& cause, PromoteResult partial)
        : Error(cause.kind(), cause.what()), m_partial(std::move(partial)) {}
    const PromoteResult& partial() const { return m_partial; }

private:
    PromoteResult m_partial;
};

// The destinations a user named: --tag T in the source repository, --to REPO[:TAG] anywhere. Throws
// Error(Usage) for an invalid tag, a destination with a digest, or no destination at all.
std::vector<Reference> promotion_destinations(const Reference& source, const std::vector<std::string>& tags,
                                              const std::vector<std::string>& to);

// The history entry a promotion leaves in the artifact: {"step":"retag","by","to":[…],"previous":{…}}, for
// the destinations written; a failed promotion's adds "error" and "notWritten":[…]. nullopt when nothing
// was written (a refused or failed promotion that changed nothing).
std::optional<nlohmann::ordered_json> promotion_history_entry(const PromoteResult& result);

// Appends the promotion's history entry to the artifact when it wrote anything; false when it did not.
bool record_promotion(Artifact& artifact, const PromoteResult& result);

// The destination names a promotion writes and must hold exclusively while it guards, writes and
// confirms them: its tags, and with referrers the fallback tag (sha256-<hex>) of each other repository.
std::vector<std::string> promotion_locked_names(const PromoteRequest& request);

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

// Names (normalised references) that one promotion of a run holds from its guard to its confirmation, so
// that no other promotion of the run can write them in between. One per run, shared (thread-safe).
class DestinationLocks {
public:
    class Held {
    public:
        Held(DestinationLocks* owner, std::vector<std::string> names) : m_owner(owner), m_names(std::move(names)) {}
        Held(Held&& other) noexcept : m_owner(std::exchange(other.m_owner, nullptr)), m_names(std::move(other.m_names)) {}
        Held& operator=(Held&&) = delete;
        ~Held();

    private:
        DestinationLocks* m_owner;
        std::vector<std::string> m_names;
    };
    // Blocks until no other holder has any of the names, then holds them all at once (all or nothing: two
    // promotions never wait on each other in a circle).
    Held hold(std::vector<std::string> names);

private:
    std::mutex m_mutex;
    std::condition_variable m_released;
    std::set<std::string> m_held;
};

// Called while blob bytes move: (digest, bytes so far, total).
using ProgressFn = std::function<void(const Digest&, std::int64_t, std::int64_t)>;

// Refuses, before writing anything, a destination tag that points at another digest unless allow_move
// (Error(CheckFailed), naming both digests); then, only when something is to be written (or referrers asked
// for), fetches the source (verified) once; copies everything by digest into every other destination
// repository first (children before the index, blobs before manifests, referrers), then writes and confirms
// the tags, then the referrers' fallback tags. A failure once writing began is a PromoteFailure carrying
// what was written. `locks` (shared by a run) keeps other promotions off this one's destination names from
// the guard to the confirmation; `manifests` (shared by a run) keeps what was fetched by digest.
PromoteResult promote(registry::RegistryClient& client, const PromoteRequest& request,
                      const ProgressFn& progress = {}, BlobPlacements* placements = nullptr,
                      DestinationLocks* locks = nullptr, ManifestCache* manifests = nullptr);

}  // namespace digestflow::operations
