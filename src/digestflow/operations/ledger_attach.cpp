#include "digestflow/operations/ledger_attach.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/media_types.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/referrers.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <set>

namespace digestflow::operations {
namespace {

using Json = nlohmann::ordered_json;
using registry::RegistryClient;

// The OCI empty descriptor's blob: the config of an artifact that has none.
constexpr std::string_view empty_config = "{}";
constexpr std::string_view empty_media_type = "application/vnd.oci.empty.v1+json";
constexpr const char* created_annotation = "org.opencontainers.image.created";
constexpr const char* environment_annotation = "dev.digestflow.environment";
// Read-merge-write of the fallback tag is not atomic: another writer may replace the index between our read
// and our write. Our descriptor is checked after each write and merged again a few times.
constexpr int fallback_attempts = 5;

Json descriptor_json(std::string_view media_type, const Digest& digest, std::int64_t size) {
    return Json{{"mediaType", std::string(media_type)}, {"digest", digest.str()}, {"size", size}};
}

// A string member of a document from outside; empty when absent or not a string.
std::string text_member(const nlohmann::json& doc, const char* key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A small blob into the repository unless it is there already (the empty config usually is).
void ensure_blob(RegistryClient& client, const Reference& repository, const Digest& digest,
                 std::string_view bytes) {
    if (client.head_blob(repository, digest))
        return;
    std::string location = client.start_upload(repository);
    client.finish_upload(repository, location, digest, std::make_shared<const std::string>(bytes));
}

bool lists(const registry::FetchedManifest& index, const Digest& digest) {
    return std::any_of(index.parsed.manifests.begin(), index.parsed.manifests.end(),
                       [&](const Descriptor& d) { return d.digest == digest; });
}

// Adds our descriptor to the subject's fallback tag, keeping every descriptor already there (other tools'
// signatures and attestations, other environments' entries), and reads it back to see it stayed.
void merge_into_fallback_tag(RegistryClient& client, const Reference& tag, const Json& descriptor,
                             const Digest& manifest) {
    Json index{{"schemaVersion", 2}, {"mediaType", std::string(media_types::oci_index)}};
    index["manifests"] = Json::array({descriptor});
    const std::string incoming = index.dump();
    for (int attempt = 1; attempt <= fallback_attempts; ++attempt) {
        auto existing = client.get_manifest(tag);
        if (existing && !existing->parsed.is_index())
            throw_check_failed(tag.str() + " holds a " + quote(existing->media_type) +
                               ", not a referrers index; refusing to replace it (move that tag away first)");
        if (existing && lists(*existing, manifest))
            return;
        std::string merged = merge_referrers_index(existing ? existing->bytes : "", incoming);
        // An existing Docker list keeps its type: the registry checks the Content-Type against the document.
        client.put_manifest(tag, merged,
                            existing ? existing->media_type : std::string(media_types::oci_index));
        auto now = client.get_manifest(tag);
        if (now && now->parsed.is_index() && lists(*now, manifest))
            return;
    }
    throw_registry("the referrers fallback tag " + tag.str() + " lost " + manifest.str() +
                   " to other writers " + std::to_string(fallback_attempts) + " times; run again");
}

// An attached entry that passed every check: its line and its time (the sort key).
struct Checked {
    std::string line;
    std::string at;
};

[[noreturn]] void refuse(const Reference& image, const Digest& manifest, const std::string& why) {
    throw_check_failed(
        "the artifact " + manifest.str() + " listed as a deployment entry of " + image.str() + " " + why +
        "; refusing the registry's history (delete that artifact or its listing if it is not yours)");
}

Checked check_attached(RegistryClient& client, const Reference& image, const Digest& manifest) {
    const Digest& subject = *image.digest;
    std::optional<registry::FetchedManifest> fetched;
    try {
        fetched = client.get_manifest(image.with_digest(manifest)); // hash-checked by the client
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Usage)
            throw;
        refuse(image, manifest, std::string("is not a manifest we can read (") + e.what() + ")");
    }
    if (!fetched)
        refuse(image, manifest, "is not in the registry");
    if (!media_types::is_image_manifest(fetched->media_type) || fetched->parsed.is_index())
        refuse(image, manifest, "is a " + quote(fetched->media_type) + ", not an image manifest");
    auto doc = try_parse_json(fetched->bytes);
    if (!doc || !doc->is_object() || text_member(*doc, "artifactType") != deployment_artifact_type)
        refuse(image, manifest, std::string("does not have artifactType ") + deployment_artifact_type);
    if (!refers_to(fetched->parsed, subject))
        refuse(image, manifest, "does not name " + subject.str() + " as its subject");
    const auto& layers = fetched->parsed.layers;
    if (layers.size() != 1 || layers[0].media_type != deployment_artifact_type)
        refuse(image, manifest,
               "does not hold exactly one layer of type " + std::string(deployment_artifact_type));
    if (layers[0].size > static_cast<std::int64_t>(ledger::max_line_bytes))
        refuse(image, manifest,
               "has a layer of " + std::to_string(layers[0].size) + " bytes, longer than any entry");

    std::optional<std::string> line;
    try {
        line = client.get_small_blob(image, layers[0].digest, ledger::max_line_bytes + 1); // hash-checked
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::CheckFailed)
            throw;
        refuse(image, manifest, std::string("has a layer the registry serves wrongly (") + e.what() + ")");
    }
    if (!line)
        refuse(image, manifest, "has its layer " + layers[0].digest.str() + " missing from the registry");
    if (line->empty() || line->back() != '\n' || line->find('\n') != line->size() - 1)
        refuse(image, manifest, "has a layer that is not one \"\\n\"-terminated ledger line");
    ledger::Entry entry;
    try {
        entry = ledger::parse_line(*line, "its layer");
    } catch (const Error& e) {
        refuse(image, manifest, std::string("is not a ledger entry (") + e.what() + ")");
    }
    if (entry.digest != subject.str())
        refuse(image, manifest, "holds an entry for " + quote(entry.digest) + ", not " + subject.str());
    auto annotations = doc->find("annotations");
    std::string environment;
    if (annotations != doc->end() && annotations->is_object())
        environment = text_member(*annotations, environment_annotation);
    if (environment != entry.environment)
        refuse(image, manifest,
               "says environment " + quote(environment) + " but its entry says " + quote(entry.environment));
    return Checked{std::move(*line), entry.at};
}

} // namespace

