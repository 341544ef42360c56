// Manifests fetched by digest during one run: content named by its digest cannot change, so a --from-list
// run GETs each distinct (registry, repository, digest) once however many items name it. Only verified
// by-digest fetches are kept, never a tag's answer. One per run, shared by the workers (thread-safe).
#pragma once

#include "digestflow/reference.hpp"
#include "digestflow/registry/client.hpp"

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace digestflow::operations {

class ManifestCache {
public:
    using Entry = std::shared_ptr<const registry::FetchedManifest>;

    // The manifest at `by_digest` (REPOSITORY@DIGEST), hashed against the digest by the client; null when the
    // registry does not have it. Callers asking while a fetch is under way wait for its answer; an absence or
    // a failure is not kept, so a later caller asks again, and a waiter whose fetch failed asks once more
    // itself (that failure was the fetch's, not its own: without the cache it would have fetched anyway).
    Entry get(registry::RegistryClient& client, const Reference& by_digest) { return lookup(client, by_digest, true); }

private:
    Entry lookup(registry::RegistryClient& client, const Reference& by_digest, bool retry_failed_wait);

    std::mutex m_mutex;
    std::map<std::string, std::shared_future<Entry>> m_entries;  // by normalised REPOSITORY@DIGEST
};

}  // namespace digestflow::operations
