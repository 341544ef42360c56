// Blobs into destination repositories with the fewest requests and bytes: a mount where the registry already
// holds the blob, else a copy from the source (a small blob through memory, a large one streamed through a
// bounded pipe). The blobs of one manifest are copied a few at a time.
#pragma once

#include "digestflow/manifest.hpp"
#include "digestflow/operations/promote.hpp"
#include "digestflow/reference.hpp"
#include "digestflow/registry/client.hpp"

#include <atomic>
#include <mutex>
#include <vector>

namespace digestflow::operations {

class BlobPlacer {
public:
    BlobPlacer(registry::RegistryClient& client, const Reference& source, BlobCounts& counts,
               const ProgressFn& progress, BlobPlacements& placements)
        : m_client(client), m_source(source), m_counts(counts), m_progress(progress), m_placements(placements) {}

    // Every blob into `to`'s repository, up to 4 at a time (a digest listed twice waits for its first copy,
    // then mounts); the streamed ones share 4 MiB of pipe between them. The first failure wins: copies not started are not started, those under way are cut
    // short and their upload sessions cancelled, and it is rethrown once all have stopped. A blob completes
    // only whole and verified, so a failure leaves no blob half-written.
    void ensure_all(const Reference& to, const std::vector<Descriptor>& blobs);

private:
    void ensure(const Reference& to, const Descriptor& blob);
    void count(int BlobCounts::*which, const Descriptor& blob);

    registry::RegistryClient& m_client;
    Reference m_source;
    BlobCounts& m_counts;
    const ProgressFn& m_progress;
    BlobPlacements& m_placements;
    std::mutex m_counts_mutex;
    std::atomic<bool> m_stop{false};  // another blob of the batch failed: abandon this one
    std::int64_t m_ring_bytes = 0;    // each streamed blob's share of the batch's pipe budget
};

}  // namespace digestflow::operations
