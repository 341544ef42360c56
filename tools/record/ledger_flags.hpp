// The flags the record commands share (--ledger, --environment, --sign-key ...), checked the same way in each.
#pragma once

#include "digestflow/cli/options.hpp"
#include "digestflow/cli/run.hpp"
#include "digestflow/ledger/ledger_file.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/recording.hpp"
#include "digestflow/ledger/signing.hpp"

#include <optional>
#include <string>

namespace digestflow::record_tool {

inline const cli::FlagSpec ledger_flag{"ledger", "FILE", "the deployment ledger (JSON Lines; created by the first record)"};
inline const cli::FlagSpec environment_flag{"environment", "ENV", "the environment: production, staging-eu, ..."};

std::string ledger_path(const cli::ParsedArgs& args);
// --environment, required unless `optional`: letters, digits and . _ - / : (up to 100).
std::string environment(const cli::ParsedArgs& args, bool optional = false);
std::optional<ledger::SigningKey> signing_key(const cli::ParsedArgs& args);
ledger::RecordContext record_context(const cli::ParsedArgs& args, const char* note_flag = "note");
// A digest flag's value, checked (Error(Usage) naming the flag); "" when absent.
std::string digest_flag(const cli::ParsedArgs& args, const char* name);

// A ledger value as it is when it is plain printable text, else quoted: a newline or a terminal escape in a
// note, tag or $USER must not split an entry over lines or reach the terminal raw.
std::string printable(const std::string& text);

// Every reader reports a torn tail (on stderr and in --json), and reads the complete lines before it.
void report_torn(const ledger::LedgerView& view, cli::ToolResult& tool);

// The entry as --json shows it: the line's members plus its number and hash.
nlohmann::ordered_json entry_json(std::size_t line, const std::string& hash, const std::string& text);

}  // namespace digestflow::record_tool
