// The approvals rule: at least `min` valid approvals from the listed principals, each approver counted once, no
// key counted for two approvers, none of them in a `distinctFrom` role, of the rule's `role` when it names one.
#include "digestflow/gate/evaluation.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace digestflow::gate {

namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// "Alice Liddell <alice@example.com>" (git's author form) is both a name and an address.
std::vector<std::string> identities_in(const std::string& value) {
    std::vector<std::string> out;
    const auto open = value.find('<');
    const auto close = value.find('>', open == std::string::npos ? 0 : open);
    if (open != std::string::npos && close != std::string::npos) {
        std::string name = value.substr(0, open);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        if (!name.empty()) out.push_back(lower(name));
        out.push_back(lower(value.substr(open + 1, close - open - 1)));
    } else if (!value.empty()) {
        out.push_back(lower(value));
    }
    return out;
}

// Whether `principal` (or one of its aliases) is the person in `role_value`.
bool is_person(const Policy& policy, const std::string& principal, const std::string& role_value) {
    const auto people = identities_in(role_value);
    for (const std::string& name : policy.names_of(principal))
        if (std::find(people.begin(), people.end(), lower(name)) != people.end()) return true;
    return false;
}

std::string role_value(const std::string& role, const GateInputs& inputs) {
    if (role == "builder") return inputs.builder;
    if (role == "commitAuthor") return inputs.commit_author;
    return inputs.deployer;
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

}  // namespace

RuleResult evaluate_approvals(const Rule& rule, const Policy& policy, const GateInputs& inputs, Decision& decision) {
    const std::vector<std::string> eligible = policy.principals(rule.from);
    std::vector<std::string> counted, not_counted;
    std::set<std::string> keys;
    nlohmann::ordered_json details{{"min", rule.min}, {"approvals", nlohmann::ordered_json::array()}};
    for (const ApprovalVerdict& verdict : inputs.approvals) {
        const ApprovalStatement& s = verdict.statement;
        std::string why = verdict.why;
        if (verdict.valid) {
            if (std::find(eligible.begin(), eligible.end(), s.approver) == eligible.end()) {
                why = s.approver + " is not among " + joined(rule.from, ", ");
            } else if (rule.role && s.role != *rule.role) {
                why = "role " + (s.role.empty() ? std::string("(none)") : s.role) + ", not " + *rule.role;
            } else if (std::any_of(counted.begin(), counted.end(), [&](const std::string& c) { return lower(c) == lower(s.approver); })) {
                why = s.approver + " is counted once";
            } else if (keys.count(verdict.key_fingerprint)) {
                why = "key " + verdict.key_fingerprint + " already counted for another approver";
            } else {
                for (const std::string& role : rule.distinct_from)
                    if (is_person(policy, s.approver, role_value(role, inputs))) why = s.approver + " is the " + role;
            }
        }
        const bool counts = verdict.valid && why.empty();
        details["approvals"].push_back({{"file", verdict.file}, {"approver", s.approver}, {"counted", counts},
                                        {"signature", verdict.signature_sha256}, {"why", why}});
        if (!counts) {
            not_counted.push_back(verdict.file + " (" + why + ")");
            continue;
        }
        counted.push_back(s.approver);
        keys.insert(verdict.key_fingerprint);
        decision.approvals_used.push_back(&verdict);
    }
    // Separation of duties that cannot be checked is not granted: an unknown builder or commit author denies.
    std::vector<std::string> unknown_roles;
    for (const std::string& role : rule.distinct_from)
        if (role_value(role, inputs).empty()) unknown_roles.push_back(role);
    RuleResult result;
    result.pass = static_cast<int>(counted.size()) >= rule.min && unknown_roles.empty();
    result.reason = std::to_string(counted.size()) + " of " + std::to_string(rule.min) + " approval" +
                    (rule.min == 1 ? "" : "s") + (rule.role ? " (" + *rule.role + ")" : "") +
                    (counted.empty() ? "" : ": " + joined(counted, ", "));
    if (!not_counted.empty()) result.reason += "; not counted: " + joined(not_counted, "; ");
    if (inputs.approvals.empty()) result.reason += " (no approval files)";
    for (const std::string& role : unknown_roles)
        result.reason += role == "commitAuthor"
                             ? "; the artifact does not say who wrote the commit (build.commitAuthor): capture it with "
                               "--commit-author, or in CI where the platform says"
                             : "; the " + role + " is unknown" + (role == "builder" ? " (the artifact has no build.by)" : " (give --deployer)");
    result.details = details;
    return result;
}

}  // namespace digestflow::gate
