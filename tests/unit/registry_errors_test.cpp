// The distribution error body ({"errors":[{code,message,detail}]}), the one-line description built from it and
// the ErrorKind each unsuccessful answer maps to.
#include "digestflow/registry/registry_errors.hpp"

#include "digestflow/error.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace digestflow::registry {
namespace {

DIGESTFLOW_LABELLED_CASES()

HttpResponse answer(int status, std::string reason, std::string body) {
    HttpResponse response;
    response.status = status;
    response.reason = std::move(reason);
    response.body = std::move(body);
    response.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    return response;
}

// ---- parse_registry_errors ----

struct ParseCase {
    std::string label;
    std::string body;
    std::vector<RegistryErrorEntry> want;
};

class ParseErrors : public testing::TestWithParam<ParseCase> {};

TEST_P(ParseErrors, Entries) {
    const auto& c = GetParam();
    auto got = parse_registry_errors(c.body);
    ASSERT_EQ(got.size(), c.want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE("entry " + std::to_string(i));
        EXPECT_EQ(got[i].code, c.want[i].code);
        EXPECT_EQ(got[i].message, c.want[i].message);
        EXPECT_EQ(got[i].detail, c.want[i].detail);
    }
}

const std::vector<ParseCase> parse_cases = {
    // As distribution writes them.
    {"manifest_unknown",
     R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1.0"}}]})",
     {{"MANIFEST_UNKNOWN", "manifest unknown", R"({"Tag":"1.0"})"}}},
    {"unauthorized_detail_array",
     R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"team/app","Action":"pull"}]}]})",
     {{"UNAUTHORIZED", "authentication required",
       R"([{"Action":"pull","Class":"","Name":"team/app","Type":"repository"}])"}}},
    {"detail_string",
     R"({"errors":[{"code":"NAME_INVALID","message":"invalid repository name","detail":"repository name must be lowercase"}]})",
     {{"NAME_INVALID", "invalid repository name", "repository name must be lowercase"}}},
    {"detail_null", R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":null}]})",
     {{"BLOB_UNKNOWN", "blob unknown to registry", ""}}},
    {"detail_absent", R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})",
     {{"DENIED", "requested access to the resource is denied", ""}}},
    {"detail_number", R"({"errors":[{"code":"SIZE_INVALID","message":"m","detail":42}]})",
     {{"SIZE_INVALID", "m", "42"}}},
    {"detail_empty_object", R"({"errors":[{"code":"UNSUPPORTED","message":"m","detail":{}}]})",
     {{"UNSUPPORTED", "m", "{}"}}},
    {"several_entries",
     R"({"errors":[{"code":"DENIED","message":"a"},{"code":"TOOMANYREQUESTS","message":"b","detail":"slow down"}]})",
     {{"DENIED", "a", ""}, {"TOOMANYREQUESTS", "b", "slow down"}}},
    // Partial and odd entries keep what they have.
    {"code_only", R"({"errors":[{"code":"UNKNOWN"}]})", {{"UNKNOWN", "", ""}}},
    {"message_only", R"({"errors":[{"message":"something broke"}]})", {{"", "something broke", ""}}},
    {"wrong_types_skipped", R"({"errors":[{"code":5,"message":["x"],"detail":"d"}]})", {{"", "", "d"}}},
    {"non_object_entries_skipped", R"({"errors":["DENIED", 3, null, {"code":"DENIED"}]})", {{"DENIED", "", ""}}},
    {"extra_fields_ignored", R"({"errors":[{"code":"DENIED","message":"m"}],"trace":"abc"})", {{"DENIED", "m", ""}}},
    // Bodies in any other format yield nothing.
    {"empty_errors", R"({"errors":[]})", {}},
    {"empty_body", "", {}},
    {"html", "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", {}},
    {"plain_text", "404 page not found\n", {}},
    {"errors_not_array", R"({"errors":{"code":"DENIED"}})", {}},
    {"top_level_array", R"([{"code":"DENIED"}])", {}},
    {"other_json", R"({"message":"Not Found","documentation_url":"https://example.com"})", {}},
    {"truncated_json", R"({"errors":[{"code":"DENIED","mess)", {}},
};