AttachedEntry attach_entry(RegistryClient& client, const Reference& repository, const Descriptor& subject,
                           const std::string& environment, const std::string& line) {
    const Reference image = repository.with_digest(subject.digest);
    if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1)
        throw_usage("the entry to attach to " + image.str() + " must be one \"\\n\"-terminated ledger line");
    if (line.size() > ledger::max_line_bytes)
        throw_usage("the entry to attach to " + image.str() + " is longer than " +
                    std::to_string(ledger::max_line_bytes) + " bytes");
    ledger::Entry entry = ledger::parse_line(line, "the entry to attach to " + image.str());
    if (entry.digest != subject.digest.str())
        throw_usage("the entry to attach to " + image.str() + " names " + quote(entry.digest) +
                    ", not the image's digest");
    if (entry.environment != environment)
        throw_usage("the entry to attach to " + image.str() + " is for environment " +
                    quote(entry.environment) + ", not " + quote(environment));

    client.expect_push({image}, image);
    // The subject is looked up, not trusted: an entry attached in the wrong repository would be found by no
    // one.
    auto head = client.head_manifest(image);
    if (!head)
        throw_check_failed(
            image.str() + " is not in the registry: attach the entry in the repository that holds the image");
    Descriptor named = subject;
    if (named.media_type.empty())
        named.media_type = head->media_type;
    if (named.size <= 0)
        named.size = head->size;
    if (named.media_type.empty() || named.size <= 0)
        throw_registry("looking up " + image.str() + ": the registry did not say its media type and size");

    const Digest config_digest = Digest::of(empty_config);
    const Digest layer_digest = Digest::of(line); // = the entry's ledger hash
    ensure_blob(client, image, config_digest, empty_config);
    ensure_blob(client, image, layer_digest, line);

    Json annotations{{created_annotation, entry.at}, {environment_annotation, environment}};
    Json manifest{{"schemaVersion", 2},
                  {"mediaType", std::string(media_types::oci_manifest)},
                  {"artifactType", deployment_artifact_type},
                  {"config", descriptor_json(empty_media_type, config_digest,
                                             static_cast<std::int64_t>(empty_config.size()))},
                  {"layers", Json::array({descriptor_json(deployment_artifact_type, layer_digest,
                                                          static_cast<std::int64_t>(line.size()))})},
                  {"subject", descriptor_json(named.media_type, named.digest, named.size)},
                  {"annotations", annotations}};
    const std::string bytes = manifest.dump();
    const Digest digest = Digest::of(bytes);
    auto put = client.put_manifest(image.with_digest(digest), bytes, std::string(media_types::oci_manifest));
    if (put.subject_indexed)
        return AttachedEntry{digest, line, "referrers API"};

    const std::string tag = referrers_fallback_tag(subject.digest);
    Json descriptor =
        descriptor_json(media_types::oci_manifest, digest, static_cast<std::int64_t>(bytes.size()));
    descriptor["artifactType"] = deployment_artifact_type;
    descriptor["annotations"] = annotations;
    merge_into_fallback_tag(client, image.with_tag(tag), descriptor, digest);
    return AttachedEntry{digest, line, "fallback tag " + tag};
}

std::vector<AttachedEntry> attached_entries(RegistryClient& client, const Reference& image) {
    if (!image.digest)
        throw_usage(quote(image.str()) + " names no digest: give the image as REPOSITORY@DIGEST");
    const Reference subject = image.with_digest(*image.digest);
    auto listed = client.get_referrers(subject);
    if (!listed)
        return {};
    const std::string how =
        listed->from_api ? "referrers API" : "fallback tag " + referrers_fallback_tag(*image.digest);
    Manifest index = parse_manifest(listed->index, "", "the referrers of " + subject.str());

    std::vector<AttachedEntry> out;
    std::vector<std::string> times;
    std::set<std::string> seen;
    for (const auto& descriptor : index.manifests) {
        // Others' referrers (signatures, SBOMs) share the listing; only ours are read.
        if (descriptor.artifact_type != deployment_artifact_type ||
            !seen.insert(descriptor.digest.str()).second)
            continue;
        Checked checked = check_attached(client, subject, descriptor.digest);
        out.push_back(AttachedEntry{descriptor.digest, std::move(checked.line), how});
        times.push_back(std::move(checked.at));
    }
    std::vector<std::size_t> order(out.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (times[a] != times[b])
            return times[a] < times[b];
        return out[a].manifest.str() < out[b].manifest.str();
    });
    std::vector<AttachedEntry> sorted;
    for (std::size_t i : order)
        sorted.push_back(std::move(out[i]));
    return sorted;
}

} // namespace digestflow::operations
