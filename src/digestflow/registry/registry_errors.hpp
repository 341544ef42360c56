// The one place that turns a registry's unsuccessful answer into a typed Error: the registry's own error
// code and message, what we were doing, and the exit-code class (auth, registry, usage).
#pragma once

#include "digestflow/registry/http.hpp"

#include <string>
#include <vector>

namespace digestflow::registry {

struct RegistryErrorEntry {
    std::string code;     // "MANIFEST_UNKNOWN", "UNAUTHORIZED", ...
    std::string message;  // the registry's words
    std::string detail;   // compact JSON of `detail`, may be empty
};

// Parses {"errors":[{code,message,detail}]}; a body in another format yields no entries.
std::vector<RegistryErrorEntry> parse_registry_errors(const std::string& body);

// "MANIFEST_UNKNOWN: manifest unknown; DENIED: ..." or "HTTP 502 Bad Gateway" when the body says nothing.
std::string describe_registry_answer(const HttpResponse& response);

// Throws for any response that is not a success: `action` says what we tried ("pushing manifest
// 127.0.0.1:5000/team/app:1.0"). 401/403 -> Error(Auth); 400 NAME_INVALID/TAG_INVALID -> Error(Usage);
// everything else -> Error(Registry).
[[noreturn]] void throw_for_response(const HttpResponse& response, const std::string& action);

}  // namespace digestflow::registry
