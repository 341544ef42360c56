// record verify: proves a ledger is one unbroken chain of well-formed entries from the genesis value, whose
// holds follow from its hold and release lines, and (given keys) that every line is signed by one of them.
// Reads each line once with the fast scanner; the chain hash covers every byte, so an edited, removed,
// inserted or moved line breaks the chain at (or just after) the place it happened.
#pragma once

#include "digestflow/ledger/ledger_file.hpp"
#include "digestflow/ledger/signing.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::ledger {

struct ChainProblem {
    std::size_t line = 0;  // 1-based; lines + 1 for a torn tail
    std::string why;       // one sentence
};

struct ChainReport {
    std::size_t lines = 0;         // complete lines read
    std::size_t signed_lines = 0;  // lines carrying a signature
    std::size_t checked_signatures = 0;
    std::string head;              // line_hash of the last complete line (genesis_prev for an empty ledger)
    std::optional<ChainProblem> problem;  // the first one found; nullopt = the ledger verifies
};

// With `keys` empty signatures are counted, not checked; with keys every line must carry a signature that one
// of them verifies. Each of `anchors` (entry hashes kept elsewhere, e.g. an artifact's record entry) must be
// the hash of a line: a chain alone cannot see its last lines rewritten or cut off. A torn tail is a problem
// (verify does not pass a ledger a writer died in).
ChainReport check_chain(const LedgerView& ledger, const std::vector<VerifyKey>& keys,
                        const std::vector<std::string>& anchors = {});

}  // namespace digestflow::ledger
