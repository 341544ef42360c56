// The top of every tool: parse flags, run the tool's body, print the result, map errors to exit codes.
// The library below never prints or exits; this is the one place that does.
#pragma once

#include "digestflow/cli/options.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace digestflow::cli {

struct ToolResult {
    int exit_code = 0;
    std::string text;             // human-readable lines (stdout; stderr with --out -), unless --quiet or --json
    nlohmann::ordered_json json;  // the --json document (tool, exitCode and error are added here)
};

using ToolBody = std::function<ToolResult(const ParsedArgs&)>;

int run_tool(const ToolSpec& spec, int argc, char** argv, const ToolBody& body);

}  // namespace digestflow::cli
