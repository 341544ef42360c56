// The ledger's line scanner: RFC 8259 grammar and UTF-8 case by case, then a differential test against
// nlohmann's parser over thousands of mutated canonical lines.
//
// Deliberate differences from nlohmann::json::accept, which the oracle below applies:
//   - a line break is not space inside a line (only one "\n" may end it): a ledger line is one line;
//   - a NUL byte is refused (nlohmann stops reading at one and accepts what came before);
//   - a UTF-8 byte order mark is refused (nlohmann skips it): lines are written without one;
//   - duplicate top-level keys are refused, compared as raw text ("a" and "\u0061" are different keys);
//   - numbers are checked for grammar only, so 1e999 passes (nlohmann refuses it as an overflow); the full
//     parse of a shown line refuses it.
#include "digestflow/ledger/line_scanner.hpp"

#include "digestflow/ledger/entry.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace digestflow::ledger {
namespace {

DIGESTFLOW_LABELLED_CASES()

// An object holding arrays `depth` levels deep in all.
std::string nested(int depth) {
    return "{\"a\":" + std::string(depth - 1, '[') + "1" + std::string(depth - 1, ']') + "}";
}

struct ValidCase {
    std::string label;
    std::string line;
    std::vector<std::pair<std::string, std::string>> members; // raw key, raw value
};

class LineScannerAccepts : public testing::TestWithParam<ValidCase> {};

TEST_P(LineScannerAccepts, AndHandsBackTheRawMembers) {
    const auto& c = GetParam();
    ScannedLine out;
    out.members.push_back({"stale", "1"});
    const auto problem = scan_object_line(c.line, out);
    ASSERT_FALSE(problem) << *problem;
    ASSERT_EQ(out.members.size(), c.members.size());
    for (std::size_t i = 0; i < c.members.size(); ++i) {
        EXPECT_EQ(out.members[i].key, c.members[i].first);
        EXPECT_EQ(out.members[i].value, c.members[i].second);
        EXPECT_EQ(out.find(c.members[i].first), c.members[i].second);
    }
    EXPECT_FALSE(out.find("absent"));
}

const std::vector<ValidCase> valid_cases = {
    {"empty_object", "{}", {}},
    {"empty_object_newline", "{}\n", {}},
    {"crlf", "{\"a\":1}\r\n", {{"a", "1"}}},
    {"space_around", " \t{ \"a\" : 1 , \"b\" :\t[ ] }\r ", {{"a", "1"}, {"b", "[ ]"}}},
    {"literals", "{\"t\":true,\"f\":false,\"n\":null}", {{"t", "true"}, {"f", "false"}, {"n", "null"}}},
    {"numbers",
     "{\"a\":0,\"b\":-0,\"c\":12.5,\"d\":-0.001e+10,\"e\":1E-3,\"f\":9007199254740993}",
     {{"a", "0"}, {"b", "-0"}, {"c", "12.5"}, {"d", "-0.001e+10"}, {"e", "1E-3"}, {"f", "9007199254740993"}}},
    {"number_out_of_range_is_grammar", "{\"a\":1e999}", {{"a", "1e999"}}},
    {"nested_values",
     "{\"a\":[1,{\"b\":[null,\"x\"]},[]],\"c\":{}}",
     {{"a", "[1,{\"b\":[null,\"x\"]},[]]"}, {"c", "{}"}}},
    {"escapes",
     R"({"s":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00\u0000"})",
     {{"s", R"("\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00\u0000")"}}},
    {"escaped_key", R"({"a\"b":1})", {{"a\\\"b", "1"}}},
    {"same_text_different_raw_keys", R"({"a":1,"\u0061":2})", {{"a", "1"}, {"\\u0061", "2"}}},
    {"nested_duplicates_are_left_to_the_full_parse",
     "{\"a\":{\"x\":1,\"x\":2}}",
     {{"a", "{\"x\":1,\"x\":2}"}}},
    {"utf8_boundaries",
     "{\"s\":"
     "\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\x7F"
     "\"}",
     {{"s", "\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF"
            "\xBF\x7F\""}}},
    {"long_plain_string",
     "{\"s\":\"" + std::string(1000, 'x') + "\"}",
     {{"s", "\"" + std::string(1000, 'x') + "\""}}},
    {"depth_32", nested(32), {{"a", nested(32).substr(5, nested(32).size() - 6)}}},
};

INSTANTIATE_TEST_SUITE_P(Cases, LineScannerAccepts, testing::ValuesIn(valid_cases), label_of<ValidCase>);

