#include "digestflow/operations/blob_copy.hpp"

#include "digestflow/error.hpp"
#include "digestflow/registry/byte_pipe.hpp"
#include "digestflow/registry/request_counter.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <set>
#include <thread>

namespace digestflow::operations {
namespace {

using registry::RegistryClient;

constexpr std::int64_t small_blob_bytes = 1024 * 1024;  // at most this: through memory, no pipe or thread
constexpr std::int64_t pipe_budget_bytes = 4 * 1024 * 1024;  // the rings of one batch together: flat memory
constexpr std::size_t concurrent_blobs = 4;

[[noreturn]] void throw_abandoned() {
    throw FinalError(ErrorKind::Registry, "abandoned: another blob of the same copy failed");
}

// The whole blob arrived (the transport checked its framing): it must be the declared size and hash.
void check_received(const Reference& from, const Descriptor& blob, std::int64_t bytes, const Digest& received) {
    const std::string what = "blob " + blob.digest.str() + " from " + from.repository();
    if (bytes != blob.size)
        throw_check_failed(from.domain + " sent " + std::to_string(bytes) + " bytes of " + what + ", not the " +
                           std::to_string(blob.size) + " its descriptor declares; refusing it (nothing was stored)");
    if (received != blob.digest)
        throw_check_failed(what + " hashed to " + received.str() + " while streaming; refusing it (nothing was stored)");
}

// Streams one blob from the source registry into an upload session: a producer thread GETs, counts and
// hashes, the PUT reads from a bounded pipe. Memory stays at the pipe's size whatever the blob's. The pipe
// keeps the last byte back until the producer has checked size and hash, so bytes that are short or do not
// hash never complete an upload: the PUT is cut short and the session cancelled, and the source's error
// (its kind too) is what the caller gets. A download the client retries after it broke off restarts the
// upload in a new session, so a one-off reset costs one more copy, within the client's retry bounds.
// `source_failed` tells the caller whose failure ended the copy.
void stream_blob_once(RegistryClient& client, const Reference& from, const Reference& to, std::string location,
                      const Descriptor& blob, std::int64_t ring_bytes, const ProgressFn& progress,
                      const std::atomic<bool>& stop, bool& source_failed) {
    registry::BytePipe pipe(static_cast<std::size_t>(std::min(ring_bytes, blob.size)));
    std::exception_ptr source_failure;
    auto counter = registry::current_request_counter();
    std::thread producer([&] {
        registry::RequestScope same_count(counter);  // the download counts toward the same promotion
        try {
            std::optional<DigestHasher> hasher;
            std::int64_t bytes = 0;
            bool wrote = false;
            auto found = client.stream_blob(
                from, blob.digest, blob.size,
                [&] {
                    if (wrote && !pipe.restart()) throw FinalError(ErrorKind::Registry, "the upload was abandoned");
                    wrote = false;
                    hasher.emplace(blob.digest.algorithm());
                    bytes = 0;
                },
                [&](const char* data, std::size_t n) {
                    if (stop) throw_abandoned();
                    hasher->update(data, n);
                    bytes += static_cast<std::int64_t>(n);
                    if (progress) progress(blob.digest, bytes, blob.size);
                    wrote = true;
                    if (!pipe.write(data, n)) throw FinalError(ErrorKind::Registry, "the upload was abandoned");
                });
            if (!found) throw_registry("blob " + blob.digest.str() + " is missing from " + from.repository());
            check_received(from, blob, bytes, hasher->finish());
            pipe.close();  // verified: now the last byte may go out
        } catch (...) {
            source_failure = std::current_exception();
            pipe.fail(source_failure);
        }
    });
    bool from_source = false;  // the upload failed because the source did
    auto read = [&](char* buffer, std::size_t capacity) {
        try {
            return pipe.read(buffer, capacity);
        } catch (const registry::PipeRestarted&) {
            throw;
        } catch (...) {
            from_source = true;
            throw;
        }
    };
    for (;;) {
        try {
            client.finish_upload(to, location, blob.digest, blob.size, read);
            break;
        } catch (const registry::PipeRestarted&) {
            client.cancel_upload(to, location);
            try {
                location = client.start_upload(to);
            } catch (...) {
                pipe.abandon();
                producer.join();
                throw;
            }
        } catch (...) {
            pipe.abandon();
            producer.join();
            client.cancel_upload(to, location);
            source_failed = from_source && source_failure;
            if (source_failed) std::rethrow_exception(source_failure);
            throw;
        }
    }
    producer.join();
}

// A small blob: GET into memory (bounded by its size, hashed), then one PUT of the bytes. Cheaper than a pipe
// and a thread, and the bytes are at hand for a new session should the PUT break off.
std::string fetch_small_blob(RegistryClient& client, const Reference& from, const Descriptor& blob,
                             const ProgressFn& progress, const std::atomic<bool>& stop) {
    if (stop) throw_abandoned();
    std::string bytes;
    bytes.reserve(static_cast<std::size_t>(blob.size));
    std::optional<DigestHasher> hasher;
    auto found = client.stream_blob(
        from, blob.digest, blob.size,
        [&] {
            bytes.clear();
            hasher.emplace(blob.digest.algorithm());
        },
        [&](const char* data, std::size_t n) {
            hasher->update(data, n);
            bytes.append(data, n);
        });
    if (!found) throw_registry("blob " + blob.digest.str() + " is missing from " + from.repository());
    check_received(from, blob, static_cast<std::int64_t>(bytes.size()), hasher->finish());
    if (progress) progress(blob.digest, blob.size, blob.size);
    return bytes;
}

// One copy, started again in a new upload session when the destination's side broke off (a reset PUT, a
// connection lost mid-body): the client does not repeat an upload's PUT, so the copy is, within the same
// bounds. Failures of the source, and final ones, are not repeated.
void copy_blob(RegistryClient& client, const Reference& from, const Reference& to, std::string location,
               const Descriptor& blob, std::int64_t ring_bytes, const ProgressFn& progress,
               const std::atomic<bool>& stop) {
    std::shared_ptr<const std::string> small;  // shared by the PUT's retries: held once
    if (blob.size <= small_blob_bytes) {
        try {
            small = std::make_shared<const std::string>(fetch_small_blob(client, from, blob, progress, stop));
        } catch (...) {
            client.cancel_upload(to, location);
            throw;
        }
    }
    for (int attempt = 1;; ++attempt) {
        bool source_failed = false;
        try {
            if (small) {
                try {
                    if (stop) throw_abandoned();
                    client.finish_upload(to, location, blob.digest, small);
                } catch (...) {
                    client.cancel_upload(to, location);
                    throw;
                }
            } else {
                stream_blob_once(client, from, to, location, blob, ring_bytes, progress, stop, source_failed);
            }
            return;
        } catch (const FinalError&) {
            throw;
        } catch (const Error& e) {
            if (source_failed || e.kind() != ErrorKind::Registry || attempt >= client.retry_policy().max_attempts)
                throw;
        }
        location = client.start_upload(to);
    }
}

// Runs task(0..n-1) on up to `limit` threads (the caller's among them), each counting its requests toward
// the caller's promotion. After a task throws no new task starts and `stop` is set; the first exception is
// rethrown once every thread has finished.
template <typename Task>
void run_bounded(std::size_t n, std::size_t limit, std::atomic<bool>& stop, const Task& task) {
    std::atomic<std::size_t> next{0};
    std::mutex failure_mutex;
    std::exception_ptr first_failure;
    auto counter = registry::current_request_counter();
    auto work = [&] {
        registry::RequestScope same_count(counter);
        for (std::size_t i = next++; i < n && !stop; i = next++) {
            try {
                task(i);
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                if (!first_failure) first_failure = std::current_exception();
                stop = true;
            }
        }
    };
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < std::min(n, limit); ++t) helpers.emplace_back(work);
    work();
    for (auto& helper : helpers) helper.join();
    if (first_failure) std::rethrow_exception(first_failure);
}

}  // namespace

