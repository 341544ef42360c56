// The promoted-from rule: the digest ran in the environment continuously for at least minSoak (from the ledger
// record writes), a later deployment of another digest there ends its run, and an incident recorded against
// it there voids the soak.
#include "digestflow/gate/duration.hpp"
#include "digestflow/gate/evaluation.hpp"
#include "digestflow/ledger/queries.hpp"
#include "digestflow/ledger/timestamp.hpp"

#include <algorithm>

namespace digestflow::gate {

namespace {

bool is_ours(const std::string& digest, const GateInputs& inputs) {
    return digest == inputs.digest ||
           std::find(inputs.child_digests.begin(), inputs.child_digests.end(), digest) != inputs.child_digests.end();
}

std::int64_t seconds_of(const ledger::Entry& entry) { return ledger::parse_rfc3339(entry.at).value_or(0); }

}  // namespace

RuleResult evaluate_promoted_from(const Rule& rule, const GateInputs& inputs) {
    RuleResult result;
    const std::string target = rule.environment;
    if (inputs.ledger_path.empty()) {
        result.reason = "needs the deployment ledger: pass --ledger FILE (the one record writes)";
        return result;
    }
    const ledger::LedgerView view(inputs.ledger_path);
    if (view.torn()) result.details["torn"] = view.torn_report();
    // The last run of the digest in the environment: from the deploy that started it to the deploy of
    // another digest that ended it (or now).
    std::optional<std::int64_t> since;
    std::int64_t ended = 0;  // when another digest replaced it (replaced_by non-empty)
    std::string replaced_by, incident;
    bool current = false;
    for (const ledger::LedgerRecord& record : ledger::history(view, {target, "", std::nullopt, std::nullopt})) {
        const ledger::Entry& e = record.entry;
        if (e.kind == ledger::EntryKind::Deploy) {
            if (is_ours(e.digest, inputs)) {
                if (!current) {
                    since = seconds_of(e);
                    replaced_by.clear();
                    incident.clear();
                }
                current = true;
            } else if (current) {
                current = false;
                ended = seconds_of(e);
                replaced_by = e.digest;
            }
        } else if (e.kind == ledger::EntryKind::Incident && is_ours(e.digest, inputs) && since) {
            incident = e.at + (e.note.empty() ? "" : " (" + e.note + ")");
        }
    }
    if (!since) {
        result.reason = "never deployed to " + target + " (ledger " + inputs.ledger_path + ")";
        return result;
    }
    const std::int64_t end = replaced_by.empty() ? inputs.now : ended;
    const std::int64_t soak = std::max<std::int64_t>(0, end - *since);
    result.details = {{"environment", target}, {"since", ledger::format_rfc3339(*since)}, {"soakSeconds", soak},
                      {"minSoakSeconds", rule.min_soak}};
    const std::string span = "in " + target + " since " + ledger::format_rfc3339(*since) +
                             (replaced_by.empty() ? "" : " until " + ledger::format_rfc3339(ended) + " (replaced by " + replaced_by + ")");
    if (!incident.empty()) {
        result.details["incident"] = incident;
        result.reason = "an incident was recorded against it in " + target + " at " + incident + ": the soak does not count";
        return result;
    }
    result.pass = soak >= rule.min_soak;
    result.reason = "soak " + format_duration(soak) + " of " + format_duration(rule.min_soak) + ": " + span;
    return result;
}

}  // namespace digestflow::gate