struct InvalidCase {
    std::string label;
    std::string line;
    std::string reason; // exactly
};

class LineScannerRefuses : public testing::TestWithParam<InvalidCase> {};

TEST_P(LineScannerRefuses, WithTheReasonAndByte) {
    const auto& c = GetParam();
    ScannedLine out;
    const auto problem = scan_object_line(c.line, out);
    ASSERT_TRUE(problem) << "accepted";
    EXPECT_EQ(*problem, c.reason);
    EXPECT_TRUE(out.members.empty());
}

const std::vector<InvalidCase> invalid_cases = {
    {"empty", "", "not a JSON object: end of line at byte 0"},
    {"only_newline", "\n", "not a JSON object: end of line at byte 0"},
    {"array", "[1]", "not a JSON object: '[' at byte 0"},
    {"string", "\"x\"", "not a JSON object: '\"' at byte 0"},
    {"bom", "\xEF\xBB\xBF{}", "not a JSON object: byte 0xef at byte 0"},
    {"text_after", "{\"a\":1}x", "'x' after the object at byte 7"},
    {"second_object", "{} {}", "'{' after the object at byte 3"},
    {"two_newlines", "{\"a\":1}\n\n", "line break after the object at byte 7"},
    {"line_break_inside", "{\"a\":\n1}", "unexpected line break at byte 5"},
    {"form_feed_is_not_space", "{\f\"a\":1}", "unexpected byte 0x0c at byte 1"},
    {"nul_after", std::string("{}\0x", 4), "byte 0x00 after the object at byte 2"},
    {"nul_value", std::string("{\"a\":\0}", 7), "unexpected byte 0x00 at byte 5"},
    {"cut_off", "{\"a\":1", "unexpected end of line at byte 6"},
    {"cut_after_colon", "{\"a\":", "unexpected end of line at byte 5"},
    {"trailing_comma", "{\"a\":1,}", "unexpected '}' at byte 7"},
    {"missing_comma", "{\"a\":1 \"b\":2}", "unexpected '\"' at byte 7"},
    {"missing_colon", "{\"a\"1}", "unexpected '1' at byte 4"},
    {"number_key", "{1:2}", "unexpected '1' at byte 1"},
    {"single_quotes", "{'a':1}", "unexpected ''' at byte 1"},
    {"array_trailing_comma", "{\"a\":[1,]}", "unexpected ']' at byte 8"},
    {"array_not_closed", "{\"a\":[1}", "unexpected '}' at byte 7"},
    {"leading_zero", "{\"a\":01}", "unexpected '1' at byte 6"},
    {"plus", "{\"a\":+1}", "unexpected '+' at byte 5"},
    {"bare_fraction", "{\"a\":.5}", "unexpected '.' at byte 5"},
    {"minus_alone", "{\"a\":-}", "a number needs a digit, not '}', at byte 6"},
    {"dot_without_digits", "{\"a\":1.}", "a number needs a digit after '.', not '}', at byte 7"},
    {"exponent_without_digits", "{\"a\":1e+}", "a number needs a digit in its exponent, not '}', at byte 8"},
    {"hex_number", "{\"a\":0x1}", "unexpected 'x' at byte 6"},
    {"nan", "{\"a\":NaN}", "unexpected 'N' at byte 5"},
    {"short_true", "{\"a\":tru}", "unexpected 't' at byte 5"},
    {"capital_true", "{\"a\":True}", "unexpected 'T' at byte 5"},
    {"string_not_closed", "{\"a\":\"xyz", "string not closed: it starts at byte 5"},
    {"key_not_closed", "{\"ab", "string not closed: it starts at byte 1"},
    {"escape_cut_off", "{\"a\":\"x\\", "string not closed: escape cut off at byte 7"},
    {"control_character", "{\"a\":\"x\x01\"}", "control character 0x01 in a string (escape it) at byte 7"},
    {"tab_in_string", "{\"a\":\"\t\"}", "control character 0x09 in a string (escape it) at byte 6"},
    {"newline_in_string", "{\"a\":\"\n\"}", "control character 0x0a in a string (escape it) at byte 6"},
    {"unknown_escape", "{\"a\":\"\\q\"}", "invalid escape \\'q' at byte 6"},
    {"bad_hex", "{\"a\":\"\\u12G4\"}", "invalid \\u escape (four hex digits needed) at byte 6"},
    {"short_hex", "{\"a\":\"\\u12\"}", "invalid \\u escape (four hex digits needed) at byte 6"},
    {"lone_low_surrogate", "{\"a\":\"\\uDC00\"}", "lone low surrogate in a \\u escape at byte 6"},
    {"lone_high_surrogate", "{\"a\":\"\\uD800\"}",
     "high surrogate not followed by a low one in a \\u escape at byte 6"},
    {"high_then_other", "{\"a\":\"\\uD800\\u0041\"}",
     "high surrogate not followed by a low one in a \\u escape at byte 6"},
    {"high_then_high", "{\"a\":\"\\uDBFF\\uDBFF\"}",
     "high surrogate not followed by a low one in a \\u escape at byte 6"},
    {"overlong_2", "{\"a\":\"\xC0\x80\"}", "string is not UTF-8 at byte 6"},
    {"overlong_2b", "{\"a\":\"\xC1\xBF\"}", "string is not UTF-8 at byte 6"},
    {"overlong_3", "{\"a\":\"\xE0\x9F\xBF\"}", "string is not UTF-8 at byte 6"},
    {"overlong_4", "{\"a\":\"\xF0\x8F\xBF\xBF\"}", "string is not UTF-8 at byte 6"},
    {"utf8_surrogate", "{\"a\":\"\xED\xA0\x80\"}", "string is not UTF-8 at byte 6"},
    {"above_max", "{\"a\":\"\xF4\x90\x80\x80\"}", "string is not UTF-8 at byte 6"},
    {"lead_f5", "{\"a\":\"\xF5\x80\x80\x80\"}", "string is not UTF-8 at byte 6"},
    {"lone_continuation", "{\"a\":\"ab\x80\"}", "string is not UTF-8 at byte 8"},
    {"cut_sequence", "{\"a\":\"\xE2\x82\"}", "string is not UTF-8 at byte 6"},
    {"cut_at_end", "{\"a\":\"\xE2\x82", "string is not UTF-8 at byte 6"},
    {"byte_ff_after_8_plain", "{\"a\":\"12345678\xFF\"}", "string is not UTF-8 at byte 14"},
    {"bad_utf8_key", "{\"\xFF\":1}", "string is not UTF-8 at byte 2"},
    {"duplicate", "{\"a\":1,\"b\":2,\"a\":3}", "duplicate member \"a\" at byte 13"},
    {"duplicate_escaped_raw", R"({"a\"":1,"a\"":2})", "duplicate member \"a\\\\\\\"\" at byte 9"},
    {"depth_33", nested(33), "nested deeper than 32 levels at byte 36"},
};

