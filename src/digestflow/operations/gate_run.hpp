// gate-check's work, between the flags and the pure evaluation (gate/): read the policy, its signers file, the
// approvals and the artifact; evaluate; make the artifact's "gate" history entry. And `gate-check approve`:
// write a statement, have ssh-keygen sign it (so ssh-agent and hardware keys work), check the result.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/gate/evaluation.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace digestflow::operations {

struct GateRequest {
    std::string policy_path, environment;
    std::string approvals_dir;                    // "" when none
    std::string ledger_path;                      // "" when none
    std::map<std::string, std::string> evidence;  // NAME -> FILE
    std::string deployer;                         // who runs the gate
    std::int64_t now = 0;
};

struct GateRun {
    std::unique_ptr<gate::Policy> policy;  // the decision's rules point into it
    gate::GateInputs inputs;
    gate::Decision decision;
};

// The artifact's facts for the rules: repository, digest, index children, builder, commit author, capture time.
gate::GateInputs gate_inputs_of(const Artifact& artifact);

// Throws Error(Usage) for a bad policy, signers file, approval file or evidence file (exit 2).
GateRun run_gate(const Artifact& artifact, const GateRequest& request);

// The "gate" history entry: environment, decision, policy sha256, approvals used (approver and signature
// hash) and evidence digests; for a replay (--now) also "evaluatedAt", the time it was evaluated as.
nlohmann::ordered_json gate_history_entry(const GateRun& run, bool replay);

struct ApprovalRequest {
    std::string policy_path, environment, key_path, identity, role, comment;
    std::int64_t now = 0, lifetime = 0;
};

// The approval file's text. Throws Error(Usage) when ssh-keygen fails, or when the signature it made would not
// count (the key is not in the policy's signers file for `identity`): better now than at the gate.
std::string make_approval(const Artifact& artifact, const ApprovalRequest& request);

}  // namespace digestflow::operations
