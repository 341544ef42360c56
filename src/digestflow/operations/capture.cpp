#include "digestflow/operations/capture.hpp"

#include "digestflow/ci_facts.hpp"
#include "digestflow/operations/git_command.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/media_types.hpp"
#include "digestflow/quote.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace digestflow::operations {
namespace {

[[noreturn]] void refuse_image_id(const Reference& image, const Digest& digest) {
    throw_usage(digest.str() + " is the image ID (the config blob) of " + image.repository() +
                ", not its manifest digest: registries address images by the digest of the manifest, which "
                "differs. Take the digest from the push (buildah/podman --digestfile, docker push output, "
                "buildx --metadata-file containerimage.digest) or use --resolve");
}

std::vector<PlatformEntry> platforms_of(const Manifest& index) {
    std::vector<PlatformEntry> out;
    for (const auto& child : index.manifests) {
        PlatformEntry entry;
        if (child.platform) {
            entry.os = child.platform->os;
            entry.architecture = child.platform->architecture;
            entry.variant = child.platform->variant;
        }
        entry.digest = child.digest.str();
        entry.media_type = child.media_type;
        entry.size = child.size;
        out.push_back(std::move(entry));
    }
    return out;
}

// What a blob is, judged from its JSON: a manifest, an image config, or neither (a layer).
enum class BlobKind { Manifest, Config, Other };
BlobKind classify_blob(const std::string& bytes) {
    nlohmann::json doc;
    try {
        doc = parse_json_input_unordered(bytes, JsonInput{"blob", "", false});  // depth-bounded: a blob is anything
    } catch (const Error&) {
        return BlobKind::Other;
    }
    if (!doc.is_object()) return BlobKind::Other;
    if (doc.contains("manifests") || doc.contains("layers")) return BlobKind::Manifest;
    if (doc.contains("rootfs") || doc.contains("architecture") || doc.contains("os")) return BlobKind::Config;
    return BlobKind::Other;
}

// Fetches a digest the build reported. When the registry has no manifest under it (distribution answers 404,
// or 500 for a config blob), the blob store tells an image ID or a layer apart from a digest that is not there.
registry::FetchedManifest fetch_given_manifest(registry::RegistryClient& client, const Reference& image,
                                               const Digest& digest) {
    std::optional<Error> server_error;
    try {
        if (auto fetched = client.get_manifest(image.with_digest(digest), false)) return *fetched;
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Registry) throw;
        server_error = e;
    }
    auto blob = client.head_blob(image, digest);
    if (!blob) {
        if (server_error) throw *server_error;
        throw_usage(digest.str() + " is not a manifest in " + image.repository() +
                    " (the registry does not have it): check that the push went to this repository, or pass "
                    "--offline to record it without checking");
    }
    // Manifests and configs are small; anything over the manifest bound is a layer, without fetching it.
    constexpr std::int64_t small_blob_limit = 4 * 1024 * 1024;
    std::optional<std::string> bytes;
    if (*blob >= 0 && *blob <= small_blob_limit) bytes = client.get_small_blob(image, digest);
    BlobKind kind = bytes ? classify_blob(*bytes) : BlobKind::Other;
    if (kind == BlobKind::Config) refuse_image_id(image, digest);
    if (kind == BlobKind::Other)
        throw_usage(digest.str() + " is a layer or other blob in " + image.repository() +
                    ", not a manifest: take the digest the push reported");
    // It is a manifest after all and the first answer was a passing server error: ask again, with retries.
    auto fetched = client.get_manifest(image.with_digest(digest));
    if (!fetched) throw_registry("the registry stopped serving " + image.with_digest(digest).str());
    return *fetched;
}

// A source that listed the index and then its platform images (ko multi-platform refs): every later digest
// must be a child of the index, or the file held several images and nothing tells which one is meant.
void check_platform_digests(const CapturedDigest& given, const Reference& image, const Manifest& fetched) {
    for (const auto& digest : given.platform_digests) {
        bool child = fetched.is_index() && std::any_of(fetched.manifests.begin(), fetched.manifests.end(),
                                                       [&](const auto& m) { return m.digest == digest; });
        if (!child)
            throw_usage("the " + given.source + " source lists several digests for " + image.repository() + ": " +
                        given.digest.str() + " first, then " + digest.str() + ", which " +
                        (fetched.is_index() ? "is not one of its platforms" : "it cannot contain (it is no index)") +
                        "; pass the file of one build, or the digest with --digest");
    }
}

}  // namespace

