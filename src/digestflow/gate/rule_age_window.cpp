// The age rule (captured at most `max` ago) and the window rule (deny or allow weekly ranges, local time).
#include "digestflow/gate/duration.hpp"
#include "digestflow/gate/evaluation.hpp"
#include "digestflow/gate/window.hpp"
#include "digestflow/ledger/timestamp.hpp"

#include <algorithm>

namespace digestflow::gate {

RuleResult evaluate_age(const Rule& rule, const GateInputs& inputs) {
    RuleResult result;
    if (!inputs.captured_at) {
        result.reason = "the artifact says not when it was captured (no capture time in its history)";
        return result;
    }
    const std::int64_t age = inputs.now - *inputs.captured_at;
    constexpr std::int64_t k_clock_skew = 300;  // machines disagree a little; more is an edited artifact
    if (age < -k_clock_skew) {
        result.reason = "captured at " + ledger::format_rfc3339(*inputs.captured_at) + ", after the time of the gate (" +
                        ledger::format_rfc3339(inputs.now) + "): clock skew or an edited artifact";
        return result;
    }
    result.pass = age <= rule.max_age;
    result.reason = "captured " + format_duration(std::max<std::int64_t>(age, 0)) + " ago (" + ledger::format_rfc3339(*inputs.captured_at) +
                    "), at most " + format_duration(rule.max_age) + " allowed";
    result.details = {{"capturedAt", ledger::format_rfc3339(*inputs.captured_at)}, {"ageSeconds", age},
                      {"maxSeconds", rule.max_age}};
    return result;
}

RuleResult evaluate_window(const Rule& rule, const GateInputs& inputs) {
    const LocalTime local = local_time_in(rule.timezone, inputs.now);
    const bool deny = !rule.deny.empty();
    std::string hit;
    for (const std::string& text : deny ? rule.deny : rule.allow) {
        std::string problem;
        const auto range = parse_weekly_range(text, problem);
        if (range && range->contains(local.minute_of_week)) {
            hit = text;
            break;
        }
    }
    RuleResult result;
    result.pass = deny ? hit.empty() : !hit.empty();
    if (deny)
        result.reason = hit.empty() ? "outside every denied window (" + local.text + ")"
                                    : "inside the denied window " + hit + " (" + local.text + ")";
    else
        result.reason = !hit.empty() ? "inside the allowed window " + hit + " (" + local.text + ")"
                                     : "outside every allowed window (" + local.text + ")";
    result.details = {{"timezone", rule.timezone}, {"localTime", local.text}, {"window", hit}};
    return result;
}

}  // namespace digestflow::gate
