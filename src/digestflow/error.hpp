// The one error type the library throws. Tools catch it at the top and map `kind` to an exit code
// (cli/exit_codes.hpp); nothing below the tools prints or exits.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace digestflow {

enum class ErrorKind {
    Usage,        // bad flags or bad input: malformed reference, artifact, file (exit 2)
    CheckFailed,  // the check itself said no: mismatch, moved tag (exit 1)
    Registry,     // registry or network failure after retries (exit 3)
    Auth,         // authentication or authorization refused (exit 4)
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), m_kind(kind) {}
    ErrorKind kind() const { return m_kind; }

private:
    ErrorKind m_kind;
};

// An error that retrying cannot fix (an untrusted certificate, a transfer that cannot resume): the client's
// retry loop passes it straight up.
class FinalError : public Error {
public:
    using Error::Error;
};

// An error that also carries what was done before it (e.g. the destinations a failed promotion did write):
// cli/run.cpp adds `details`' members to the error --json document.
class ReportedError : public Error {
public:
    ReportedError(const Error& error, std::shared_ptr<const nlohmann::ordered_json> details)
        : Error(error.kind(), error.what()), m_details(std::move(details)) {}
    const nlohmann::ordered_json& details() const { return *m_details; }

private:
    std::shared_ptr<const nlohmann::ordered_json> m_details;  // a JSON object; shared: exceptions are copied
};

// Shorthands so call sites read as the condition they report.
[[noreturn]] inline void throw_usage(const std::string& message) { throw Error(ErrorKind::Usage, message); }
[[noreturn]] inline void throw_check_failed(const std::string& message) {
    throw Error(ErrorKind::CheckFailed, message);
}
[[noreturn]] inline void throw_registry(const std::string& message) { throw Error(ErrorKind::Registry, message); }
[[noreturn]] inline void throw_auth(const std::string& message) { throw Error(ErrorKind::Auth, message); }

}  // namespace digestflow
