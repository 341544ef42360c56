// The readers: what ran where and when (record history, --at), and what to roll back to. They read each line
// with the fast scanner and parse in full only the lines they return. They do not prove the chain (record
// verify does); a line that is not a ledger line stops them with its number.
#pragma once

#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/ledger_file.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::ledger {

struct LedgerRecord {
    std::size_t line = 0;  // 1-based
    std::string hash;      // line_hash of the line
    std::string text;      // the line as written, with its "\n"
    Entry entry;
};

struct HistoryQuery {
    std::string environment;            // empty: every environment
    std::string digest;                 // empty: every digest (else the entry's digest or one of its platforms)
    std::optional<std::int64_t> since;  // inclusive, seconds since the epoch
    std::optional<std::int64_t> until;  // inclusive
};

std::vector<LedgerRecord> history(const LedgerView& ledger, const HistoryQuery& query);

struct RunningAt {
    LedgerRecord deployment;  // the last deploy line (ledger order) for the environment at or before the time
    std::optional<Hold> hold; // the environment's hold in force at that time, if any
};

// What ran in `environment` at `at` (seconds since the epoch; nullopt: now). Ledger order decides between
// lines of the same second. nullopt when nothing had been deployed there by then.
std::optional<RunningAt> running_at(const LedgerView& ledger, const std::string& environment,
                                    std::optional<std::int64_t> at = std::nullopt);

struct RollbackTarget {
    LedgerRecord target;              // the deployment to go back to
    LedgerRecord current;             // what runs in the environment now (the last deploy line)
    LedgerRecord last_forward;        // the newest deployment that was not itself a rollback
    std::vector<std::string> skipped; // digests passed over because of an incident in the environment
};

// The digest `steps` distinct forward deployments before the newest forward deployment of `environment`:
// rollbacks never count as steps (so rolling back twice does not bounce between two digests), a digest
// deployed again counts once, and a digest with an incident recorded in the environment is skipped. Throws
// Error(CheckFailed) saying what the ledger holds when there is no such deployment.
RollbackTarget rollback_target(const LedgerView& ledger, const std::string& environment, int steps);

// For appends: is `line` a deploy line of `environment`? (fast: the scanner, no full parse)
bool is_deploy_to(std::string_view line, const std::string& environment);

}  // namespace digestflow::ledger