INSTANTIATE_TEST_SUITE_P(Bodies, ParseErrors, testing::ValuesIn(parse_cases), label_of<ParseCase>);

TEST(ParseErrorsDetail, LongDetailIsShortened) {
    std::string long_detail(1000, 'x');
    auto got = parse_registry_errors(R"({"errors":[{"code":"C","message":"m","detail":")" + long_detail + R"("}]})");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].detail, std::string(300, 'x') + "...");
}

TEST(ParseErrorsDetail, DetailAtTheLimitIsKept) {
    std::string detail(300, 'y');
    auto got = parse_registry_errors(R"({"errors":[{"code":"C","detail":")" + detail + R"("}]})");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].detail, detail);
}

TEST(ParseErrorsDetail, ShorteningNeverSplitsACharacter) {
    // Error messages end up in --json output, whose serialiser refuses invalid UTF-8.
    for (std::size_t pad = 0; pad < 4; ++pad) {
        SCOPED_TRACE("pad " + std::to_string(pad));
        std::string detail = std::string(pad, 'a');
        while (detail.size() < 400) detail += "\xE6\x97\xA5";  // U+65E5, three bytes
        auto got = parse_registry_errors(R"({"errors":[{"code":"C","detail":")" + detail + R"("}]})");
        ASSERT_EQ(got.size(), 1u);
        EXPECT_LE(got[0].detail.size(), 303u);
        EXPECT_EQ(got[0].detail.substr(got[0].detail.size() - 3), "...");
        EXPECT_NO_THROW((void)nlohmann::json(got[0].detail).dump()) << got[0].detail;
    }
}

// ---- describe_registry_answer ----

struct DescribeCase {
    std::string label;
    int status;
    std::string reason;
    std::string body;
    std::string want;
};

class Describe : public testing::TestWithParam<DescribeCase> {};

TEST_P(Describe, Text) {
    const auto& c = GetParam();
    EXPECT_EQ(describe_registry_answer(answer(c.status, c.reason, c.body)), c.want);
}

const std::vector<DescribeCase> describe_cases = {
    {"one_entry_with_object_detail", 404, "Not Found",
     R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"1.0"}}]})",
     R"(HTTP 404 Not Found, MANIFEST_UNKNOWN: manifest unknown ({"Tag":"1.0"}))"},
    {"string_detail", 400, "Bad Request",
     R"({"errors":[{"code":"TAG_INVALID","message":"manifest tag did not match URI","detail":"tag 1.0 vs 2.0"}]})",
     "HTTP 400 Bad Request, TAG_INVALID: manifest tag did not match URI (tag 1.0 vs 2.0)"},
    {"entries_joined", 403, "Forbidden",
     R"({"errors":[{"code":"DENIED","message":"no push"},{"code":"UNAUTHORIZED","message":"token expired"}]})",
     "HTTP 403 Forbidden, DENIED: no push; UNAUTHORIZED: token expired"},
    {"no_code_says_error", 500, "Internal Server Error", R"({"errors":[{"message":"storage driver failed"}]})",
     "HTTP 500 Internal Server Error, error: storage driver failed"},
    {"code_without_message", 429, "Too Many Requests", R"({"errors":[{"code":"TOOMANYREQUESTS"}]})",
     "HTTP 429 Too Many Requests, TOOMANYREQUESTS"},
    {"html_body", 502, "Bad Gateway", "<html><body><h1>502 Bad Gateway</h1></body></html>", "HTTP 502 Bad Gateway"},
    {"empty_body", 503, "Service Unavailable", "", "HTTP 503 Service Unavailable"},
    {"empty_errors", 500, "Internal Server Error", R"({"errors":[]})", "HTTP 500 Internal Server Error"},
    {"no_reason_phrase", 404, "", "", "HTTP 404"},
    {"no_reason_with_entry", 401, "", R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
     "HTTP 401, UNAUTHORIZED: authentication required"},
};

INSTANTIATE_TEST_SUITE_P(Answers, Describe, testing::ValuesIn(describe_cases), label_of<DescribeCase>);

