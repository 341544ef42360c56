// GitLab's `artifacts: reports: dotenv` file: KEY=VALUE lines that GitLab turns into variables of later jobs.
// GitLab's rules are stricter than the dotenv libraries that local runners use, so we check them here: keys of
// letters, digits and _; values without spaces, quotes or line breaks (GitLab neither unquotes nor joins
// lines); at most 5 KB and 20 variables (the self-managed default limits).
#pragma once

#include "digestflow/ci/outputs.hpp"

#include <string>

namespace digestflow::ci {

inline constexpr std::size_t dotenv_max_bytes = 5 * 1024;
inline constexpr std::size_t dotenv_max_variables = 20;

// The file's text. Throws Error(Usage) for a value or key GitLab would refuse or mangle.
std::string dotenv_text(const Outputs& outputs);

// Writes dotenv_text(outputs) to `path` atomically. Throws Error(Usage) naming --dotenv.
void write_dotenv(const std::string& path, const Outputs& outputs);

}  // namespace digestflow::ci
