// GitHub Actions' file and workflow commands: outputs for $GITHUB_OUTPUT, annotations, masks. Pure text
// builders plus one appender; cli/run.cpp decides when to use them (GITHUB_ACTIONS=true).
#pragma once

#include "digestflow/ci/outputs.hpp"

#include <string>
#include <string_view>

namespace digestflow::ci {

// True when the process runs as a GitHub Actions step (GITHUB_ACTIONS=true, as the runner sets it).
bool on_github_actions();

// `name=value` lines; a value holding a line break uses the `name<<DELIM` form with a delimiter that is not a
// line of the value. `delimiter_seed` makes the delimiter (tests pass a fixed one; run_tool a random one).
std::string github_output_text(const Outputs& outputs, const std::string& delimiter_seed);

// Workflow command escaping: data escapes % CR LF; property values also : and ,.
std::string escape_command_data(std::string_view text);
std::string escape_command_property(std::string_view text);

// `::error title=TITLE::MESSAGE` (kind "error", "warning" or "notice").
std::string annotation(std::string_view kind, std::string_view title, std::string_view message);

// `::add-mask::VALUE` for a secret the tool read from its environment.
std::string mask_command(std::string_view secret);

// Appends `text` to the file named by environment variable `variable` ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY).
// Throws Error(Usage) naming the variable when it is unset or the file cannot be appended to.
void append_to_variable_file(const char* variable, const std::string& text);

// A fresh random delimiter seed ("ghadelimiter_" + 32 hex digits), as @actions/core makes.
std::string random_delimiter();

}  // namespace digestflow::ci
