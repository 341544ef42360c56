// verify-digest --running: does what runs match the artifact? A manifest digest matches the artifact's digest
// or one of its index children; an image ID (config digest) is compared with the config digests of the
// artifact's manifests, fetched by digest from the registry — never with a manifest digest.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/operations/verify.hpp"
#include "digestflow/registry/client.hpp"
#include "digestflow/running_workloads.hpp"

#include <string>
#include <vector>

namespace digestflow::operations {

struct RunningVerdict {
    Check check;                 // target = the container's name
    bool judged = true;          // false: another repository, listed but not judged
    std::string image;
    std::string evidence_field;  // the field that decided
};

// One verdict per container of the report. Judged: those whose image or repo@digest names the artifact's
// repository, and every container named in `containers` (--container). The registry is asked (once per run,
// by digest) only when some judged container offers nothing but an image ID.
std::vector<RunningVerdict> verify_running(registry::RegistryClient& client, const Artifact& artifact,
                                           const RunningWorkloads& workloads, const std::vector<std::string>& containers);

}  // namespace digestflow::operations
