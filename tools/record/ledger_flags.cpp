#include "ledger_flags.hpp"

#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/quote.hpp"

#include <cctype>
#include <filesystem>
#include <iostream>

namespace digestflow::record_tool {

std::string ledger_path(const cli::ParsedArgs& args) {
    auto path = args.value("ledger");
    if (!path || path->empty()) throw_usage("give --ledger FILE: the deployment ledger (JSON Lines) to use");
    // Every command asks for the ledger before it writes: an artifact written over the ledger (directly or
    // through a link) would replace the whole history, so --artifact and --out may never name it.
    for (const char* flag : {"artifact", "out"}) {
        auto other = args.value(flag);
        std::error_code no_such_file;
        if (other && *other != "-" && std::filesystem::equivalent(*other, *path, no_such_file))
            throw_usage("--" + std::string(flag) + " " + quote(*other) + " is the ledger itself: writing the artifact "
                        "there would replace the deployment history; give the artifact's own file (e.g. rollback.json)");
    }
    return *path;
}

std::string environment(const cli::ParsedArgs& args, bool optional) {
    auto value = args.value("environment");
    if (!value) {
        if (optional) return {};
        throw_usage("give --environment ENV: the environment this is about (e.g. production)");
    }
    const bool good = !value->empty() && value->size() <= 100 && std::isalnum(static_cast<unsigned char>(value->front())) &&
                      value->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:-") ==
                          std::string::npos;
    if (!good)
        throw_usage("--environment " + quote(*value) +
                    ": use up to 100 letters, digits and . _ - / :, starting with a letter or digit (e.g. production)");
    return *value;
}

std::optional<ledger::SigningKey> signing_key(const cli::ParsedArgs& args) {
    if (auto path = args.value("sign-key")) return ledger::SigningKey::load(*path);
    return std::nullopt;
}

ledger::RecordContext record_context(const cli::ParsedArgs& args, const char* note_flag) {
    ledger::RecordContext context;
    context.note = args.value_or(note_flag, "");
    context.pipeline = args.value_or("pipeline", "");
    context.commit = args.value_or("commit", "");
    return context;
}

std::string digest_flag(const cli::ParsedArgs& args, const char* name) {
    auto value = args.value(name);
    if (!value) return {};
    if (auto problem = Digest::validation_error(*value))
        throw_usage("--" + std::string(name) + " " + quote(*value) + ": " + *problem + "; give sha256:<64 hex digits>");
    return *value;
}

std::string printable(const std::string& text) {
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return quote(text, 4096);
    return text;
}

nlohmann::ordered_json entry_json(std::size_t line, const std::string& hash, const std::string& text) {
    nlohmann::ordered_json doc{{"line", line}, {"hash", hash}};
    auto parsed = try_parse_ordered_json(text);
    if (parsed && parsed->is_object())
        for (auto& [key, value] : parsed->items()) doc[key] = value;
    return doc;
}

void report_torn(const ledger::LedgerView& view, cli::ToolResult& tool) {
    if (!view.torn()) return;
    std::cerr << "record: warning: " << view.torn_report() << "\n";
    tool.json["torn"] = {{"offset", view.torn()->offset}, {"bytes", view.torn()->bytes.size()}};
}

}  // namespace digestflow::record_tool
