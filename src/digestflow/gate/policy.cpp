#include "digestflow/gate/policy.hpp"

#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/gate/duration.hpp"
#include "digestflow/gate/window.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/ledger/timestamp.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

namespace digestflow::gate {

namespace {

using nlohmann::ordered_json;

constexpr std::size_t k_max_policy_bytes = 1 << 20;

const std::map<std::string, Rule::Type>& rule_types() {
    static const std::map<std::string, Rule::Type> types{{"promoted-from", Rule::Type::PromotedFrom},
                                                         {"approvals", Rule::Type::Approvals},
                                                         {"check", Rule::Type::Check},
                                                         {"window", Rule::Type::Window},
                                                         {"age", Rule::Type::Age}};
    return types;
}

// Reads one policy document, every problem named by its JSON path.
class PolicyReader {
public:
    explicit PolicyReader(const std::string& origin) : m_origin(origin) {}

    [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
        throw_usage(m_origin + ": " + path + ": " + problem);
    }

    void only_fields(const ordered_json& object, const std::string& path, std::initializer_list<const char*> allowed) const {
        for (const auto& [key, value] : object.items()) {
            if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }) != allowed.end())
                continue;
            std::string list;
            for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
            fail(path + "." + key, "unknown field (allowed here: " + list + ")");
        }
    }

    const ordered_json& object(const ordered_json& value, const std::string& path) const {
        if (!value.is_object()) fail(path, std::string("must be an object, not ") + value.type_name());
        return value;
    }

    std::string text(const ordered_json& value, const std::string& path) const {
        if (!value.is_string() || value.get<std::string>().empty()) fail(path, "must be a non-empty string");
        return value.get<std::string>();
    }

    std::vector<std::string> texts(const ordered_json& value, const std::string& path, bool allow_empty = false) const {
        if (!value.is_array() || (!allow_empty && value.empty())) fail(path, "must be a non-empty array of strings");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < value.size(); ++i) out.push_back(text(value[i], path + "[" + std::to_string(i) + "]"));
        return out;
    }

    std::int64_t duration(const ordered_json& value, const std::string& path) const {
        const std::string written = text(value, path);
        const auto seconds = parse_duration(written);
        if (!seconds) fail(path, quote(written) + " is not a duration: write e.g. \"24h\", \"3d\", \"90m\", \"1h30m\"");
        return *seconds;
    }

    const ordered_json* member(const ordered_json& object, const char* key) const {
        auto it = object.find(key);
        return it == object.end() ? nullptr : &*it;
    }
    const ordered_json& required(const ordered_json& object, const std::string& path, const char* key) const {
        const ordered_json* found = member(object, key);
        if (!found) fail(path, std::string("\"") + key + "\" is required here");
        return *found;
    }

private:
    std::string m_origin;
};

AcceptedFinding read_acceptance(const PolicyReader& r, const ordered_json& value, const std::string& path) {
    r.only_fields(r.object(value, path), path, {"id", "until", "reason"});
    AcceptedFinding out;
    out.id = r.text(r.required(value, path, "id"), path + ".id");
    out.until_text = r.text(r.required(value, path, "until"), path + ".until");
    const auto day = ledger::parse_rfc3339(out.until_text + "T23:59:59Z");
    if (out.until_text.size() != 10 || !day) r.fail(path + ".until", quote(out.until_text) + " is not a date: write YYYY-MM-DD");
    out.until = *day;
    out.reason = r.text(r.required(value, path, "reason"), path + ".reason");
    return out;
}

