// Flag parsing shared by every tool: the common flags of DESIGN.md §3 plus each tool's own, one table that
// also produces --help.
#pragma once

#include "digestflow/registry/client.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::cli {

struct FlagSpec {
    std::string name;       // without dashes: "image"
    std::string value_name; // "REF"; empty for a switch
    std::string help;
    bool repeatable = false;
    char short_name = 0;    // e.g. 'j' for -j
};

struct ToolSpec {
    std::string name;      // "capture-digest"
    std::string synopsis;  // one line after the name
    std::string description;
    std::vector<FlagSpec> flags;  // the tool's own; the common ones are added by the parser
    std::string examples;
    // Name of the operands the tool takes after its flags ("FILE"), empty when it takes none. Operands are
    // the arguments that are not flags, and every argument after "--".
    std::string operands;
};

class ParsedArgs {
public:
    bool has(const std::string& name) const { return m_values.count(name) > 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::vector<std::string> values(const std::string& name) const;
    std::string value_or(const std::string& name, const std::string& fallback) const {
        return value(name).value_or(fallback);
    }

    // Common flags.
    std::string artifact_path() const { return value_or("artifact", "image-digest.json"); }
    std::string out_path() const { return value_or("out", artifact_path()); }
    bool json() const { return has("json"); }
    const std::vector<std::string>& operands() const { return m_operands; }
    bool quiet() const { return has("quiet"); }
    registry::ClientOptions client_options() const;

    std::map<std::string, std::vector<std::string>> m_values;
    std::vector<std::string> m_operands;
};

// The flags every tool understands.
const std::vector<FlagSpec>& common_flags();

// Parses argv. Throws Error(Usage) for an unknown flag, a missing value, a repeated single flag or a stray
// argument, with a hint to run --help.
ParsedArgs parse_args(const ToolSpec& spec, int argc, char** argv);

std::string help_text(const ToolSpec& spec);

}  // namespace digestflow::cli