INSTANTIATE_TEST_SUITE_P(Cases, LineScannerRefuses, testing::ValuesIn(invalid_cases), label_of<InvalidCase>);

TEST(LineScanner, ReusesTheMembersItWasGiven) {
    ScannedLine out;
    ASSERT_FALSE(scan_object_line("{\"a\":1,\"b\":2,\"c\":3}", out));
    const auto* storage = out.members.data();
    ASSERT_FALSE(scan_object_line("{\"x\":1}", out));
    EXPECT_EQ(out.members.size(), 1u);
    EXPECT_EQ(out.members.data(), storage);
}

struct StringCase {
    std::string label;
    std::string raw;
    std::optional<std::string> value;
    bool plain; // plain_string_value gives the inner text
};

class StringValue : public testing::TestWithParam<StringCase> {};

TEST_P(StringValue, DecodesOrRefuses) {
    const auto& c = GetParam();
    EXPECT_EQ(string_value(c.raw), c.value);
    const auto plain = plain_string_value(c.raw);
    if (c.plain) {
        ASSERT_TRUE(plain);
        EXPECT_EQ(*plain, *c.value);
        EXPECT_EQ(plain->data(), c.raw.data() + 1); // a view into the line, not a copy
    } else {
        EXPECT_FALSE(plain);
    }
}

const std::vector<StringCase> string_cases = {
    {"plain", "\"production\"", "production", true},
    {"empty", "\"\"", "", true},
    {"utf8", "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"", "caf\xC3\xA9 \xF0\x9F\x98\x80", true},
    {"simple_escapes", R"("a\"b\\c\/d\be\ff\ng\rh\ti")", "a\"b\\c/d\be\ff\ng\rh\ti", false},
    {"u_escapes", R"("\u0041\u00e9\u20AC\uFFFF")", "A\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF", false},
    {"surrogate_pair", R"("x\uD83D\uDE00y")", "x\xF0\x9F\x98\x80y", false},
    {"max_pair", R"("\uDBFF\uDFFF")", "\xF4\x8F\xBF\xBF", false},
    {"nul_escape", R"("a\u0000b")", std::string("a\0b", 3), false},
    {"number", "12", std::nullopt, false},
    {"object", "{}", std::nullopt, false},
    {"nothing", "", std::nullopt, false},
    {"one_quote", "\"", std::nullopt, false},
    {"not_closed", "\"abc", std::nullopt, false},
    {"text_after", "\"a\"b", std::nullopt, false},
    {"inner_quote", "\"a\"b\"", std::nullopt, false},
    {"space_after", "\"a\" ", std::nullopt, false},
    {"lone_surrogate", R"("\uD800")", std::nullopt, false},
    {"bad_utf8", "\"\xFF\"", std::nullopt, false},
    {"control", "\"a\x01\"", std::nullopt, false},
    {"escaped_final_quote", R"("a\")", std::nullopt, false},
};