CaptureResult capture(registry::RegistryClient* client, const CaptureRequest& request) {
    const Reference& image = request.image;
    std::optional<CapturedDigest> given = request.given;
    if (image.digest) {
        // A reference that carries a digest counts as --digest.
        if (given && given->digest != *image.digest)
            throw_usage("--image " + image.str() + " carries digest " + image.digest->str() + " but the " +
                        given->source + " source says " + given->digest.str() + "; give one digest");
        if (!given) given = CapturedDigest{*image.digest, "reference", {}, {}, {}, {}};
    }
    if (given && given->config_digest && *given->config_digest == given->digest) refuse_image_id(image, given->digest);

    auto info_for = [&](const Digest& digest) {
        ImageInfo info{image.repository(), digest};
        info.tag = image.tag.value_or("");
        return info;
    };
    nlohmann::ordered_json build = request.build;
    build["source"] = given ? given->source : "resolve";

    if (request.offline) {
        if (!given) throw_usage("--offline needs a digest source (--digest or a build-tool file); --resolve asks the registry");
        if (!given->platform_digests.empty())
            throw_usage("the " + given->source + " source lists " + std::to_string(given->platform_digests.size() + 1) +
                        " digests for " + image.repository() + "; only the registry can confirm the first is the index "
                        "of the others: capture without --offline, or pass --digest");
        ImageInfo info = info_for(given->digest);
        info.verified = false;
        info.media_type = given->media_type.value_or("");
        info.size = given->size.value_or(-1);
        return CaptureResult{Artifact::create(info, build), 0};
    }
    if (!client) throw_usage("capture needs a registry client unless --offline is given");

    std::optional<registry::FetchedManifest> fetched;
    if (given) {
        fetched = fetch_given_manifest(*client, image, given->digest);
    } else {
        Reference target = image.tag ? image : image.with_tag("latest");
        fetched = client->get_manifest(target);
        if (!fetched) throw_usage(target.str() + " does not exist in the registry; check the tag, or push first");
    }
    if (given && given->media_type && *given->media_type != fetched->media_type)
        throw_usage("the " + given->source + " source says " + given->digest.str() + " is a " + *given->media_type +
                    " but the registry serves a " + fetched->media_type);
    if (given) check_platform_digests(*given, image, fetched->parsed);
    ImageInfo info = info_for(fetched->digest);
    info.media_type = fetched->media_type;
    info.size = static_cast<std::int64_t>(fetched->bytes.size());
    if (fetched->parsed.is_index()) info.platforms = platforms_of(fetched->parsed);
    return CaptureResult{Artifact::create(info, build), client->request_count()};
}

Artifact artifact_to_write(const std::string& path, const Artifact& fresh, bool force) {
    if (path == "-" || force) return fresh;
    // Not the throwing exists(): a path that cannot be looked at (too long, a link loop, a folder we may not
    // enter) is bad input naming --out, not an "unexpected failure" (exit 3).
    std::error_code cannot;
    const bool present = std::filesystem::exists(path, cannot);
    if (cannot)
        throw_usage("--out " + quote(path) + ": cannot check for an existing artifact: " + cannot.message() +
                    " (pass --out a path you can write)");
    if (!present) return fresh;
    std::optional<Artifact> old;
    try {
        old = Artifact::load(path);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Usage) throw;
        throw_usage(std::string(e.what()) + "; pass --force to replace it, or --out another path");
    }
    const ImageInfo was = old->image(), now = fresh.image();
    if (was.repository != now.repository || was.digest != now.digest)
        throw_usage(path + " already records " + was.repository + "@" + was.digest.str() +
                    "; pass --force to replace it, or --out another path");
    nlohmann::ordered_json entry{{"step", "capture"}, {"by", current_actor()}};
    const auto& build = fresh.json()["build"];
    if (build.contains("source")) entry["source"] = build["source"];
    if (!now.tag.empty()) entry["tag"] = now.tag;
    if (!now.verified) entry["verified"] = false;
    // An --offline capture confirmed at the registry now: the image block gains what the registry said (the
    // digest is the same, so nothing the artifact promised changes).
    Artifact kept = *old;
    if (!was.verified && now.verified) {
        nlohmann::ordered_json doc = old->json();
        doc["image"] = fresh.json()["image"];
        kept = Artifact::from_json(doc, path);
    }
    kept.append_history(std::move(entry));
    return kept;
}

std::string commit_author(const std::string& commit) {
    if (std::string from_ci = commit_author_from_environment(); !from_ci.empty()) return from_ci;
    try {
        const GitResult log = run_git(".", {"log", "-1", "--format=%an <%ae>", commit.empty() ? "HEAD" : commit, "--"},
                                      std::chrono::seconds(10));
        return log.ok() ? first_line(log.out) : "";
    } catch (const Error&) {
        return "";  // no git on this machine: the author is simply unknown
    }
}

}  // namespace digestflow::operations
