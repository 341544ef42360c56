// gate-check's commands: evaluate a policy (the default), and approve (write an SSH-signed approval).
#pragma once

#include "digestflow/cli/run.hpp"

namespace digestflow::gate_tool {

struct Command {
    std::string word;  // "" for the default command
    cli::ToolSpec spec;
    cli::ToolBody body;
};

const Command& evaluate_command();
const Command& approve_command();

// --now TIME (RFC 3339) or the clock.
std::int64_t now_from(const cli::ParsedArgs& args);

}  // namespace digestflow::gate_tool
