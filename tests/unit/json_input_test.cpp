// The one parser for JSON from outside: depth bound, duplicate keys, NUL bytes, number overflow, messages.
#include "digestflow/json_input.hpp"

#include "digestflow/error.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace digestflow {
namespace {

DIGESTFLOW_LABELLED_CASES()

struct RefusalCase {
    std::string label;
    std::string text;
    std::string expected; // substring of the message, which always starts with the origin
};

class JsonInputRefuses : public testing::TestWithParam<RefusalCase> {};

TEST_P(JsonInputRefuses, WithAUsageErrorNamingTheInput) {
    const auto& c = GetParam();
    for (bool ordered : {true, false}) {
        try {
            JsonInput input{"in.json", " (fix it)", false};
            if (ordered)
                parse_json_input(c.text, input);
            else
                parse_json_input_unordered(c.text, input);
            FAIL() << "accepted " << c.label;
        } catch (const Error& e) {
            const std::string message = e.what();
            EXPECT_EQ(e.kind(), ErrorKind::Usage) << message;
            EXPECT_EQ(message.rfind("in.json: ", 0), 0u) << message;
            EXPECT_NE(message.find(c.expected), std::string::npos) << message;
            EXPECT_EQ(message.substr(message.size() - 9), " (fix it)") << message;
            for (char ch : message)
                EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20) << message;
        }
    }
}

std::string nested(int depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}
std::string nested_objects(int depth) {
    std::string text;
    for (int i = 0; i < depth; ++i)
        text += "{\"a\":";
    return text + "1" + std::string(depth, '}');
}

const std::vector<RefusalCase> refusal_cases = {
    {"deep_arrays", nested(100000), "nested deeper than 64 levels"},
    {"deep_objects", nested_objects(100000), "nested deeper than 64 levels"},
    {"one_level_too_deep", nested(max_json_depth + 1), "nested deeper than"},
    {"number_overflow", R"({"size": 1e400})", "number overflow"},
    {"negative_overflow", R"([-1e400])", "outside the range of a double"},
    {"duplicate_top_key", R"({"schemaVersion": 1, "schemaVersion": 2})", "duplicate key \"schemaVersion\""},
    {"duplicate_nested_key", R"({"image": {"digest": "a", "digest": "b"}})",
     "duplicate key \"image.digest\""},
    {"duplicate_in_array_element", R"({"p": [{}, {"d": 1, "d": 1}]})", "duplicate key \"p[1].d\""},
    {"nul_then_garbage", std::string("{}\0garbage", 10), "a NUL byte at byte 2"},
    {"nul_inside_string", std::string("{\"a\": \"x\0y\"}", 12), "NUL byte"},
    {"garbage_after_document", "{} x", "not valid JSON"},
    {"two_documents", "{}{}", "not valid JSON"},
    {"syntax_error", "{\"a\": }", "line 1"},
    {"control_character_token", "{\"a\": \x01}", "not valid JSON"},
    {"empty", "", "not valid JSON"},
};

INSTANTIATE_TEST_SUITE_P(Cases, JsonInputRefuses, testing::ValuesIn(refusal_cases), label_of<RefusalCase>);

TEST(JsonInput, AcceptsOrdinaryDocuments) {
    auto doc =
        parse_json_input("\xEF\xBB\xBF{\"b\": 1, \"a\": [1, {\"b\": 2}], \"c\": {\"b\": 3}}", {"x", ""});
    EXPECT_EQ(doc.begin().key(), "b") << "order is kept";
    EXPECT_EQ(doc["a"][1]["b"], 2) << "the same key in different objects is no duplicate";
    EXPECT_NO_THROW(parse_json_input(nested(max_json_depth), {"x", ""}));
    EXPECT_EQ(parse_json_input_unordered("\"a\\u0000b\"", {"x", ""}).get<std::string>(),
              std::string("a\0b", 3))
        << "an escaped NUL is text, not a NUL byte";
    EXPECT_EQ(parse_json_input_unordered("[1.5e300]", {"x", ""})[0].get<double>(), 1.5e300);
}

TEST(JsonInput, SecretInputsNeverQuoteContent) {
    const std::string secret = "s3cr3t-Marker";
    for (const std::string& text : {"{\"auth\": " + secret + "}", "{\"auth\": \"x\", " + secret + "}",
                                    std::string("{\"n\": 1e400") + secret + "}"}) {
        try {
            parse_json_input_unordered(text, {"config.json", "", true});
            FAIL() << text;
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("config.json: not valid JSON"), std::string::npos)
                << e.what();
        }
    }
}

TEST(JsonInput, QuotedTokensAreEscaped) {
    try {
        parse_json_input("{\"a\": tru\x1b[2J}", {"x", ""});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos) << e.what();
    }
}

} // namespace
} // namespace digestflow

namespace digestflow {
namespace {

// Registry and token-server answers: the same rules, without an error of the Usage kind.
TEST(TryParseJson, RegistryAnswersGetTheSameRules) {
    EXPECT_TRUE(try_parse_json(R"({"token":"t"})"));
    EXPECT_TRUE(try_parse_ordered_json(R"({"manifests":[]})"));
    EXPECT_FALSE(try_parse_json(std::string(100000, '[') + std::string(100000, ']'))) << "deep nesting";
    EXPECT_FALSE(try_parse_json(R"({"token":"a","token":"b"})")) << "duplicate key";
    EXPECT_FALSE(try_parse_ordered_json(std::string("{}\0junk", 7))) << "NUL and trailing bytes";
    EXPECT_FALSE(try_parse_json(R"({"expires_in":1e400})")) << "number overflow";
    EXPECT_FALSE(try_parse_json("<html>"));
}

}  // namespace
}  // namespace digestflow