void BlobPlacer::count(int BlobCounts::*which, const Descriptor& blob) {
    std::lock_guard lock(m_counts_mutex);
    ++(m_counts.*which);
    if (which == &BlobCounts::uploaded) m_counts.bytes_uploaded += blob.size;
}

void BlobPlacer::ensure(const Reference& to, const Descriptor& blob) {
    std::string mount_from =
        m_placements.holder(to.domain, blob.digest).value_or(to.domain == m_source.domain ? m_source.path : "");
    std::string location;
    if (!mount_from.empty()) {
        // 201 answers both "mounted" and "was already there": no HEAD needed first.
        auto mount = m_client.mount_blob(to, blob.digest, mount_from);
        if (mount.mounted) {
            count(&BlobCounts::mounted, blob);
            m_placements.record(to.domain, blob.digest, to.path);
            return;
        }
        location = mount.upload_location;
    } else {
        if (m_client.head_blob(to, blob.digest)) {
            count(&BlobCounts::present, blob);
            m_placements.record(to.domain, blob.digest, to.path);
            return;
        }
        location = m_client.start_upload(to);
    }
    copy_blob(m_client, m_source, to, location, blob, m_ring_bytes, m_progress, m_stop);
    count(&BlobCounts::uploaded, blob);
    m_placements.record(to.domain, blob.digest, to.path);
}

void BlobPlacer::ensure_all(const Reference& to, const std::vector<Descriptor>& blobs) {
    std::vector<const Descriptor*> distinct, repeats;
    std::set<std::string> seen;
    for (const auto& blob : blobs) (seen.insert(blob.digest.str()).second ? distinct : repeats).push_back(&blob);
    m_stop = false;
    // Streams running side by side share one budget, so memory stays what one stream used to take.
    auto large = std::count_if(distinct.begin(), distinct.end(), [](const Descriptor* b) { return b->size > small_blob_bytes; });
    m_ring_bytes = pipe_budget_bytes / std::clamp<std::int64_t>(large, 1, concurrent_blobs);
    run_bounded(distinct.size(), concurrent_blobs, m_stop, [&](std::size_t i) { ensure(to, *distinct[i]); });
    for (const auto* blob : repeats) ensure(to, *blob);  // the first copy is in place: these mount
}

}  // namespace digestflow::operations
