// The one way a value from outside (a flag, a file, a registry's answer) is quoted into a message: always one
// printable line, never long, so a control character or a binary file cannot garble a terminal or a log.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace digestflow {

// "text" in double quotes; control characters, DEL and bytes that are not valid UTF-8 as \xNN, '"' and '\' as
// \" and \\; longer than max_chars is cut and ends in "...".
std::string quote(std::string_view text, std::size_t max_chars = 100);

}  // namespace digestflow