Rule read_rule(const PolicyReader& r, const ordered_json& value, const std::string& path,
               const std::map<std::string, std::vector<std::string>>& groups) {
    r.object(value, path);
    const std::string type = r.text(r.required(value, path, "rule"), path + ".rule");
    auto known = rule_types().find(type);
    if (known == rule_types().end())
        r.fail(path + ".rule", "unknown rule " + quote(type) + " (promoted-from, approvals, check, window, age)");
    Rule rule;
    rule.type = known->second;
    rule.path = path;
    switch (rule.type) {
        case Rule::Type::PromotedFrom:
            r.only_fields(value, path, {"rule", "description", "environment", "minSoak"});
            rule.environment = r.text(r.required(value, path, "environment"), path + ".environment");
            rule.min_soak = r.duration(r.required(value, path, "minSoak"), path + ".minSoak");
            break;
        case Rule::Type::Approvals: {
            r.only_fields(value, path, {"rule", "description", "min", "from", "distinctFrom", "role"});
            const ordered_json& min = r.required(value, path, "min");
            if (!min.is_number_integer() || min.get<std::int64_t>() < 1 || min.get<std::int64_t>() > 100)
                r.fail(path + ".min", "must be a whole number from 1 to 100");
            rule.min = static_cast<int>(min.get<std::int64_t>());
            rule.from = r.texts(r.required(value, path, "from"), path + ".from");
            for (std::size_t i = 0; i < rule.from.size(); ++i)
                if (rule.from[i].rfind("group:", 0) == 0 && !groups.count(rule.from[i].substr(6)))
                    r.fail(path + ".from[" + std::to_string(i) + "]", "names no group of \"groups\"");
            if (const ordered_json* distinct = r.member(value, "distinctFrom")) {
                rule.distinct_from = r.texts(*distinct, path + ".distinctFrom");
                for (std::size_t i = 0; i < rule.distinct_from.size(); ++i) {
                    const std::string& role = rule.distinct_from[i];
                    if (role != "builder" && role != "commitAuthor" && role != "deployer")
                        r.fail(path + ".distinctFrom[" + std::to_string(i) + "]",
                               quote(role) + " is not a role (builder, commitAuthor, deployer)");
                }
            }
            if (const ordered_json* role = r.member(value, "role")) rule.role = r.text(*role, path + ".role");
            break;
        }
        case Rule::Type::Check: {
            r.only_fields(value, path, {"rule", "description", "name", "maxSeverity", "accept"});
            rule.name = r.text(r.required(value, path, "name"), path + ".name");
            if (const ordered_json* max = r.member(value, "maxSeverity")) {
                const std::string written = r.text(*max, path + ".maxSeverity");
                rule.max_severity = parse_severity(written);
                if (!rule.max_severity)
                    r.fail(path + ".maxSeverity", quote(written) + " is not a severity (unknown, low, medium, high, critical)");
            }
            if (const ordered_json* accept = r.member(value, "accept")) {
                if (!rule.max_severity) r.fail(path + ".accept", "needs maxSeverity: acceptances are for scan findings");
                if (!accept->is_array()) r.fail(path + ".accept", "must be an array");
                for (std::size_t i = 0; i < accept->size(); ++i)
                    rule.accept.push_back(read_acceptance(r, (*accept)[i], path + ".accept[" + std::to_string(i) + "]"));
            }
            break;
        }
        case Rule::Type::Window: {
            r.only_fields(value, path, {"rule", "description", "deny", "allow", "timezone"});
            const ordered_json* deny = r.member(value, "deny");
            const ordered_json* allow = r.member(value, "allow");
            if (!deny == !allow) r.fail(path, "give exactly one of \"deny\" and \"allow\"");
            const std::string list_path = path + (deny ? ".deny" : ".allow");
            auto& ranges = deny ? rule.deny : rule.allow;
            ranges = r.texts(deny ? *deny : *allow, list_path);
            for (std::size_t i = 0; i < ranges.size(); ++i) {
                std::string problem;
                if (!parse_weekly_range(ranges[i], problem)) r.fail(list_path + "[" + std::to_string(i) + "]", problem);
            }
            if (const ordered_json* zone = r.member(value, "timezone")) rule.timezone = r.text(*zone, path + ".timezone");
            if (!known_time_zone(rule.timezone))
                r.fail(path + ".timezone", quote(rule.timezone) + " is not a time zone of the system's tzdata (e.g. Europe/Berlin)");
            break;
        }
        case Rule::Type::Age:
            r.only_fields(value, path, {"rule", "description", "max"});
            rule.max_age = r.duration(r.required(value, path, "max"), path + ".max");
            break;
    }
    return rule;
}

std::map<std::string, std::vector<std::string>> read_name_lists(const PolicyReader& r, const ordered_json& value,
                                                               const std::string& path) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [name, list] : r.object(value, path).items()) {
        if (name.empty()) r.fail(path, "an empty name");
        out[name] = r.texts(list, path + "." + name);
    }
    return out;
}

}  // namespace

std::optional<Severity> parse_severity(std::string_view text) {
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "unknown") return Severity::Unknown;
    if (lower == "low" || lower == "negligible") return Severity::Low;
    if (lower == "medium" || lower == "moderate") return Severity::Medium;
    if (lower == "high") return Severity::High;
    if (lower == "critical") return Severity::Critical;
    return std::nullopt;
}

