#include "digestflow/operations/promote.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/operations/blob_copy.hpp"
#include "digestflow/referrers.hpp"

#include "digestflow/media_types.hpp"
#include "digestflow/quote.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <set>

namespace digestflow::operations {
namespace {

using registry::FetchedManifest;
using registry::RegistryClient;

struct SourceContent {
    ManifestCache::Entry top;
    std::vector<ManifestCache::Entry> children;  // index children, in index order
};

// The source and its index children, each verified against its digest; from the run's cache when an earlier
// promotion of the run fetched them.
SourceContent fetch_source(RegistryClient& client, ManifestCache& manifests, const Reference& source) {
    auto top = manifests.get(client, source);
    if (!top) throw_usage(source.str() + " does not exist in the registry: nothing to promote");
    SourceContent content{std::move(top), {}};
    for (const auto& child : content.top->parsed.manifests) {
        auto fetched = manifests.get(client, source.with_digest(child.digest));
        if (!fetched)
            throw_registry("index child " + child.digest.str() + " of " + source.str() + " is missing from the registry");
        content.children.push_back(std::move(fetched));
    }
    return content;
}

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
// children are missing, and a manifest whose blobs are. `known_absent`: the guard has just HEADed the digest
// there and found nothing, so it is not asked again.
RegistryClient::PutResult copy_by_digest(RegistryClient& client, BlobPlacer& placer, const SourceContent& content,
                                         const Reference& to, bool known_absent = false) {
    if (known_absent || !client.head_manifest(to.with_digest(content.top->digest))) {
        for (const auto& child : content.children) {
            if (client.head_manifest(to.with_digest(child->digest))) continue;
            placer.ensure_all(to, blobs_to_copy(child->parsed));
            put(client, to.with_digest(child->digest), *child);
        }
        placer.ensure_all(to, blobs_to_copy(content.top->parsed));
    }
    return put(client, to.with_digest(content.top->digest), *content.top);
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
CopiedReferrers copy_referrers(RegistryClient& client, ManifestCache& manifests, BlobPlacer& placer,
                               const Reference& source, const Reference& to, const Digest& subject) {
    CopiedReferrers copied{to, "", false, 0};
    auto listed = client.get_referrers(source.with_digest(subject));
    if (!listed) return copied;
    Manifest index = parse_manifest(listed->index, "", "referrers of " + source.with_digest(subject).str());
    bool destination_indexes = true;
    std::vector<Digest> strangers;
    for (const auto& referrer : index.manifests) {
        SourceContent content = fetch_source(client, manifests, source.with_digest(referrer.digest));
        // A listing is only the registry's word (anyone who can push can write a fallback tag): a manifest
        // whose own subject is not the digest is no referrer of it, and is not copied as one.
        if (!refers_to(content.top->bytes, subject)) {
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
                      BlobPlacements* placements, DestinationLocks* locks, ManifestCache* manifests) {
    if (!request.source.digest) throw_usage("the source must be REPOSITORY@DIGEST: a tag is never resolved here");
    const Reference source = request.source.with_digest(*request.source.digest);
    PromoteResult result{*source.digest, "", {}, {}};
    // One pull,push token per destination repository serves its lookups, mounts and writes.
    client.expect_push(request.destinations, source);

    // From the guard to the confirmation no other promotion of this run touches these names.
    DestinationLocks own_locks;
    auto held = (locks ? *locks : own_locks).hold(promotion_locked_names(request));

    // Guard every destination before writing anything, and before fetching the source: a re-run that finds
    // every destination already at the digest needs nothing more.
    std::set<std::string> lacking;  // repositories a guard HEAD of the digest found without it
    for (const auto& destination : request.destinations) {
        DestinationOutcome outcome{destination, "", std::nullopt};
        Reference probe = destination.tag ? destination : destination.with_digest(result.digest);
        auto current = client.head_manifest(probe);
        if (current && current->digest == result.digest) {
            outcome.action = "unchanged";
            outcome.written = true;  // nothing to write: it already is what we promise
            if (result.media_type.empty()) result.media_type = current->media_type;
        } else if (current && destination.tag) {
            if (!request.allow_move)
                throw_check_failed(destination.str() + " points at " + current->digest.str() + ", not " +
                                   result.digest.str() + "; refusing to move it (pass --allow-move to move the tag)");
            outcome.action = "moved";
            outcome.previous = current->digest;
        } else {
            outcome.action = destination.repository() == source.repository() ? "tagged" : "copied";
            if (!destination.tag) lacking.insert(destination.repository());
        }
        result.destinations.push_back(std::move(outcome));
    }

    // The source's bytes (verified) only when something is to be written or referrers are to travel.
    const bool writes = std::any_of(result.destinations.begin(), result.destinations.end(),
                                    [](const DestinationOutcome& d) { return !d.written; });
    ManifestCache own_manifests;
    ManifestCache& cache = manifests ? *manifests : own_manifests;
    std::optional<SourceContent> content;
    if (writes || request.referrers) {
        content = fetch_source(client, cache, source);
        result.media_type = content->top->media_type;
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
            if (!outcome.written && filled.insert(to.repository()).second)
                copy_by_digest(client, placer, *content, to, lacking.count(to.repository()) > 0);
            // Referrers may have been added since an earlier copy: an unchanged destination gets them too.
            if (request.referrers && referred.insert(to.repository()).second)
                referrers.push_back(copy_referrers(client, cache, placer, source, to, result.digest));
            if (!to.tag) outcome.written = true;  // a bare repository is the digest itself
        }
        // Then the tags, each confirmed.
        for (auto& outcome : result.destinations) {
            const Reference& to = outcome.destination;
            if (outcome.written) continue;
            current = &outcome;
            // The registry's Docker-Content-Digest on the PUT is the confirmation; without it, ask.
            if (!put(client, to, *content->top).confirmed) {
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