INSTANTIATE_TEST_SUITE_P(Cases, StringValue, testing::ValuesIn(string_cases), label_of<StringCase>);

// ---- Differential test against nlohmann ----

// What nlohmann makes of a line, through its SAX interface: the verdict, whether the top level is an object,
// its decoded top-level keys in order (for duplicates), the nesting depth and whether it stopped on a number
// it cannot represent (grammar we accept: see the header comment).
class Oracle : public nlohmann::json_sax<nlohmann::json> {
  public:
    bool object = false, duplicate = false, overflow = false;
    int depth = 0, max_depth = 0;
    std::vector<std::string> keys;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
        if (depth == 0)
            object = true;
        max_depth = std::max(max_depth, ++depth);
        return true;
    }
    bool key(string_t& key) override {
        if (depth == 1) {
            for (const auto& seen : keys)
                duplicate = duplicate || seen == key;
            keys.push_back(key);
        }
        return true;
    }
    bool end_object() override { return --depth, true; }
    bool start_array(std::size_t) override { return max_depth = std::max(max_depth, ++depth), true; }
    bool end_array() override { return --depth, true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) override {
        overflow = error.id == 406;
        return false;
    }
};

enum class Verdict { Accept, Refuse, Skip };

Verdict oracle(std::string_view line, Oracle& sax) {
    std::string_view body = line;
    if (!body.empty() && body.back() == '\n')
        body.remove_suffix(1);
    if (body.find('\n') != std::string_view::npos || body.find('\0') != std::string_view::npos ||
        body.rfind("\xEF\xBB\xBF", 0) == 0)
        return Verdict::Refuse;
    const bool accepted = nlohmann::json::sax_parse(body, &sax);
    if (!accepted && sax.overflow)
        return Verdict::Skip;
    return accepted && sax.object && !sax.duplicate && sax.max_depth <= 32 ? Verdict::Accept
                                                                           : Verdict::Refuse;
}

std::vector<std::string> canonical_lines() {
    Entry deploy;
    deploy.prev = std::string(genesis_prev);
    deploy.at = "2026-12-02T05:43:32Z";
    deploy.environment = "production";
    deploy.repository = "registry.example.com/team/app";
    deploy.digest = "sha256:" + std::string(64, 'b');
    deploy.media_type = "application/vnd.oci.image.index.v1+json";
    deploy.size = 1609;
    deploy.platforms = {{"linux", "amd64", "", "sha256:" + std::string(64, 'c'),
                         "application/vnd.oci.image.manifest.v1+json", 1043},
                        {"linux", "arm64", "v8", "sha256:" + std::string(64, 'd'),
                         "application/vnd.oci.image.manifest.v1+json", -1}};
    deploy.tag = "v1.4.2";
    deploy.by = "ci@example.com";
    deploy.pipeline = "https://ci.example.com/team/app/-/pipelines/81723";
    deploy.commit = "3f9d1c2a7b4e5f60718293a4b5c6d7e8f9012345";
    deploy.captured_at = "2026-12-02T05:40:11Z";
    deploy.note = "caf\xC3\xA9 \"quoted\" back\\slash tab\t ctl\x01 \xF0\x9F\x9A\x80 \xE2\x82\xAC";
    deploy.holds = {{"staging", {"sha256:" + std::string(64, 'e'), "2026-12-01T00:00:00Z"}}};
    Entry release;
    release.kind = EntryKind::Release;
    release.prev = "sha256:" + std::string(64, 'f');
    release.at = "2026-12-02T06:00:00Z";
    release.environment = "staging";
    return {serialize_line(deploy), serialize_line(release)};
}

