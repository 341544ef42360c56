// The record commands: each a ToolSpec (its flags and --help) and a body over the ledger library.
#pragma once

#include "digestflow/cli/run.hpp"

#include <string_view>

namespace digestflow::record_tool {

struct Command {
    std::string_view word;  // "history"; "" for the default command (append a deployment)
    const cli::ToolSpec& spec;
    cli::ToolBody body;
};

const Command& append_command();
const Command& incident_command();
const Command& hold_command();
const Command& release_command();
const Command& repair_command();
const Command& history_command();
const Command& verify_command();
const Command& rollback_target_command();
const Command& pin_command();

}  // namespace digestflow::record_tool
