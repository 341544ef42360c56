// Markdown for step summaries: table cells that cannot break the table.
#pragma once

#include <string>

namespace digestflow::ci {

// `text` made safe as one cell of a Markdown table: `|` escaped, line breaks and control characters as spaces.
std::string markdown_cell(const std::string& text);

}  // namespace digestflow::ci