const char* severity_name(Severity severity) {
    switch (severity) {
        case Severity::Unknown: return "UNKNOWN";
        case Severity::Low: return "LOW";
        case Severity::Medium: return "MEDIUM";
        case Severity::High: return "HIGH";
        case Severity::Critical: return "CRITICAL";
    }
    return "?";
}

const char* rule_type_name(Rule::Type type) {
    for (const auto& [name, t] : rule_types())
        if (t == type) return name.c_str();
    return "?";
}

Policy Policy::parse(const std::string& text, const std::string& path) {
    const PolicyReader r(path);
    const ordered_json document = parse_json_input(text, {path, " (a gate policy: see schema/gate-policy.schema.json)", false});
    r.object(document, "$");
    r.only_fields(document, "$", {"$schema", "description", "signers", "groups", "aliases", "environments"});
    Policy policy;
    policy.m_path = path;
    policy.m_sha256 = Digest::of(text).str();
    if (const ordered_json* signers = r.member(document, "signers")) {
        const std::filesystem::path written = r.text(*signers, "$.signers");
        policy.m_signers = (written.is_absolute() ? written : std::filesystem::path(path).parent_path() / written).string();
    }
    if (const ordered_json* groups = r.member(document, "groups")) {
        policy.m_groups = read_name_lists(r, *groups, "$.groups");
        for (const auto& [name, members] : policy.m_groups)
            for (std::size_t i = 0; i < members.size(); ++i)
                if (members[i].rfind("group:", 0) == 0)
                    r.fail("$.groups." + name + "[" + std::to_string(i) + "]", "a group lists principals, not other groups");
    }
    if (const ordered_json* aliases = r.member(document, "aliases")) policy.m_aliases = read_name_lists(r, *aliases, "$.aliases");
    const ordered_json& environments = r.object(r.required(document, "$", "environments"), "$.environments");
    if (environments.empty()) r.fail("$.environments", "names no environment");
    bool needs_signers = false;
    for (const auto& [name, environment] : environments.items()) {
        const std::string path_here = "$.environments." + name;
        r.only_fields(r.object(environment, path_here), path_here, {"description", "requires"});
        const ordered_json& requires_list = r.required(environment, path_here, "requires");
        if (!requires_list.is_array() || requires_list.empty()) r.fail(path_here + ".requires", "must be a non-empty array of rules");
        std::vector<Rule>& rules = policy.m_environments[name];
        for (std::size_t i = 0; i < requires_list.size(); ++i) {
            rules.push_back(read_rule(r, requires_list[i], path_here + ".requires[" + std::to_string(i) + "]", policy.m_groups));
            needs_signers = needs_signers || rules.back().type == Rule::Type::Approvals;
        }
    }
    if (needs_signers && policy.m_signers.empty())
        r.fail("$.signers", "an approvals rule needs \"signers\": the allowed_signers file that says whose keys count");
    return policy;
}

Policy Policy::load(const std::string& path) {
    InputFileOptions options;
    options.max_bytes = k_max_policy_bytes;
    options.hint = " (pass the policy file with --policy)";
    return parse(read_text_file(path, "--policy", options), path);
}

const std::vector<Rule>& Policy::rules_for(const std::string& environment) const {
    auto found = m_environments.find(environment);
    if (found != m_environments.end()) return found->second;
    std::string names;
    for (const auto& [name, rules] : m_environments) names += (names.empty() ? "" : ", ") + name;
    throw_usage(m_path + " has no environment " + quote(environment) + " (it has: " + names + ")");
}

std::vector<std::string> Policy::principals(const std::vector<std::string>& from) const {
    std::vector<std::string> out;
    auto add = [&](const std::string& principal) {
        if (std::find(out.begin(), out.end(), principal) == out.end()) out.push_back(principal);
    };
    for (const std::string& entry : from) {
        if (entry.rfind("group:", 0) == 0) {
            auto group = m_groups.find(entry.substr(6));
            if (group != m_groups.end())
                for (const auto& member : group->second) add(member);
        } else {
            add(entry.rfind("user:", 0) == 0 ? entry.substr(5) : entry);
        }
    }
    return out;
}

std::vector<std::string> Policy::names_of(const std::string& principal) const {
    std::vector<std::string> out{principal};
    auto aliases = m_aliases.find(principal);
    if (aliases != m_aliases.end()) out.insert(out.end(), aliases->second.begin(), aliases->second.end());
    return out;
}

}  // namespace digestflow::gate
