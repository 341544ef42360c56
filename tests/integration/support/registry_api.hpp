#pragma once

#include <string>

namespace digestflow::testsupport {

// Pushing content straight through the registry API (plain HTTP, no auth), for content buildah cannot make:
// OCI artifacts with a subject, hand-written indexes. Returns "sha256:<hex>" of what was pushed; throws
// std::runtime_error with the registry's answer on failure.
std::string push_blob(const std::string& host, const std::string& repository, const std::string& bytes);
std::string push_manifest(const std::string& host, const std::string& repository, const std::string& reference,
                          const std::string& bytes, const std::string& media_type);

// HEAD of a blob in a repository: whether the registry holds it there (200) or not (404); throws otherwise.
bool blob_exists(const std::string& host, const std::string& repository, const std::string& digest);

}  // namespace digestflow::testsupport
