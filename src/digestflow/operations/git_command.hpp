// Runs the git binary (operations/subprocess): the ledger's Git store and record pin --commit; git's own
// semantics stay (hooks, credentials, config).
#pragma once

#include "digestflow/operations/subprocess.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace digestflow::operations {

using GitResult = ProgramResult;

// Runs `git -C <dir> <args...>` with stdin from /dev/null, LC_ALL=C (so the words we parse are git's English
// ones) and GIT_TERMINAL_PROMPT=0 (a CI job must fail, not wait for a password) and
// GIT_LITERAL_PATHSPECS=1 (paths are file names, not globs). A non-zero exit is a result.
// Throws Error(Usage) when git cannot be started, Error(Registry) when it outlives `timeout` (it is killed,
// with its process group: a push's ssh or remote helper goes too).
GitResult run_git(const std::string& dir, const std::vector<std::string>& args,
                  std::chrono::seconds timeout = std::chrono::seconds(60));

// The first line of git's output with leading empty lines skipped, without its newline ("" for none). Spaces
// are kept: a porcelain status line starts with one.
std::string first_line(const std::string& output);

}  // namespace digestflow::operations
