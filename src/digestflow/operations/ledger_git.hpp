// Ledger writes through Git (record --git): the ledger file lives in a Git work tree; an append is committed
// with a message naming what it records (the entry hash as a "Digestflow-Entry" trailer) and pushed. When the
// push is refused because the remote moved on, the new tip is fetched, the entry is built again on the new last
// line (its `prev`, and any hold, come from there) and the push is retried, a bounded number of times, never
// forced.
#pragma once

#include "digestflow/ledger/ledger_file.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace digestflow::operations {

struct GitLedgerOptions {
    std::string remote = "origin";
    // Pushes tried before giving up (exit 3). Four writers pushing back to back (ledger_git_test) needed up to 10
    // for the unluckiest append: a writer that just landed starts its next entry while the losers wait.
    int attempts = 30;
    std::chrono::milliseconds backoff{200};  // first retry delay; doubles, with jitter, capped at 5 s
};

struct GitAppended {
    ledger::Appended appended;
    std::string commit;  // the commit that landed on the remote
    std::string branch;
    int attempts = 1;
};

// `subject` is the commit's first line, e.g. "record: production <- registry/app@sha256:… (build-456)".
// make_line is called once per attempt with that attempt's tip. Throws Error(Usage) when the ledger is not in a
// Git work tree or the work tree has changes that would be overwritten; Error(Registry) when the remote refuses
// for another reason (a hook, a protected branch: the remote's words are quoted) or the attempts run out.
GitAppended append_line_in_git(const std::string& ledger_path, const std::string& subject,
                               const std::function<std::string(const ledger::Tip&)>& make_line,
                               const GitLedgerOptions& options = {});

}  // namespace digestflow::operations
