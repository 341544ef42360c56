// capture-digest's one library call: turn what the build reported (or the registry, once) into an artifact.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/capture_sources.hpp"
#include "digestflow/reference.hpp"
#include "digestflow/registry/client.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace digestflow::operations {

struct CaptureRequest {
    Reference image;                       // as named by the user (tag kept as a label)
    std::optional<CapturedDigest> given;   // from --digest or a build-tool file; nullopt = --resolve
    bool offline = false;                  // record without asking the registry (marked unverified)
    nlohmann::ordered_json build = nlohmann::ordered_json::object();  // extra build facts (commit, pipeline)
};

struct CaptureResult {
    Artifact artifact;
    int requests = 0;  // HTTP requests made
};

// With a registry: checks the digest is a manifest in the repository (refusing an image ID with an
// explanation), records media type, size and index children. Offline: records the digest as unverified.
// Throws Error(Usage) for wrong input, Error(Registry/Auth) for registry trouble.
CaptureResult capture(registry::RegistryClient* client, const CaptureRequest& request);

// What to write at `path` (--out): `fresh`, unless an artifact for the same repository and digest is already
// there — then that one, its history kept, with a capture entry added (an --offline capture confirmed now
// also gains the registry's image block). Another image's artifact, or an unreadable one, is refused
// (Error(Usage)) unless `force`. Never silently replaces the record of another image, nor wipes history.
Artifact artifact_to_write(const std::string& path, const Artifact& fresh, bool force);

// The source commit's author for build.commitAuthor: what the CI platform says, else `git log -1` of `commit`
// (HEAD when empty) in the current folder when it is a Git work tree; "" when neither knows.
std::string commit_author(const std::string& commit);

}  // namespace digestflow::operations
