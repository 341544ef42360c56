// record rollback-target's output: a full image-digest.json for the target deployment, taken from the ledger
// entry alone (repository, digest, media type, size, platforms, tag), that retag, verify-digest and record
// accept as they accept a captured one, and the kubectl line that would put it back.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/ledger/queries.hpp"

#include <string>

namespace digestflow::ledger {

// History starts with {"step":"rollback-target","environment","from","entry","steps","ledger"}; recording this
// artifact into the same environment marks the deployment as a rollback.
Artifact rollback_artifact(const RollbackTarget& target, const std::string& ledger_path, const std::string& environment,
                           int steps);

// "kubectl set image deployment/NAME CONTAINER=registry/app@sha256:…" (placeholders when not given).
std::string kubectl_set_image_line(const Entry& target, const std::string& workload, const std::string& container);

}  // namespace digestflow::ledger
