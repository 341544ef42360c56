// A fast, strict reader of one JSON object line: it checks the whole line is a single JSON object (RFC 8259
// grammar, UTF-8 strings) and hands back the top-level members as raw spans, without building a document.
// Readers of a million-line ledger use it to filter and verify at disk speed (nlohmann's parser takes about
// 7 us a line here; this is meant to take well under 1); the few lines a reader shows are then parsed in full.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow::ledger {

struct RawMember {
    std::string_view key;    // between the quotes, escapes not resolved
    std::string_view value;  // the raw JSON value text (a string value keeps its quotes)
};

struct ScannedLine {
    std::vector<RawMember> members;  // in line order
    // The raw value of top-level member `key` (exact key match on the raw key text); nullopt when absent.
    std::optional<std::string_view> find(std::string_view key) const;
};

// Scans `line` (a trailing "\n" is allowed). Returns the reason ("unexpected ',' at byte 17", "string is not
// UTF-8 at byte 40", "duplicate member \"prev\"", ...) when it is not exactly one JSON object; fills `out`
// (cleared first) otherwise. Nesting deeper than 32 levels is refused.
std::optional<std::string> scan_object_line(std::string_view line, ScannedLine& out);

// A scan_object_line reason as "not a JSON object: ...", without saying it twice when the reason already does.
inline std::string as_object_problem(const std::string& reason) {
    constexpr std::string_view prefix = "not a JSON object";
    return reason.rfind(prefix, 0) == 0 ? reason : std::string(prefix) + ": " + reason;
}

// The text of a raw string value (quotes removed, escapes resolved, \u surrogate pairs joined); nullopt when
// `raw` is not a JSON string.
std::optional<std::string> string_value(std::string_view raw);

// A raw string value without escapes, as a view into the line (fast path); nullopt when it is not a string
// or contains a backslash (use string_value then).
std::optional<std::string_view> plain_string_value(std::string_view raw);

}  // namespace digestflow::ledger
