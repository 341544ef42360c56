#pragma once

#include <string>
#include <vector>

namespace digestflow::testsupport {

// Pushing content straight through the registry API (plain HTTP, no auth), for content buildah cannot make:
// OCI artifacts with a subject, hand-written indexes. Returns "sha256:<hex>" of what was pushed; throws
// std::runtime_error with the registry's answer on failure.
std::string push_blob(const std::string& host, const std::string& repository, const std::string& bytes);
std::string push_manifest(const std::string& host, const std::string& repository, const std::string& reference,
                          const std::string& bytes, const std::string& media_type);

// An OCI image (linux/amd64 scratch config, each layer a blob of the given bytes, typed as a tar layer) pushed
// under `tag`; returns the manifest's digest.
std::string push_oci_image(const std::string& host, const std::string& repository, const std::string& tag,
                           const std::vector<std::string>& layers = {});

// HEAD of a blob in a repository: whether the registry holds it there (200) or not (404); throws otherwise.
bool blob_exists(const std::string& host, const std::string& repository, const std::string& digest);

}  // namespace digestflow::testsupport
