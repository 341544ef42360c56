// How retag reports a promotion: the --json document and the human lines, for one promotion or a list item,
// complete or failed part-way.
#pragma once

#include "digestflow/cli/run.hpp"
#include "digestflow/operations/promote.hpp"
#include "digestflow/registry/client.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace digestflow::cli {

// {"digest", "destinations": [{reference, action, previous, written, failed}], "blobs", "referrers", ...}
nlohmann::ordered_json describe_promotion(const operations::PromoteResult& result);

// "promoted REPO@DIGEST (TYPE)", one line per destination, blob counts and the request count.
std::string promotion_text(const operations::PromoteResult& result, const Reference& source, int requests,
                           bool referrers_asked);

// "DEST (action), DEST (action)" for the destinations listed.
std::string destination_names(const operations::PromoteResult& result, bool written_only = false);

// Outputs for the next CI step: the source image and `promoted`, the destinations as a comma-separated list
// (references never hold commas; dotenv values cannot hold spaces or line breaks). Also the step summary.
void add_ci_report(ToolResult& tool, const operations::PromoteResult& result, const Reference& source);

// After a failure: "; written before the failure: ..." naming what was written all the same, or "".
std::string written_note(const std::optional<operations::PromoteResult>& partial);

// rateLimit in --json and a line of text, when the registry throttled or sent RateLimit-* headers.
void add_rate_limit(ToolResult& tool, const registry::RegistryClient& client);

}  // namespace digestflow::cli
