// The promoted-from rule: the digest ran in the environment continuously for at least minSoak (from the ledger
// record writes), a later deployment of another digest there ends its run, and an incident recorded against
// it there voids the soak.
#include "digestflow/gate/duration.hpp"
#include "digestflow/gate/evaluation.hpp"
#include "digestflow/ledger/chain_check.hpp"
#include "digestflow/ledger/queries.hpp"
#include "digestflow/ledger/timestamp.hpp"

#include <algorithm>

namespace digestflow::gate {

namespace {

// The digest ran when it was deployed, or when an index holding it was. A child deployed alone is not its
// index: the other platforms never ran.
bool is_ours(const ledger::Entry& entry, const GateInputs& inputs) {
    if (entry.digest == inputs.digest) return true;
    return std::any_of(entry.platforms.begin(), entry.platforms.end(),
                       [&](const PlatformEntry& p) { return p.digest == inputs.digest; });
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
    // The soak is only as good as the ledger: an edited or removed line (the deployment that ended a run?) or
    // a torn tail denies, as record verify would fail.
    const ledger::ChainReport chain = ledger::check_chain(view, {});
    if (chain.problem) {
        result.reason = "the ledger " + inputs.ledger_path + " does not verify (line " + std::to_string(chain.problem->line) +
                        ": " + chain.problem->why + "): run record verify" + (view.torn() ? " and record repair" : "");
        return result;
    }
    // The last run of the digest in the environment: from the deploy that started it to the deploy of
    // another digest that ended it (or now).
    std::optional<std::int64_t> since;
    std::int64_t ended = 0;  // when another digest replaced it (replaced_by non-empty)
    std::string replaced_by, incident;
    bool current = false;
    for (const ledger::LedgerRecord& record : ledger::history(view, {target, "", std::nullopt, std::nullopt})) {
        const ledger::Entry& e = record.entry;
        if (e.kind == ledger::EntryKind::Deploy) {
            if (is_ours(e, inputs)) {
                if (!current) {
                    since = seconds_of(e);
                    replaced_by.clear();
                }
                current = true;
            } else if (current) {
                current = false;
                ended = seconds_of(e);
                replaced_by = e.digest;
            }
        } else if (e.kind == ledger::EntryKind::Incident && (e.digest == inputs.digest || is_ours(e, inputs))) {
            // Any incident against it there counts, also one from an earlier run: redeploying does not clear it.
            incident = e.at + (e.note.empty() ? "" : " (" + e.note + ")");
        }
    }
    if (!since) {
        result.reason = "never deployed to " + target + " (ledger " + inputs.ledger_path + ")";
        return result;
    }
    const std::int64_t end = replaced_by.empty() ? inputs.now : ended;
    if (end < *since) {
        result.reason = "deployed to " + target + " at " + ledger::format_rfc3339(*since) + ", after the time of the gate (" +
                        ledger::format_rfc3339(inputs.now) + ")";
        return result;
    }
    const std::int64_t soak = end - *since;
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