std::string mutate(const std::string& line, const std::vector<std::string>& canon, std::mt19937& rng) {
    static const std::string interesting =
        std::string("{}[]\":,\\ \t\r\n0123456789-+.eEu/tfnrlsa") +
        std::string("\0\x01\x1f\x7f\x80\xbf\xc0\xc2\xe0\xed\xf0\xf4\xf5\xff", 14);
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
    auto any_byte = [&]() -> char {
        return pick(2) == 0 ? interesting[pick(interesting.size())] : static_cast<char>(pick(256));
    };
    std::string out = line;
    const std::size_t edits = 1 + pick(3);
    for (std::size_t e = 0; e < edits; ++e) {
        const std::size_t at = pick(out.size() + 1);
        switch (pick(7)) {
        case 0:
        case 1:
            if (at < out.size())
                out[at] = any_byte();
            break;
        case 2:
            if (at < out.size())
                out.erase(at, 1);
            break;
        case 3:
            out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), any_byte());
            break;
        case 4:
            out.resize(at);
            break;
        case 5:
            out.insert(at, canon[pick(canon.size())]);
            break;
        default:
            out.insert(at, "\"v\":1,");
            break; // a duplicate member when it lands after a '{' or ','
        }
    }
    return out;
}

TEST(LineScannerDifferential, AgreesWithNlohmannOnMutatedLines) {
    const auto canon = canonical_lines();
    std::mt19937 rng(20261202);
    ScannedLine out;
    int accepted = 0, refused = 0, skipped = 0;
    for (int i = 0; i < 6000; ++i) {
        const std::string& base = canon[static_cast<std::size_t>(i) % canon.size()];
        const std::string line = i < 2 ? base : mutate(base, canon, rng);
        Oracle sax;
        const Verdict expected = oracle(line, sax);
        if (expected == Verdict::Skip) {
            ++skipped;
            continue;
        }
        const auto problem = scan_object_line(line, out);
        ASSERT_EQ(!problem, expected == Verdict::Accept)
            << "line " << i << ": " << testing::PrintToString(line)
            << "\nscanner: " << problem.value_or("accepted");
        if (problem) {
            ++refused;
            continue;
        }
        ++accepted;
        // The members are nlohmann's, in order, with the same values and the same string decoding.
        const auto doc = nlohmann::ordered_json::parse(line);
        ASSERT_EQ(out.members.size(), doc.size()) << line;
        std::size_t m = 0;
        for (const auto& [key, value] : doc.items()) {
            const RawMember& member = out.members[m++];
            EXPECT_EQ(string_value("\"" + std::string(member.key) + "\""), key) << line;
            EXPECT_EQ(nlohmann::ordered_json::parse(member.value), value) << line;
            if (value.is_string()) {
                EXPECT_EQ(string_value(member.value), value.get<std::string>()) << line;
                const auto plain = plain_string_value(member.value);
                if (member.value.find('\\') == std::string_view::npos) {
                    ASSERT_TRUE(plain) << line;
                    EXPECT_EQ(*plain, value.get<std::string>()) << line;
                } else {
                    EXPECT_FALSE(plain) << line;
                }
            } else {
                EXPECT_FALSE(string_value(member.value)) << line;
            }
        }
    }
    // The mutations must exercise both answers, and the skipped overflows must stay rare.
    EXPECT_GT(accepted, 300);
    EXPECT_GT(refused, 3000);
    EXPECT_LT(skipped, 60);
    std::printf("accepted %d, refused %d, skipped (number overflow) %d\n", accepted, refused, skipped);
}

// Every string value nlohmann decodes is decoded the same way, including every escape form.
TEST(LineScannerDifferential, StringValueAgreesWithNlohmannOnRandomStrings) {
    std::mt19937 rng(7);
    const std::vector<std::string> pieces = {"a",
                                             "\\\"",
                                             "\\\\",
                                             "\\/",
                                             "\\b",
                                             "\\f",
                                             "\\n",
                                             "\\r",
                                             "\\t",
                                             "\\u0000",
                                             "\\u001f",
                                             "\\u00e9",
                                             "\\u20ac",
                                             "\\uD83D\\uDE00",
                                             "\\uDBFF\\uDFFF",
                                             "\\uFFFF",
                                             "\xC3\xA9",
                                             "\xF0\x9F\x98\x80",
                                             " "};
    for (int i = 0; i < 2000; ++i) {
        std::string raw = "\"";
        const int n = static_cast<int>(rng() % 12);
        for (int k = 0; k < n; ++k)
            raw += pieces[rng() % pieces.size()];
        raw += "\"";
        ASSERT_EQ(string_value(raw), nlohmann::json::parse(raw).get<std::string>()) << raw;
    }
}

} // namespace
} // namespace digestflow::ledger
