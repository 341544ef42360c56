#include "digestflow/operations/promote.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/referrers.hpp"
#include "digestflow/registry/byte_pipe.hpp"
#include "digestflow/registry/request_counter.hpp"

#include "digestflow/media_types.hpp"
#include "digestflow/quote.hpp"

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

// Streams one blob from the source registry into an upload session: a producer thread GETs and hashes,
// the PUT reads from a bounded pipe. Memory stays at the pipe's size whatever the blob's.
void stream_blob(RegistryClient& client, const Reference& from, const Reference& to, const std::string& location,
                 const Descriptor& blob, const ProgressFn& progress) {
    registry::BytePipe pipe;
    std::optional<Digest> received;
    auto counter = registry::current_request_counter();
    std::thread producer([&] {
        registry::RequestScope same_count(counter);  // the download counts toward the same promotion
        try {
            DigestHasher hasher(blob.digest.algorithm());
            std::int64_t bytes = 0;
            bool started = false;
            auto found = client.stream_blob(
                from, blob.digest, blob.size,
                [&] {
                    if (started)
                        throw FinalError(ErrorKind::Registry, "the download of " + blob.digest.str() +
                                                                  " broke off mid-upload and cannot resume");
                    started = true;
                },
                [&](const char* data, std::size_t n) {
                    hasher.update(data, n);
                    bytes += static_cast<std::int64_t>(n);
                    if (progress) progress(blob.digest, bytes, blob.size);
                    if (!pipe.write(data, n)) throw FinalError(ErrorKind::Registry, "the upload was abandoned");
                });
            if (!found) throw_registry("blob " + blob.digest.str() + " is missing from " + from.repository());
            received = hasher.finish();
            pipe.close();
        } catch (const std::exception& e) {
            pipe.close(std::string(e.what()));
        }
    });
    try {
        client.finish_upload(to, location, blob.digest, blob.size,
                             [&](char* buffer, std::size_t capacity) { return pipe.read(buffer, capacity); });
    } catch (...) {
        pipe.abandon();
        producer.join();
        throw;
    }
    producer.join();
    if (!received || *received != blob.digest)
        throw_check_failed("blob " + blob.digest.str() + " from " + from.repository() + " hashed to " +
                           (received ? received->str() : "nothing") + " while streaming; refusing it");
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

// Everything the promoted manifest needs in another repository, then the manifest under `name`.
RegistryClient::PutResult copy_into(RegistryClient& client, BlobPlacer& placer, const SourceContent& content, const Reference& to,
               const Reference& name) {
    if (!client.head_manifest(to.with_digest(content.top.digest))) {
        // Children (and their blobs) first, the index last: a registry refuses an index whose children are
        // missing, and a manifest whose blobs are.
        for (const auto& child : content.children) {
            if (client.head_manifest(to.with_digest(child.digest))) continue;
            for (const auto& blob : child.parsed.blobs()) placer.ensure(to, blob);
            put(client, to.with_digest(child.digest), child);
        }
        for (const auto& blob : content.top.parsed.blobs()) placer.ensure(to, blob);
    }
    return put(client, name, content.top);
}

// Copies every referrer of the promoted digest into `to` (each verified by digest, with its blobs), then,
// where the destination does not index subjects itself, merges them into its fallback tag.
int copy_referrers(RegistryClient& client, BlobPlacer& placer, const Reference& source, const Reference& to,
                   const Digest& subject) {
    auto listed = client.get_referrers(source.with_digest(subject));
    if (!listed) return 0;
    Manifest index = parse_manifest(listed->index, "", "referrers of " + source.with_digest(subject).str());
    bool destination_indexes = true;
    for (const auto& referrer : index.manifests) {
        SourceContent content = fetch_source(client, source.with_digest(referrer.digest));
        auto written = copy_into(client, placer, content, to, to.with_digest(referrer.digest));
        destination_indexes = destination_indexes && written.subject_indexed;
    }
    if (!destination_indexes && !index.manifests.empty()) {
        Reference tag = to.with_tag(referrers_fallback_tag(subject));
        auto existing = client.get_manifest(tag);
        std::string merged = merge_referrers_index(existing ? existing->bytes : "", listed->index);
        if (!existing || merged != existing->bytes) client.put_manifest(tag, merged, std::string(media_types::oci_index));
    }
    return static_cast<int>(index.manifests.size());
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
    return out;
}

nlohmann::ordered_json promotion_history_entry(const PromoteResult& result) {
    nlohmann::ordered_json entry{{"step", "retag"}, {"by", current_actor()}, {"to", nlohmann::ordered_json::array()}};
    nlohmann::ordered_json previous = nlohmann::ordered_json::object();
    for (const auto& d : result.destinations) {
        entry["to"].push_back(d.destination.str());
        if (d.previous) previous[d.destination.str()] = d.previous->str();
    }
    if (!previous.empty()) entry["previous"] = previous;
    return entry;
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
                      BlobPlacements* placements) {
    if (!request.source.digest) throw_usage("the source must be REPOSITORY@DIGEST: a tag is never resolved here");
    const Reference source = request.source.with_digest(*request.source.digest);
    SourceContent content = fetch_source(client, source);
    PromoteResult result{content.top.digest, content.top.media_type, {}, {}};

    // Guard every destination before writing anything.
    for (const auto& destination : request.destinations) {
        DestinationOutcome outcome{destination, "", std::nullopt};
        Reference probe = destination.tag ? destination : destination.with_digest(result.digest);
        auto current = client.head_manifest(probe);
        if (current && current->digest == result.digest) {
            outcome.action = "unchanged";
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
    for (const auto& outcome : result.destinations) {
        if (outcome.action == "unchanged") continue;
        const Reference& to = outcome.destination;
        Reference name = to.tag ? to : to.with_digest(result.digest);
        bool confirmed = (to.repository() == source.repository() ? put(client, name, content.top)
                                                                 : copy_into(client, placer, content, to, name))
                             .confirmed;
        // The registry's Docker-Content-Digest on the PUT is the confirmation; without it, ask.
        if (!confirmed && to.tag) {
            auto now = client.head_manifest(to);
            if (!now || now->digest != result.digest)
                throw_check_failed("after writing, " + to.str() + " resolves to " +
                                   (now ? now->digest.str() : "nothing") + ", not " + result.digest.str());
        }
    }
    if (request.referrers) {
        std::set<std::string> done;
        for (const auto& outcome : result.destinations) {
            const Reference& to = outcome.destination;
            if (to.repository() == source.repository() || !done.insert(to.repository()).second) continue;
            result.referrers += copy_referrers(client, placer, source, to, result.digest);
        }
    }
    return result;
}

}  // namespace digestflow::operations
