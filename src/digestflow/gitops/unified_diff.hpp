// `diff -u` output for record pin --dry-run: the old and new text of one file, 3 lines of context.
#pragma once

#include <string>

namespace digestflow::gitops {

// Empty when the texts are equal. Lines keep their own endings ("\r\n" stays in the output line); a last line
// without a newline is followed by "\ No newline at end of file", as diff prints it.
std::string unified_diff(const std::string& old_text, const std::string& new_text, const std::string& old_label,
                         const std::string& new_label);

}  // namespace digestflow::gitops
