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

// `text` as it is, except C0 controls, DEL and C1 controls (UTF-8 U+0080..U+009F) as \xNN: for names printed
// unquoted in a result line (a file name), and the last defence for whole messages.
std::string printable(std::string_view text);

}  // namespace digestflow
