// Evaluating a policy's rules for one environment: pure (no network, no clock of its own: `now` is given), every
// rule evaluated and reported even after one fails.
#pragma once

#include "digestflow/gate/approval.hpp"
#include "digestflow/gate/policy.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::gate {

struct GateInputs {
    std::string repository, digest;          // the artifact's
    std::vector<std::string> child_digests;  // an index's platform manifests
    std::string builder, commit_author;      // the artifact's build.by and build.commitAuthor ("" when unknown)
    std::string deployer;                    // who runs the gate
    std::optional<std::int64_t> captured_at;
    std::string environment;
    std::int64_t now = 0;
    std::vector<ApprovalVerdict> approvals;         // checked against the binding already
    std::string ledger_path;                        // "" when no --ledger was given
    std::map<std::string, std::string> evidence;    // --evidence NAME=FILE
};

struct RuleResult {
    const Rule* rule = nullptr;
    bool pass = false;
    std::string reason;                  // the words: "2 of 2 approvals: alice@…, bob@…"
    nlohmann::ordered_json details = nlohmann::ordered_json::object();
};

struct Decision {
    bool allow = false;
    std::vector<RuleResult> results;
    std::vector<const ApprovalVerdict*> approvals_used;   // counted by an approvals rule
    std::map<std::string, std::string> evidence_digests;  // NAME -> sha256 of the file read
};

Decision evaluate(const Policy& policy, const GateInputs& inputs);

// One rule each (gate/rule_*.cpp).
RuleResult evaluate_approvals(const Rule& rule, const Policy& policy, const GateInputs& inputs, Decision& decision);
RuleResult evaluate_age(const Rule& rule, const GateInputs& inputs);
RuleResult evaluate_window(const Rule& rule, const GateInputs& inputs);
RuleResult evaluate_promoted_from(const Rule& rule, const GateInputs& inputs);
RuleResult evaluate_check(const Rule& rule, const GateInputs& inputs, Decision& decision);

}  // namespace digestflow::gate
