// Gate policies: what parses, and each way a policy is refused, named by its JSON path; durations.
#include "digestflow/error.hpp"
#include "digestflow/gate/duration.hpp"
#include "digestflow/gate/policy.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

using namespace digestflow;
using namespace digestflow::gate;

namespace {

const std::string cookbook = R"({
  "signers": "allowed_signers",
  "groups": {"release": ["alice@example.com", "bob@example.com"]},
  "aliases": {"alice@example.com": ["alice", "Alice Liddell"]},
  "environments": {
    "staging": {"requires": [{"rule": "age", "max": "7d"}]},
    "production": {"requires": [
      {"rule": "promoted-from", "environment": "staging", "minSoak": "24h"},
      {"rule": "approvals", "min": 2, "from": ["group:release", "user:carol@example.com"], "distinctFrom": ["builder", "commitAuthor"]},
      {"rule": "check", "name": "trivy", "maxSeverity": "High",
       "accept": [{"id": "CVE-2024-0001", "until": "2027-01-31", "reason": "not reachable"}]},
      {"rule": "check", "name": "load-test"},
      {"rule": "window", "deny": ["Fri 15:00-Mon 06:00"], "timezone": "Europe/Berlin"}
    ]}
  }
})";

TEST(GatePolicy, CookbookPolicyParses) {
    const Policy policy = Policy::parse(cookbook, "/repo/deploy/gate-policy.json");
    EXPECT_EQ(policy.signers_path(), "/repo/deploy/allowed_signers");
    EXPECT_EQ(policy.sha256().rfind("sha256:", 0), 0u);
    const auto& rules = policy.rules_for("production");
    ASSERT_EQ(rules.size(), 5u);
    EXPECT_EQ(rules[0].type, Rule::Type::PromotedFrom);
    EXPECT_EQ(rules[0].min_soak, 24 * 3600);
    EXPECT_EQ(rules[1].path, "$.environments.production.requires[1]");
    EXPECT_EQ(policy.principals(rules[1].from),
              (std::vector<std::string>{"alice@example.com", "bob@example.com", "carol@example.com"}));
    EXPECT_EQ(rules[2].max_severity, Severity::High);
    ASSERT_EQ(rules[2].accept.size(), 1u);
    EXPECT_FALSE(rules[3].max_severity.has_value());
    EXPECT_EQ(rules[4].timezone, "Europe/Berlin");
    EXPECT_EQ(policy.names_of("alice@example.com"), (std::vector<std::string>{"alice@example.com", "alice", "Alice Liddell"}));
    try {
        policy.rules_for("prod");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("has no environment \"prod\" (it has: production, staging)"), std::string::npos) << e.what();
    }
}

