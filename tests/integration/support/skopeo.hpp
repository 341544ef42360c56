#pragma once

#include "support/process.hpp"
#include "support/remote_options.hpp"

#include <string>

namespace digestflow::testsupport {

// skopeo as the independent judge. References are "HOST/REPO:TAG" or "HOST/REPO@sha256:..." ("docker://" is
// added when missing). Without creds skopeo runs with --no-creds, so no auth file of the machine leaks in.

// `skopeo inspect --raw`: the result as is, for tests that expect a refusal.
RunResult skopeo_inspect_raw(const std::string& reference, const RemoteOptions& remote);

// The manifest bytes exactly as the registry serves them; throws with skopeo's output on failure.
std::string raw_manifest(const std::string& reference, const RemoteOptions& remote);

// "sha256:<hex>" of the bytes (OpenSSL EVP).
std::string digest_of_raw(const std::string& bytes);

// digest_of_raw(raw_manifest(...)): the digest as served.
std::string served_digest(const std::string& reference, const RemoteOptions& remote);

// `skopeo copy [--all]`, returning the digest skopeo wrote with --digestfile; throws on failure.
// all=false copies one platform of an index (and so changes the digest), as skopeo does.
std::string skopeo_copy(const std::string& source, const std::string& destination,
                        const RemoteOptions& source_remote, const RemoteOptions& destination_remote,
                        bool all = true);

} // namespace digestflow::testsupport
