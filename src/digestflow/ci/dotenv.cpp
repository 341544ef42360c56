#include "digestflow/ci/dotenv.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

#include <cctype>

namespace digestflow::ci {
namespace {

bool valid_key(const std::string& key) {
    if (key.empty()) return false;
    for (char c : key)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

// Printable ASCII other than space and quotes: GitLab keeps quotes as part of the value and cuts at spaces.
bool valid_value(const std::string& value) {
    for (char c : value)
        if (c <= ' ' || c == 127 || c == '"' || c == '\'' || c == '#') return false;
    return true;
}

}  // namespace

std::string dotenv_text(const Outputs& outputs) {
    if (outputs.size() > dotenv_max_variables)
        throw_usage("--dotenv: " + std::to_string(outputs.size()) + " variables, more than GitLab's default limit of " +
                    std::to_string(dotenv_max_variables));
    std::string text;
    for (const Output& output : outputs) {
        if (output.dotenv_name.empty()) continue;
        if (!valid_key(output.dotenv_name))
            throw_usage("--dotenv: variable name " + quote(output.dotenv_name) + " is not letters, digits and _");
        if (!valid_value(output.value))
            throw_usage("--dotenv: the value of " + output.dotenv_name + " (" + quote(output.value) +
                        ") holds a space, quote, # or control character, which GitLab's dotenv report cannot carry");
        text += output.dotenv_name + "=" + output.value + "\n";
    }
    if (text.size() > dotenv_max_bytes)
        throw_usage("--dotenv: " + std::to_string(text.size()) + " bytes, more than GitLab's 5 KB dotenv limit");
    return text;
}

void write_dotenv(const std::string& path, const Outputs& outputs) { write_file_atomically(path, dotenv_text(outputs)); }

}  // namespace digestflow::ci