// ---- throw_for_response ----

struct ThrowCase {
    std::string label;
    int status;
    std::string body;
    ErrorKind kind;
};

class ThrowFor : public testing::TestWithParam<ThrowCase> {};

TEST_P(ThrowFor, Kind) {
    const auto& c = GetParam();
    const std::string action = "pushing manifest 127.0.0.1:5000/team/app:1.0";
    const HttpResponse response = answer(c.status, "Reason", c.body);
    try {
        throw_for_response(response, action);
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), c.kind) << e.what();
        // Always: what we tried, then what the registry said.
        EXPECT_EQ(std::string(e.what()), action + " failed: the registry answered " +
                                             describe_registry_answer(response));
        return;
    }
    FAIL() << "did not throw";
}

const std::string denied = R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})";
const std::string name_invalid = R"({"errors":[{"code":"NAME_INVALID","message":"invalid repository name"}]})";
const std::string tag_invalid = R"({"errors":[{"code":"TAG_INVALID","message":"manifest tag did not match URI"}]})";
const std::string manifest_unknown = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})";

const std::vector<ThrowCase> throw_cases = {
    {"401_is_auth", 401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
     ErrorKind::Auth},
    {"401_without_body_is_auth", 401, "", ErrorKind::Auth},
    {"403_is_auth", 403, denied, ErrorKind::Auth},
    {"403_html_is_auth", 403, "<html>Forbidden</html>", ErrorKind::Auth},
    // Auth wins over a usage code in the same answer: the credentials are the first thing to fix.
    {"403_name_invalid_is_auth", 403, name_invalid, ErrorKind::Auth},
    {"400_name_invalid_is_usage", 400, name_invalid, ErrorKind::Usage},
    {"400_tag_invalid_is_usage", 400, tag_invalid, ErrorKind::Usage},
    {"name_invalid_among_others_is_usage", 400,
     R"({"errors":[{"code":"MANIFEST_INVALID","message":"m"},{"code":"NAME_INVALID","message":"n"}]})",
     ErrorKind::Usage},
    {"400_manifest_invalid_is_registry", 400, R"({"errors":[{"code":"MANIFEST_INVALID","message":"m"}]})",
     ErrorKind::Registry},
    {"404_is_registry", 404, manifest_unknown, ErrorKind::Registry},
    {"404_name_unknown_is_registry", 404, R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})",
     ErrorKind::Registry},
    {"500_is_registry", 500, "", ErrorKind::Registry},
    {"502_html_is_registry", 502, "<html>Bad Gateway</html>", ErrorKind::Registry},
    {"429_is_registry", 429, R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})", ErrorKind::Registry},
    // Codes are case-sensitive in the spec; a lowercase look-alike is not a usage error.
    {"lowercase_name_invalid_is_registry", 400, R"({"errors":[{"code":"name_invalid"}]})", ErrorKind::Registry},
    {"name_invalid_in_message_only_is_registry", 400, R"({"errors":[{"code":"UNKNOWN","message":"NAME_INVALID"}]})",
     ErrorKind::Registry},
};

INSTANTIATE_TEST_SUITE_P(Answers, ThrowFor, testing::ValuesIn(throw_cases), label_of<ThrowCase>);

TEST(ThrowForMessage, ReadsAsOneSentence) {
    try {
        throw_for_response(answer(404, "Not Found", manifest_unknown), "resolving 127.0.0.1:5000/team/app:1.0");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "resolving 127.0.0.1:5000/team/app:1.0 failed: the registry answered HTTP 404 Not "
                               "Found, MANIFEST_UNKNOWN: manifest unknown");
    }
}

}  // namespace
}  // namespace digestflow::registry

namespace digestflow::registry {
namespace {

TEST(ParseErrorsHostile, DeepOrAmbiguousBodiesYieldNoEntries) {
    EXPECT_TRUE(parse_registry_errors(std::string(100000, '[') + std::string(100000, ']')).empty());
    EXPECT_TRUE(parse_registry_errors(R"({"errors":[{"code":"A"}],"errors":[{"code":"B"}]})").empty());
}

}  // namespace
}  // namespace digestflow::registry