TEST(GatePolicy, BadPoliciesNameTheJsonPath) {
    auto env = [](const std::string& rule) {
        return R"({"signers": "s", "groups": {"g": ["a"]}, "environments": {"prod": {"requires": [)" + rule + "]}}}";
    };
    struct Case {
        std::string text, expected;
    };
    const std::vector<Case> cases{
        {"[]", "$: must be an object"},
        {R"({"environments": {}, "extra": 1})", "$.extra: unknown field"},
        {R"({"environments": {}})", "$.environments: names no environment"},
        {R"({"environments": {"prod": {"require": []}}})", "$.environments.prod.require: unknown field"},
        {R"({"environments": {"prod": {"requires": []}}})", "$.environments.prod.requires: must be a non-empty array"},
        {env(R"({"rule": "soak"})"), "$.environments.prod.requires[0].rule: unknown rule \"soak\""},
        {env(R"({"rule": "age", "max": "1 day"})"), "requires[0].max: \"1 day\" is not a duration"},
        {env(R"({"rule": "age", "max": "24h", "maxx": 1})"), "requires[0].maxx: unknown field"},
        {env(R"({"rule": "age"})"), "requires[0]: \"max\" is required"},
        {env(R"({"rule": "approvals", "min": 0, "from": ["a"]})"), "requires[0].min: must be a whole number from 1 to 100"},
        {env(R"({"rule": "approvals", "min": 1.5, "from": ["a"]})"), "requires[0].min: must be a whole number"},
        {env(R"({"rule": "approvals", "min": 1, "from": ["group:nope"]})"), "requires[0].from[0]: names no group"},
        {env(R"({"rule": "approvals", "min": 1, "from": ["a"], "distinctFrom": ["author"]})"), "distinctFrom[0]: \"author\" is not a role"},
        {env(R"({"rule": "approvals", "min": 1, "from": []})"), "requires[0].from: must be a non-empty array"},
        {env(R"({"rule": "check", "name": "t", "maxSeverity": "severe"})"), "maxSeverity: \"severe\" is not a severity"},
        {env(R"({"rule": "check", "name": "t", "accept": []})"), "requires[0].accept: needs maxSeverity"},
        {env(R"({"rule": "check", "name": "t", "maxSeverity": "high", "accept": [{"id": "X", "until": "2027-13-01", "reason": "r"}]})"),
         "accept[0].until: \"2027-13-01\" is not a date"},
        {env(R"({"rule": "check", "name": "t", "maxSeverity": "high", "accept": [{"id": "X", "until": "2027-01-01"}]})"),
         "accept[0]: \"reason\" is required"},
        {env(R"({"rule": "window", "deny": ["Fri 15:00-Mon 06:00"], "allow": ["Mon-Fri"]})"), "give exactly one of"},
        {env(R"({"rule": "window", "deny": ["Friday evening"]})"), "deny[0]: \"Friday evening\" is not a range"},
        {env(R"({"rule": "window", "deny": ["Sat-Sun"], "timezone": "Mars/Olympus"})"), "timezone: \"Mars/Olympus\" is not a time zone"},
        {env(R"({"rule": "window", "deny": ["Sat-Sun"], "timezone": "../../etc/passwd"})"), "is not a time zone"},
        {env(R"({"rule": "promoted-from", "environment": "staging"})"), "\"minSoak\" is required"},
        {R"({"environments": {"prod": {"requires": [{"rule": "approvals", "min": 1, "from": ["a"]}]}}})", "$.signers: an approvals rule needs"},
        {R"({"environments": {"prod": {"requires": [{"rule": "age", "max": "1h"}]}}, "environments": {}})", "duplicate key"},
        {R"({"groups": {"a": ["group:a"]}, "environments": {"prod": {"requires": [{"rule": "age", "max": "1h"}]}}})",
         "$.groups.a[0]: a group lists principals, not other groups"},
    };
    for (const Case& c : cases) {
        try {
            Policy::parse(c.text, "policy.json");
            ADD_FAILURE() << c.text << " parsed";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Usage);
            EXPECT_EQ(std::string(e.what()).rfind("policy.json", 0), 0u) << e.what();
            EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << c.text << "\n -> " << e.what();
        }
    }
}

TEST(GatePolicy, Durations) {
    EXPECT_EQ(parse_duration("24h"), std::optional<std::int64_t>(86400));
    EXPECT_EQ(parse_duration("1d12h"), std::optional<std::int64_t>(129600));
    EXPECT_EQ(parse_duration("1h30m"), std::optional<std::int64_t>(5400));
    EXPECT_EQ(parse_duration("45s"), std::optional<std::int64_t>(45));
    for (const char* bad : {"", "h", "24", "1h1d", "1h1h", "-1h", "1.5h", "1 h", "99999999999d"})
        EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
    EXPECT_EQ(format_duration(0), "0s");
    EXPECT_EQ(format_duration(3 * 3600 + 120), "3h 2m");
    EXPECT_EQ(format_duration(86400 + 5), "1d");
    EXPECT_EQ(format_duration(90061), "1d 1h");
}

TEST(GatePolicy, Severities) {
    EXPECT_EQ(parse_severity("CRITICAL"), Severity::Critical);
    EXPECT_EQ(parse_severity("Negligible"), Severity::Low);
    EXPECT_EQ(parse_severity("unknown"), Severity::Unknown);
    EXPECT_FALSE(parse_severity("").has_value());
    EXPECT_LT(Severity::Unknown, Severity::Low);
    EXPECT_LT(Severity::High, Severity::Critical);
}

// The README's policy cookbook is what users copy: each of its policies must parse.
TEST(GatePolicy, ReadmeCookbookPoliciesParse) {
    std::ifstream in(std::string(DIGESTFLOW_SCHEMA_DIR) + "/../README.md");
    const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto start = readme.find("#### Policy cookbook");
    ASSERT_NE(start, std::string::npos);
    const auto end = readme.find("\n#### ", start + 1);
    const std::string section = readme.substr(start, end - start);
    std::size_t policies = 0;
    for (std::size_t at = section.find("```json\n"); at != std::string::npos; at = section.find("```json\n", at + 1)) {
        const auto body = at + 8;
        const std::string text = section.substr(body, section.find("```", body) - body);
        EXPECT_NO_THROW(Policy::parse(text, "README cookbook policy " + std::to_string(++policies))) << text;
    }
    EXPECT_EQ(policies, 4u);
}

}  // namespace
