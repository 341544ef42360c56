// The exit codes every tool shares (DESIGN.md §3). Mapped from ErrorKind in exactly one place.
#pragma once

#include "digestflow/error.hpp"

namespace digestflow::cli {

enum ExitCode : int {
    exit_success = 0,       // success, allowed, match
    exit_check_failed = 1,  // the check said no: mismatch, moved tag, gate denied
    exit_usage = 2,         // usage error or bad input
    exit_registry = 3,      // registry or network failure after retries
    exit_auth = 4,          // authentication or authorization refused
};

inline int exit_code_for(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::Usage: return exit_usage;
    case ErrorKind::CheckFailed: return exit_check_failed;
    case ErrorKind::Registry: return exit_registry;
    case ErrorKind::Auth: return exit_auth;
    }
    return exit_registry;
}

}  // namespace digestflow::cli
