// Many promotions in one process (retag --from-list): one client, so connections and tokens are shared; N
// workers; one outcome per item, in input order.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/operations/promote.hpp"

#include <optional>
#include <string>
#include <vector>

namespace digestflow::operations {

struct ListItem {
    int line = 0;                               // 1-based line in the list file
    std::optional<std::string> artifact_path;  // the artifact whose history gets the entry, if any
    PromoteRequest request;
};

// JSON Lines, one object per promotion: {"artifact": PATH} or {"source": "REPO@DIGEST"}, plus "tags" and/or
// "to" (a string or an array of strings), and optionally "allowMove", "referrers" (booleans). Blank lines and
// lines starting with '#' are skipped. Every line is checked (artifacts loaded) before anything runs: a bad
// line is Error(Usage) naming the file and line.
std::vector<ListItem> parse_promotion_list(const std::string& text, const std::string& origin);

// Refuses (Error(Usage)) a destination tag named by two lines, after normalisation (docker.io/library/x:1 is
// x:1), naming both origin:LINE: two promotions of one tag in one run would race. A bare repository (digest
// only, no tag) is no conflict. parse_promotion_list calls it.
void check_distinct_destinations(const std::vector<ListItem>& items, const std::string& origin);

struct ItemOutcome {
    std::optional<PromoteResult> result;
    std::optional<ErrorKind> failure;  // set when the item failed
    std::string error;                 // one line, when it failed
    int requests = 0;      // HTTP requests made for this item
};

// Runs every item with `jobs` workers over one client. An item's failure does not stop the others.
// Items with an artifact get a history entry, saved atomically, for what was written: after a failure too
// (the outcome then has both the partial result and the failure).
std::vector<ItemOutcome> promote_all(registry::RegistryClient& client, const std::vector<ListItem>& items, int jobs,
                                     const ProgressFn& progress = {});

}  // namespace digestflow::operations
