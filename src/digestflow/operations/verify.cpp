#include "digestflow/operations/verify.hpp"

#include "digestflow/error.hpp"

namespace digestflow::operations {
namespace {

Check failed(const std::string& target, const std::string& detail, const std::string& found = "") {
    return Check{target, false, detail, found};
}

// Every blob of one image manifest must be there and hash to its digest.
std::optional<Check> check_blobs(registry::RegistryClient& client, const Reference& repo, const Manifest& manifest,
                                 const std::string& target, int& blob_count) {
    for (const auto& blob : manifest.blobs()) {
        auto hashed = client.hash_blob(repo, blob.digest, blob.size);
        ++blob_count;
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

}  // namespace

Check verify_reference(registry::RegistryClient& client, const Artifact& artifact, const Reference& ref) {
    const Digest expected = artifact.image().digest;
    const std::string target = ref.str();
    if (ref.digest && *ref.digest != expected)
        return failed(target, "the reference pins " + ref.digest->str() + ", the artifact's digest is " +
                                  expected.str(), ref.digest->str());
    auto head = client.head_manifest(ref);
    if (!head)
        return failed(target, target + " does not exist in the registry (the artifact's digest is " + expected.str() + ")");
    if (head->digest != expected)
        return failed(target, target + " resolves to " + head->digest.str() + ", not the artifact's digest " +
                                  expected.str() + " (the tag moved)", head->digest.str());
    return Check{target, true, target + " resolves to " + expected.str(), expected.str()};
}

Check verify_content(registry::RegistryClient& client, const Artifact& artifact) {
    const ImageInfo image = artifact.image();
    const Reference repo = Reference::parse(image.repository);
    const Reference top = repo.with_digest(image.digest);
    const std::string target = "content of " + top.str();

    // get_manifest refuses bytes that do not hash to the digest asked for.
    auto manifest = client.get_manifest(top);
    if (!manifest) return failed(target, top.str() + " does not exist in the registry");
    int manifests = 1, blobs = 0;
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
    return Check{target, true,
                 std::to_string(manifests) + " manifest(s) and " + std::to_string(blobs) +
                     " blob(s) fetched and hashed; all match",
                 image.digest.str()};
}

}  // namespace digestflow::operations
