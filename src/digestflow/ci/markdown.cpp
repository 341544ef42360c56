#include "digestflow/ci/markdown.hpp"

namespace digestflow::ci {

std::string markdown_cell(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '|')
            out += "\\|";
        else if (static_cast<unsigned char>(c) < ' ' || c == 127)
            out += ' ';
        else
            out += c;
    }
    return out;
}

}  // namespace digestflow::ci
