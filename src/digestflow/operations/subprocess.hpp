// Runs a program as a subprocess: an argv (never a shell string), stdin from a string or /dev/null, stdout and
// stderr captured (each cut at 1 MiB), in its own process group, bounded in time. git (the ledger's store,
// pin commits) and ssh-keygen (approval signatures) go through here.
#pragma once

#include "digestflow/error.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::operations {

struct ProgramResult {
    int exit_code = -1;  // 128 + N when it died of signal N
    std::string out;
    std::string err;
    bool ok() const { return exit_code == 0; }
};

struct ProgramRun {
    std::vector<std::string> argv;          // argv[0] is looked up on PATH
    std::vector<std::string> environment;   // "NAME=VALUE" set (replacing the parent's NAME)
    std::vector<std::string> unset;         // names removed from the parent's environment
    std::optional<std::string> stdin_text;  // nullopt: /dev/null
    std::chrono::seconds timeout{60};
    ErrorKind timeout_kind = ErrorKind::Registry;  // what running out of time means (a remote too slow: 3)
    std::string install_hint;               // ends the message when the program cannot be started
};

// A non-zero exit is a result. Throws Error(Usage) when the program cannot be started, Error(timeout_kind)
// when it outlives the timeout (it is killed with its process group).
ProgramResult run_program(const ProgramRun& run);

}  // namespace digestflow::operations
