#include "digestflow/operations/promote.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/referrers.hpp"
#include "digestflow/registry/byte_pipe.hpp"
#include "digestflow/registry/request_counter.hpp"

#include "digestflow/media_types.hpp"
#include "digestflow/quote.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <thread>

namespace digestflow::operations {
namespace {

using registry::FetchedManifest;
using registry::RegistryClient;

struct SourceContent {
    FetchedManifest top;
    std::vector<FetchedManifest> children;  // index children, in index order
};

SourceContent fetch_source(RegistryClient& client, const Reference& source) {
    auto top = client.get_manifest(source);  // hashed against the digest
    if (!top) throw_usage(source.str() + " does not exist in the registry: nothing to promote");
    SourceContent content{std::move(*top), {}};
    for (const auto& child : content.top.parsed.manifests) {
        auto fetched = client.get_manifest(source.with_digest(child.digest));
        if (!fetched)
            throw_registry("index child " + child.digest.str() + " of " + source.str() + " is missing from the registry");
        content.children.push_back(std::move(*fetched));
    }
    return content;
}

// Streams one blob from the source registry into an upload session: a producer thread GETs, counts and
// hashes, the PUT reads from a bounded pipe. Memory stays at the pipe's size whatever the blob's. The pipe
// keeps the last byte back until the producer has checked size and hash, so bytes that are short or do not
// hash never complete an upload: the PUT is cut short and the session cancelled, and the source's error
// (its kind too) is what the caller gets. A download the client retries after it broke off restarts the
// upload in a new session, so a one-off reset costs one more copy, within the client's retry bounds.
// `source_failed` tells the caller whose failure ended the copy.
void stream_blob_once(RegistryClient& client, const Reference& from, const Reference& to, std::string location,
                      const Descriptor& blob, const ProgressFn& progress, bool& source_failed) {
    const std::string what = "blob " + blob.digest.str() + " from " + from.repository();
    registry::BytePipe pipe;
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
                    hasher->update(data, n);
                    bytes += static_cast<std::int64_t>(n);
                    if (progress) progress(blob.digest, bytes, blob.size);
                    wrote = true;
                    if (!pipe.write(data, n)) throw FinalError(ErrorKind::Registry, "the upload was abandoned");
                });
            if (!found) throw_registry("blob " + blob.digest.str() + " is missing from " + from.repository());
            // A whole answer (the transport checked its framing) of the wrong size is the wrong content.
            if (bytes != blob.size)
                throw_check_failed(from.domain + " sent " + std::to_string(bytes) + " bytes of " + what + ", not the " +
                               std::to_string(blob.size) + " its descriptor declares; refusing it (nothing was stored)");
            Digest received = hasher->finish();
            if (received != blob.digest)
                throw_check_failed(what + " hashed to " + received.str() +
                                   " while streaming; refusing it (nothing was stored)");
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

// One streamed copy, started again in a new upload session when the destination's side broke off (a reset
// PUT, a connection lost mid-body): the streamed PUT cannot be replayed by the client's own retries, so the
// copy is, within the same bounds. Failures of the source, and final ones, are not repeated.
void stream_blob(RegistryClient& client, const Reference& from, const Reference& to, std::string location,
                 const Descriptor& blob, const ProgressFn& progress) {
    for (int attempt = 1;; ++attempt) {
        bool source_failed = false;
        try {
            stream_blob_once(client, from, to, location, blob, progress, source_failed);
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

// Moves blobs into destination repositories with the fewest requests: a mount where the registry already
// holds the blob (the source repository, or a repository this run already filled), else a streamed copy.
class BlobPlacer {
public:
    BlobPlacer(RegistryClient& client, const Reference& source, BlobCounts& counts, const ProgressFn& progress,
               BlobPlacements& placements)
        : m_client(client), m_source(source), m_counts(counts), m_progress(progress), m_placements(placements) {}

    void ensure(const Reference& to, const Descriptor& blob) {
        std::string mount_from = m_placements.holder(to.domain, blob.digest)
                                     .value_or(to.domain == m_source.domain ? m_source.path : "");
        std::string location;
        if (!mount_from.empty()) {
            // 201 answers both "mounted" and "was already there": no HEAD needed first.
            auto mount = m_client.mount_blob(to, blob.digest, mount_from);
            if (mount.mounted) {
                ++m_counts.mounted;
                m_placements.record(to.domain, blob.digest, to.path);
                return;
            }
            location = mount.upload_location;
        } else {
            if (m_client.head_blob(to, blob.digest)) {
                ++m_counts.present;
                m_placements.record(to.domain, blob.digest, to.path);
                return;
            }
            location = m_client.start_upload(to);
        }
        stream_blob(m_client, m_source, to, location, blob, m_progress);
        ++m_counts.uploaded;
        m_counts.bytes_uploaded += blob.size;
        m_placements.record(to.domain, blob.digest, to.path);
    }

private:
    RegistryClient& m_client;
    Reference m_source;
    BlobCounts& m_counts;
    const ProgressFn& m_progress;
    BlobPlacements& m_placements;
};

RegistryClient::PutResult put(RegistryClient& client, const Reference& target, const FetchedManifest& manifest) {
    return client.put_manifest(target, manifest.bytes, manifest.media_type);
}

// The blobs a copy moves: registries neither hold nor expect non-distributable (foreign) layers; clients
// fetch those from their URLs, so copies skip them as registries and go-containerregistry do.
std::vector<Descriptor> blobs_to_copy(const Manifest& manifest) {
    std::vector<Descriptor> out;
    for (auto& blob : manifest.blobs())
        if (!media_types::is_non_distributable(blob.media_type)) out.push_back(std::move(blob));
    return out;
}

// Everything the promoted manifest needs in another repository, and the manifest itself, by digest: no tag
// changes here. Children (and their blobs) first, the index last: a registry refuses an index whose
// children are missing, and a manifest whose blobs are.
RegistryClient::PutResult copy_by_digest(RegistryClient& client, BlobPlacer& placer, const SourceContent& content,
                                         const Reference& to) {
    if (!client.head_manifest(to.with_digest(content.top.digest))) {
        for (const auto& child : content.children) {
            if (client.head_manifest(to.with_digest(child.digest))) continue;
            for (const auto& blob : blobs_to_copy(child.parsed)) placer.ensure(to, blob);
            put(client, to.with_digest(child.digest), child);
        }
        for (const auto& blob : blobs_to_copy(content.top.parsed)) placer.ensure(to, blob);
    }
    return put(client, to.with_digest(content.top.digest), content.top);
}

// The referrers of a digest copied into one repository; the fallback tag is written later, after the tags.
struct CopiedReferrers {
    Reference to;
    std::string listed;        // the source's referrers index
    bool needs_fallback = false;  // the destination did not index the subjects itself
    int count = 0;
    int skipped = 0;  // listed, but not referring to the subject
};

// Copies every referrer of the promoted digest into `to` by digest (each verified, with its blobs).
CopiedReferrers copy_referrers(RegistryClient& client, BlobPlacer& placer, const Reference& source,
                               const Reference& to, const Digest& subject) {
    CopiedReferrers copied{to, "", false, 0};
    auto listed = client.get_referrers(source.with_digest(subject));
    if (!listed) return copied;
    Manifest index = parse_manifest(listed->index, "", "referrers of " + source.with_digest(subject).str());
    bool destination_indexes = true;
    std::vector<Digest> strangers;
    for (const auto& referrer : index.manifests) {
        SourceContent content = fetch_source(client, source.with_digest(referrer.digest));
        // A listing is only the registry's word (anyone who can push can write a fallback tag): a manifest
        // whose own subject is not the digest is no referrer of it, and is not copied as one.
        if (!refers_to(content.top.bytes, subject)) {
            strangers.push_back(referrer.digest);
            continue;
        }
        destination_indexes = copy_by_digest(client, placer, content, to).subject_indexed && destination_indexes;
    }
    copied.count = static_cast<int>(index.manifests.size() - strangers.size());
    copied.skipped = static_cast<int>(strangers.size());
    copied.listed = referrers_index_without(listed->index, strangers);
    copied.needs_fallback = !destination_indexes && copied.count > 0;
    return copied;
}

// Where the destination does not index subjects itself, merges the referrers into its fallback tag: a
// read-merge-write, safe because the tag is held (promotion_locked_names).
void write_fallback_tag(RegistryClient& client, const CopiedReferrers& copied, const Digest& subject) {
    if (!copied.needs_fallback) return;
    Reference tag = copied.to.with_tag(referrers_fallback_tag(subject));
    auto existing = client.get_manifest(tag);
    std::string merged = merge_referrers_index(existing ? existing->bytes : "", copied.listed);
    if (!existing || merged != existing->bytes) client.put_manifest(tag, merged, std::string(media_types::oci_index));
}

}  // namespace

std::vector<Reference> promotion_destinations(const Reference& source, const std::vector<std::string>& tags,
                                              const std::vector<std::string>& to) {
    std::vector<Reference> out;
    for (const auto& tag : tags) {
        if (!is_valid_tag(tag))
            throw_usage("tag " + quote(tag) + " is not valid (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')");
        out.push_back(source.with_tag(tag));
    }
    for (const auto& text : to) {
        Reference destination = Reference::parse(text);
        if (destination.digest)
            throw_usage("destination " + quote(text) + " carries a digest: name a repository and optionally a tag");
        out.push_back(destination);
    }
    if (out.empty()) throw_usage("name at least one destination: a tag (--tag) or a repository (--to REPO[:TAG])");
    // A name given twice (also as two spellings of one reference) is promoted once.
    std::vector<Reference> distinct;
    for (auto& destination : out)
        if (std::none_of(distinct.begin(), distinct.end(), [&](const Reference& d) { return d.str() == destination.str(); }))
            distinct.push_back(std::move(destination));
    return distinct;
}

std::optional<nlohmann::ordered_json> promotion_history_entry(const PromoteResult& result) {
    nlohmann::ordered_json entry{{"step", "retag"}, {"by", current_actor()}, {"to", nlohmann::ordered_json::array()}};
    nlohmann::ordered_json previous = nlohmann::ordered_json::object();
    nlohmann::ordered_json not_written = nlohmann::ordered_json::array();
    for (const auto& d : result.destinations) {
        if (!d.written) {
            not_written.push_back(d.destination.str());
            continue;
        }
        entry["to"].push_back(d.destination.str());
        if (d.previous) previous[d.destination.str()] = d.previous->str();
    }
    if (entry["to"].empty()) return std::nullopt;
    if (!previous.empty()) entry["previous"] = previous;
    if (result.error) {
        entry["error"] = *result.error;
        entry["notWritten"] = not_written;
    }
    return entry;
}

bool record_promotion(Artifact& artifact, const PromoteResult& result) {
    auto entry = promotion_history_entry(result);
    if (!entry) return false;
    artifact.append_history(std::move(*entry));
    return true;
}

std::vector<std::string> promotion_locked_names(const PromoteRequest& request) {
    std::vector<std::string> names;
    for (const auto& destination : request.destinations) {
        if (destination.tag) names.push_back(destination.str());
        if (request.referrers && request.source.digest && destination.repository() != request.source.repository())
            names.push_back(destination.with_tag(referrers_fallback_tag(*request.source.digest)).str());
    }
    return names;
}

DestinationLocks::Held DestinationLocks::hold(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::unique_lock lock(m_mutex);
    m_released.wait(lock, [&] {
        return std::none_of(names.begin(), names.end(), [&](const std::string& n) { return m_held.count(n) > 0; });
    });
    m_held.insert(names.begin(), names.end());
    return Held(this, std::move(names));
}

DestinationLocks::Held::~Held() {
    if (!m_owner) return;
    {
        std::lock_guard lock(m_owner->m_mutex);
        for (const auto& name : m_names) m_owner->m_held.erase(name);
    }
    m_owner->m_released.notify_all();
}

std::optional<std::string> BlobPlacements::holder(const std::string& registry, const Digest& digest) const {
    std::lock_guard lock(m_mutex);
    auto on_registry = m_placed.find(registry);
    if (on_registry == m_placed.end()) return std::nullopt;
    auto found = on_registry->second.find(digest.str());
    if (found == on_registry->second.end()) return std::nullopt;
    return found->second;
}

void BlobPlacements::record(const std::string& registry, const Digest& digest, const std::string& repository_path) {
    std::lock_guard lock(m_mutex);
    m_placed[registry].emplace(digest.str(), repository_path);
}

PromoteResult promote(RegistryClient& client, const PromoteRequest& request, const ProgressFn& progress,
                      BlobPlacements* placements, DestinationLocks* locks) {
    if (!request.source.digest) throw_usage("the source must be REPOSITORY@DIGEST: a tag is never resolved here");
    const Reference source = request.source.with_digest(*request.source.digest);
    SourceContent content = fetch_source(client, source);
    PromoteResult result{content.top.digest, content.top.media_type, {}, {}};

    // From the guard to the confirmation no other promotion of this run touches these names.
    DestinationLocks own_locks;
    auto held = (locks ? *locks : own_locks).hold(promotion_locked_names(request));

    // Guard every destination before writing anything.
    for (const auto& destination : request.destinations) {
        DestinationOutcome outcome{destination, "", std::nullopt};
        Reference probe = destination.tag ? destination : destination.with_digest(result.digest);
        auto current = client.head_manifest(probe);
        if (current && current->digest == result.digest) {
            outcome.action = "unchanged";
            outcome.written = true;  // nothing to write: it already is what we promise
        } else if (current && destination.tag) {
            if (!request.allow_move)
                throw_check_failed(destination.str() + " points at " + current->digest.str() + ", not " +
                                   result.digest.str() + "; refusing to move it (pass --allow-move to move the tag)");
            outcome.action = "moved";
            outcome.previous = current->digest;
        } else {
            outcome.action = destination.repository() == source.repository() ? "tagged" : "copied";
        }
        result.destinations.push_back(std::move(outcome));
    }

    BlobPlacements own_placements;
    BlobPlacer placer(client, source, result.blobs, progress, placements ? *placements : own_placements);
    DestinationOutcome* current = nullptr;  // the destination being written, for the failure record
    try {
        // Everything by digest into every other repository first: a failure here moves no tag.
        std::set<std::string> filled, referred;
        std::vector<CopiedReferrers> referrers;
        for (auto& outcome : result.destinations) {
            const Reference& to = outcome.destination;
            if (to.repository() == source.repository()) continue;
            current = outcome.written ? nullptr : &outcome;
            if (!outcome.written && filled.insert(to.repository()).second) copy_by_digest(client, placer, content, to);
            // Referrers may have been added since an earlier copy: an unchanged destination gets them too.
            if (request.referrers && referred.insert(to.repository()).second)
                referrers.push_back(copy_referrers(client, placer, source, to, result.digest));
            if (!to.tag) outcome.written = true;  // a bare repository is the digest itself
        }
        // Then the tags, each confirmed.
        for (auto& outcome : result.destinations) {
            const Reference& to = outcome.destination;
            if (outcome.written) continue;
            current = &outcome;
            // The registry's Docker-Content-Digest on the PUT is the confirmation; without it, ask.
            if (!put(client, to, content.top).confirmed) {
                auto now = client.head_manifest(to);
                if (!now || now->digest != result.digest)
                    throw_check_failed("after writing, " + to.str() + " resolves to " +
                                       (now ? now->digest.str() : "nothing") + ", not " + result.digest.str());
            }
            outcome.written = true;
        }
        current = nullptr;
        for (const auto& copied : referrers) {
            write_fallback_tag(client, copied, result.digest);
            result.referrers += copied.count;
            result.referrers_skipped += copied.skipped;
        }
    } catch (const Error& e) {
        if (current) current->failed = true;
        result.error = e.what();
        throw PromoteFailure(e, std::move(result));
    } catch (const std::exception& e) {
        // Whatever went wrong, what was written is still to be recorded.
        Error unexpected(ErrorKind::Registry, std::string("unexpected failure: ") + e.what());
        if (current) current->failed = true;
        result.error = unexpected.what();
        throw PromoteFailure(unexpected, std::move(result));
    }
    return result;
}

}  // namespace digestflow::operations
