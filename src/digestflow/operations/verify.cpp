#include "digestflow/operations/verify.hpp"

#include "digestflow/error.hpp"
#include "digestflow/media_types.hpp"

namespace digestflow::operations {
namespace {

Check failed(const std::string& target, const std::string& detail, const std::string& found = "") {
    return Check{target, false, detail, found};
}

// A check that ran and said no is a result to record, not an error: content that does not hash (a manifest,
// a child, a blob larger than declared) is reported as a mismatch with the client's reason. Network,
// auth and bad-input errors still propagate.
template <class Body>
Check mismatch_on_check_failure(const std::string& target, Body body) {
    try {
        return body();
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::CheckFailed) throw;
        return failed(target, e.what());
    }
}

struct BlobCounts {
    int hashed = 0;
    int skipped = 0;  // non-distributable layers: the registry does not serve them
};

// Every blob of one image manifest must be there and hash to its digest.
std::optional<Check> check_blobs(registry::RegistryClient& client, const Reference& repo,
                                 const Manifest& manifest, const std::string& target, BlobCounts& counts) {
    for (const auto& blob : manifest.blobs()) {
        if (media_types::is_non_distributable(blob.media_type)) {
            ++counts.skipped;
            continue;
        }
        auto hashed = client.hash_blob(repo, blob.digest, blob.size);
        ++counts.hashed;
        if (!hashed) return failed(target, "blob " + blob.digest.str() + " is missing from " + repo.repository());
        if (hashed->digest != blob.digest)
            return failed(target, "blob " + blob.digest.str() + " hashes to " + hashed->digest.str() +
                                      " as served by the registry");
        if (hashed->size != blob.size)
            return failed(target, "blob " + blob.digest.str() + " has " + std::to_string(hashed->size) +
                                      " bytes, the manifest says " + std::to_string(blob.size));
    }
    return std::nullopt;
}

Check check_reference(registry::RegistryClient& client, const Digest& expected, const Reference& ref) {
    const std::string target = ref.str();
    if (ref.digest && *ref.digest != expected)
        return failed(target, "the reference pins " + ref.digest->str() + ", the artifact's digest is " +
                                  expected.str(), ref.digest->str());
    // With both a tag and a digest the tag is what must resolve: the pinned digest was compared above, and
    // asking the registry for it would never look at the tag.
    const Reference asked = ref.tag ? ref.with_tag(*ref.tag) : ref;
    auto head = client.head_manifest(asked);
    if (!head)
        return failed(target, asked.str() + " does not exist in the registry (the artifact's digest is " +
                                  expected.str() + ")");
    if (head->digest != expected)
        return failed(target,
                      asked.str() + " resolves to " + head->digest.str() + ", not the artifact's digest " +
                          expected.str() + (ref.tag ? " (the tag moved)" : ""),
                      head->digest.str());
    return Check{target, true, asked.str() + " resolves to " + expected.str(), expected.str()};
}

Check check_content(registry::RegistryClient& client, const ImageInfo& image, const std::string& target) {
    const Reference repo = Reference::parse(image.repository);
    const Reference top = repo.with_digest(image.digest);

    // get_manifest refuses bytes that do not hash to the digest asked for.
    auto manifest = client.get_manifest(top);
    if (!manifest) return failed(target, top.str() + " does not exist in the registry");
    int manifests = 1;
    BlobCounts blobs;
    if (manifest->parsed.is_index()) {
        for (const auto& child : manifest->parsed.manifests) {
            auto child_manifest = client.get_manifest(repo.with_digest(child.digest));
            ++manifests;
            if (!child_manifest)
                return failed(target, "index child " + child.digest.str() + " is missing from " + repo.repository());
            if (static_cast<std::int64_t>(child_manifest->bytes.size()) != child.size)
                return failed(target, "index child " + child.digest.str() + " has " +
                                          std::to_string(child_manifest->bytes.size()) + " bytes, the index says " +
                                          std::to_string(child.size));
            if (child_manifest->parsed.is_index()) continue;  // nested indexes: their own children are not walked
            if (auto problem = check_blobs(client, repo, child_manifest->parsed, target, blobs)) return *problem;
        }
    } else if (auto problem = check_blobs(client, repo, manifest->parsed, target, blobs)) {
        return *problem;
    }
    std::string skipped = blobs.skipped == 0
                              ? ""
                              : "; " + std::to_string(blobs.skipped) +
                                    " non-distributable layer(s) skipped (registries do not serve them)";
    return Check{target, true,
                 std::to_string(manifests) + " manifest(s) and " + std::to_string(blobs.hashed) +
                     " blob(s) fetched and hashed" + skipped + "; all match",
                 image.digest.str()};
}

}  // namespace

Check verify_reference(registry::RegistryClient& client, const Artifact& artifact, const Reference& ref) {
    const Digest expected = artifact.image().digest;
    return mismatch_on_check_failure(ref.str(), [&] { return check_reference(client, expected, ref); });
}

Check verify_content(registry::RegistryClient& client, const Artifact& artifact) {
    const ImageInfo image = artifact.image();
    const std::string target =
        "content of " + Reference::parse(image.repository).with_digest(image.digest).str();
    return mismatch_on_check_failure(target, [&] { return check_content(client, image, target); });
}

}  // namespace digestflow::operations
