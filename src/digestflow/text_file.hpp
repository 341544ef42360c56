// Reading small input files (build-tool outputs, artifacts, policies) with a size bound and clear errors.
#pragma once

#include <cstddef>
#include <string>

namespace digestflow {

// Reads the whole file. `what` names the input in messages ("--from-digest-file"). Throws Error(Usage) when
// the file is missing, unreadable or larger than max_bytes.
std::string read_text_file(const std::string& path, const std::string& what, std::size_t max_bytes = 16 << 20);

}  // namespace digestflow
