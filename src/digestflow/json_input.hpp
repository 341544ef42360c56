// The one way JSON that comes from outside is parsed (artifacts, build-tool files, list lines, credential
// files): nesting depth bounded while parsing (a deep document cannot exhaust the stack), duplicate keys and
// NUL bytes refused (parsers disagree on them), and every failure, number overflow included, is Error(Usage)
// naming the input.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace digestflow {

// Real inputs nest a few levels; this leaves room for any build facts someone adds.
inline constexpr int max_json_depth = 64;

struct JsonInput {
    std::string origin;  // names the input at the start of every message: "--from-jib build/jib-image.json"
    std::string fix;     // ends every message: " (pass the file written by ...)"
    bool secret = false; // the text may hold a secret: messages give positions only, never content
};

// Parses a whole JSON text (a UTF-8 byte order mark is skipped). Throws Error(Usage) for a syntax error, a
// number outside the range of a double, nesting deeper than max_json_depth, a key given twice in one object,
// a NUL byte, or anything after the document.
nlohmann::ordered_json parse_json_input(std::string_view text, const JsonInput& input);
nlohmann::json parse_json_input_unordered(std::string_view text, const JsonInput& input);

// The same rules for answers from a registry or token server, whose faults are not bad input: nullopt for
// anything the functions above refuse (the caller says what was wrong with the answer).
std::optional<nlohmann::json> try_parse_json(std::string_view text);
std::optional<nlohmann::ordered_json> try_parse_ordered_json(std::string_view text);

} // namespace digestflow
