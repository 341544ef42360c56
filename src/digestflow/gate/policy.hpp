// A promotion policy: JSON versioned with the application (schema/gate-policy.schema.json).
//   {"signers": "allowed_signers", "groups": {"release": ["alice@example.com"]},
//    "aliases": {"alice@example.com": ["alice"]},
//    "environments": {"production": {"requires": [RULE, …]}}}
// Every field is checked; an unknown field or rule type is refused with its JSON path. Its sha256 (of the
// file's bytes) goes into every approval and decision, so an approval given under one policy counts under no
// other.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::gate {

enum class Severity { Unknown, Low, Medium, High, Critical };
std::optional<Severity> parse_severity(std::string_view text);  // case-insensitive; Negligible = Low
const char* severity_name(Severity severity);                    // "HIGH"

struct AcceptedFinding {
    std::string id;          // "CVE-2024-1234" or "GHSA-…"
    std::int64_t until = 0;  // the acceptance ends at the end of this day (UTC)
    std::string until_text;  // as written
    std::string reason;
};

struct Rule {
    enum class Type { PromotedFrom, Approvals, Check, Window, Age };
    Type type = Type::Age;
    std::string path;  // "$.environments.production.requires[1]", for messages
    // promoted-from
    std::string environment;
    std::int64_t min_soak = 0;
    // approvals
    int min = 1;
    std::vector<std::string> from;           // principals and "group:NAME"
    std::vector<std::string> distinct_from;  // builder, commitAuthor, deployer
    std::optional<std::string> role;
    // check
    std::string name;
    std::optional<Severity> max_severity;  // scan reports; absent: a generic pass/fail result
    std::vector<AcceptedFinding> accept;
    // window
    std::vector<std::string> deny, allow;  // "Fri 15:00-Mon 06:00"
    std::string timezone = "UTC";
    // age
    std::int64_t max_age = 0;
};

const char* rule_type_name(Rule::Type type);  // "promoted-from"

class Policy {
public:
    // Throws Error(Usage) "POLICY: $.path: problem" for anything that is not a valid policy.
    static Policy parse(const std::string& text, const std::string& path);
    static Policy load(const std::string& path);

    const std::string& path() const { return m_path; }
    const std::string& sha256() const { return m_sha256; }   // "sha256:…" of the file's bytes
    const std::string& signers_path() const { return m_signers; }  // resolved against the policy's folder; "" when none
    // The rules for `environment`; throws Error(Usage) naming the environments the policy has.
    const std::vector<Rule>& rules_for(const std::string& environment) const;
    // The principals `from` names, groups expanded, each once, in order.
    std::vector<std::string> principals(const std::vector<std::string>& from) const;
    // The names a principal also goes by (CI logins, git author names), the principal itself first.
    std::vector<std::string> names_of(const std::string& principal) const;

private:
    std::string m_path, m_sha256, m_signers;
    std::map<std::string, std::vector<std::string>> m_groups, m_aliases;
    std::map<std::string, std::vector<Rule>> m_environments;
};

}  // namespace digestflow::gate
