#include "digestflow/gate/evaluation.hpp"

namespace digestflow::gate {

Decision evaluate(const Policy& policy, const GateInputs& inputs) {
    Decision decision;
    for (const Rule& rule : policy.rules_for(inputs.environment)) {
        RuleResult result;
        switch (rule.type) {
            case Rule::Type::Approvals: result = evaluate_approvals(rule, policy, inputs, decision); break;
            case Rule::Type::Age: result = evaluate_age(rule, inputs); break;
            case Rule::Type::Window: result = evaluate_window(rule, inputs); break;
            case Rule::Type::PromotedFrom: result = evaluate_promoted_from(rule, inputs); break;
            case Rule::Type::Check: result = evaluate_check(rule, inputs, decision); break;
        }
        result.rule = &rule;
        decision.results.push_back(std::move(result));
    }
    decision.allow = std::all_of(decision.results.begin(), decision.results.end(), [](const RuleResult& r) { return r.pass; });
    return decision;
}

}  // namespace digestflow::gate
