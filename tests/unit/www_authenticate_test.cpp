// WWW-Authenticate parsing against the vectors produced by running distribution's own parser, plus a few
// edge cases that pin down where parsing stops.
#include "digestflow/registry/www_authenticate.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

using digestflow::registry::Challenge;
using digestflow::registry::parse_challenges;
using digestflow::registry::parse_www_authenticate;

namespace {

nlohmann::json load_vectors() {
    const std::string path = std::string(DIGESTFLOW_VECTORS_DIR) + "/www-authenticate-cases.json";
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot open " + path);
    }
    return nlohmann::json::parse(in);
}

std::string describe(const nlohmann::json& test_case) {
    return test_case.at("www_authenticate_headers").dump();
}

}  // namespace

TEST(WwwAuthenticateVectors, EveryCaseMatchesDistribution) {
    const nlohmann::json vectors = load_vectors();
    const nlohmann::json& cases = vectors.at("cases");
    ASSERT_EQ(cases.size(), 15u) << "vector file changed size; review the new cases";

    for (const nlohmann::json& test_case : cases) {
        SCOPED_TRACE(describe(test_case));
        const auto headers = test_case.at("www_authenticate_headers").get<std::vector<std::string>>();
        const std::vector<Challenge> got = parse_challenges(headers);
        const nlohmann::json& want = test_case.at("challenges");
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].scheme, want[i].at("scheme").get<std::string>());
            const auto want_params = want[i].at("params").get<std::map<std::string, std::string>>();
            EXPECT_EQ(got[i].params, want_params);
        }
    }
}

TEST(WwwAuthenticate, EmptyHeaderHasNoScheme) {
    EXPECT_TRUE(parse_www_authenticate("").scheme.empty());
    EXPECT_TRUE(parse_www_authenticate("   Bearer realm=\"x\"").scheme.empty());
    EXPECT_TRUE(parse_challenges({"", "=oops"}).empty());
}

TEST(WwwAuthenticate, UnterminatedQuoteStopsParsing) {
    const Challenge c = parse_www_authenticate("Bearer service=\"s\",realm=\"https://a.example/tok");
    EXPECT_EQ(c.scheme, "bearer");
    EXPECT_EQ(c.params, (std::map<std::string, std::string>{{"service", "s"}}));
}

TEST(WwwAuthenticate, UnterminatedEscapedQuoteStopsParsing) {
    const Challenge c = parse_www_authenticate("Basic a=\"b\\\"c");
    EXPECT_EQ(c.scheme, "basic");
    EXPECT_TRUE(c.params.empty());
}

TEST(WwwAuthenticate, WhitespaceAroundCommasAndValueCaseKept) {
    const Challenge c = parse_www_authenticate("BEARER  Realm=\"R\" ,  Scope=\"repository:A/b:pull\"");
    EXPECT_EQ(c.scheme, "bearer");
    EXPECT_EQ(c.params, (std::map<std::string, std::string>{{"realm", "R"}, {"scope", "repository:A/b:pull"}}));
}

TEST(WwwAuthenticate, MissingEqualsStopsParsing) {
    const Challenge c = parse_www_authenticate("Bearer realm=\"r\", service, scope=\"x\"");
    EXPECT_EQ(c.params, (std::map<std::string, std::string>{{"realm", "r"}}));
}

TEST(WwwAuthenticate, LaterDuplicateParamWins) {
    const Challenge c = parse_www_authenticate("Bearer realm=\"a\",REALM=\"b\"");
    EXPECT_EQ(c.params.at("realm"), "b");
}
