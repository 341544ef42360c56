// The top of every tool: parse flags, run the tool's body, print the result, map errors to exit codes.
// The library below never prints or exits; this is the one place that does.
#pragma once

#include "digestflow/ci/outputs.hpp"
#include "digestflow/cli/options.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace digestflow::cli {

struct ToolResult {
    int exit_code = 0;
    std::string text;             // human-readable lines (stdout; stderr with --out -), unless --quiet or --json
    nlohmann::ordered_json json;  // the --json document (tool, exitCode and error are added here)
    // For the next CI step: $GITHUB_OUTPUT when GITHUB_ACTIONS=true, the --dotenv file when given.
    ci::Outputs outputs;
    std::string summary;          // Markdown for $GITHUB_STEP_SUMMARY (GITHUB_ACTIONS=true only)
    std::string failure;          // one line for a GitHub error annotation when exit_code is not 0
};

using ToolBody = std::function<ToolResult(const ParsedArgs&)>;

// After the body: outputs, summary and (on failure) an `::error` annotation go to GitHub when
// GITHUB_ACTIONS=true; outputs go to --dotenv FILE when given. Outputs that cannot be delivered fail the run
// (exit 2): a later step would otherwise read nothing. A summary that cannot be written is only a warning.
int run_tool(const ToolSpec& spec, int argc, char** argv, const ToolBody& body);

}  // namespace digestflow::cli
