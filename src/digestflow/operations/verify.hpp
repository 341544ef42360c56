// verify-digest's library calls: prove that a reference, or the registry's content, is the artifact's digest.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/reference.hpp"
#include "digestflow/registry/client.hpp"

#include <string>
#include <vector>

namespace digestflow::operations {

struct Check {
    std::string target;    // what was checked: a reference, or "content of REPO@DIGEST"
    bool match = false;
    std::string detail;    // one line: why it matches or not
    std::string found;     // the digest found, when one was
};

// Resolves ref (a tag: once, with every manifest type accepted; a digest: checks it exists) and compares it
// with the artifact's digest. REPO:TAG@DIGEST must pin the artifact's digest and its tag must resolve to it.
// A tag that moved, or no longer exists, and content the registry serves that does not hash are failed
// checks, not errors; network, auth and bad-input errors are thrown.
Check verify_reference(registry::RegistryClient& client, const Artifact& artifact, const Reference& ref);

// Fetches the artifact's manifest by digest, and for an index every child, hashing every byte; then fetches
// every blob they reference and hashes it while streaming, except non-distributable (foreign) layers, which
// registries do not serve: those are counted as skipped in the detail. Any mismatch, missing piece, or bytes
// that do not hash (also a blob longer than declared) fail the check rather than throw.
Check verify_content(registry::RegistryClient& client, const Artifact& artifact);

}  // namespace digestflow::operations
