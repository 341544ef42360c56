#include "digestflow/ledger/queries.hpp"

#include "digestflow/error.hpp"
#include "digestflow/ledger/line_scanner.hpp"
#include "digestflow/ledger/timestamp.hpp"
#include "digestflow/quote.hpp"

#include <algorithm>
#include <set>

namespace digestflow::ledger {
namespace {

// The members every reader filters on, as views into the line.
struct LineKeys {
    std::string_view kind;
    std::string environment;
    std::string_view digest;
    std::string_view rollback_of;
    std::int64_t at = 0;
};

class KeyReader {
public:
    explicit KeyReader(const LedgerView& ledger) : m_path(ledger.path()), m_complete(ledger.complete()) {}

    // Throws Error(Usage) naming the line when it is not a ledger line (number 0: counted when needed).
    const LineKeys& read(std::size_t number, std::string_view line) {
        if (number == 0) m_line = line;
        if (auto problem = scan_object_line(line, m_scanned)) fail(number, as_object_problem(*problem));
        auto kind = plain("kind");
        auto at = plain("at");
        auto environment = m_scanned.find("environment");
        auto environment_text = environment ? string_value(*environment) : std::nullopt;
        auto seconds = at ? parse_rfc3339(*at) : std::nullopt;
        if (!kind || !environment_text || !seconds) fail(number, "no kind, environment or at");
        m_keys.kind = *kind;
        m_keys.environment = std::move(*environment_text);
        m_keys.at = *seconds;
        m_keys.digest = plain("digest").value_or(std::string_view());
        m_keys.rollback_of = plain("rollbackOf").value_or(std::string_view());
        return m_keys;
    }

    // True when the line's platforms name `digest` (an index child: what a node pulled).
    bool names_platform(std::string_view digest) const {
        auto platforms = m_scanned.find("platforms");
        return platforms && platforms->find("\"" + std::string(digest) + "\"") != std::string_view::npos;
    }

    LedgerRecord record(std::size_t number, std::string_view line) const {
        return LedgerRecord{number, line_hash(line), std::string(line), parse_line(line, origin(number))};
    }

private:
    std::optional<std::string_view> plain(std::string_view key) const {
        auto raw = m_scanned.find(key);
        return raw ? plain_string_value(*raw) : std::nullopt;
    }
    std::string origin(std::size_t number) const { return "ledger " + quote(m_path) + " line " + std::to_string(number); }
    [[noreturn]] void fail(std::size_t number, const std::string& why) const {
        if (number == 0)
            number = 1 + static_cast<std::size_t>(std::count(m_complete.data(), m_line.data(), '\n'));
        throw_usage(origin(number) + ": " + why + "; run record verify --ledger " + quote(m_path));
    }

    std::string m_path;
    std::string_view m_complete;
    std::string_view m_line;  // the line being read backwards (its number is not known)
    ScannedLine m_scanned;
    LineKeys m_keys;
};

struct Seen {
    std::size_t number;
    std::string_view line;
};

}  // namespace

std::vector<LedgerRecord> history(const LedgerView& ledger, const HistoryQuery& query) {
    std::vector<LedgerRecord> found;
    KeyReader reader(ledger);
    for_each_line(ledger.complete(), [&](std::size_t number, std::string_view line) {
        const LineKeys& keys = reader.read(number, line);
        if (!query.environment.empty() && keys.environment != query.environment) return;
        if (query.since && keys.at < *query.since) return;
        if (query.until && keys.at > *query.until) return;
        if (!query.digest.empty() && keys.digest != query.digest && keys.rollback_of != query.digest &&
            !reader.names_platform(query.digest))
            return;
        found.push_back(reader.record(number, line));
    });
    return found;
}

std::optional<RunningAt> running_at(const LedgerView& ledger, const std::string& environment,
                                    std::optional<std::int64_t> at) {
    // From the end: the first deploy line for the environment at or before `at` is the last in ledger order,
    // and the first line of any kind at or before `at` carries the holds in force then.
    KeyReader reader(ledger);
    std::optional<std::string_view> state;
    std::optional<std::string_view> deployment;
    std::size_t number = find_line_backward(ledger.complete(), [&](std::string_view line) {
        const LineKeys& keys = reader.read(0, line);
        if (at && keys.at > *at) return false;
        if (!state) state = line;
        if (keys.kind == "deploy" && keys.environment == environment) deployment = line;
        return deployment.has_value();
    });
    if (!deployment) return std::nullopt;
    RunningAt result{reader.record(number, *deployment), std::nullopt};
    Entry in_force = parse_line(*state, "ledger " + quote(ledger.path()));
    if (auto hold = in_force.holds.find(environment); hold != in_force.holds.end()) result.hold = hold->second;
    return result;
}

RollbackTarget rollback_target(const LedgerView& ledger, const std::string& environment, int steps) {
    KeyReader reader(ledger);
    std::vector<Seen> forward;  // deploy lines that were not rollbacks
    std::optional<Seen> current;
    std::set<std::string, std::less<>> incidents;
    for_each_line(ledger.complete(), [&](std::size_t number, std::string_view line) {
        const LineKeys& keys = reader.read(number, line);
        if (keys.environment != environment) return;
        if (keys.kind == "incident") incidents.insert(std::string(keys.digest));
        if (keys.kind != "deploy") return;
        current = Seen{number, line};
        if (keys.rollback_of.empty()) forward.push_back(Seen{number, line});
    });
    if (forward.empty())
        throw_check_failed("ledger " + quote(ledger.path()) + " has no deployment to " + environment +
                           ": nothing to roll back to (check --environment)");

    RollbackTarget result;
    result.last_forward = reader.record(forward.back().number, forward.back().line);
    result.current = reader.record(current->number, current->line);
    std::set<std::string> counted{result.last_forward.entry.digest};
    int step = 0;
    for (auto it = forward.rbegin() + 1; it != forward.rend(); ++it) {
        LedgerRecord candidate = reader.record(it->number, it->line);
        const std::string& digest = candidate.entry.digest;
        if (!counted.insert(digest).second) continue;
        if (incidents.count(digest)) {
            result.skipped.push_back(digest);
            continue;
        }
        if (++step == steps) {
            result.target = std::move(candidate);
            return result;
        }
    }
    if (step == 0)
        throw_check_failed("ledger " + quote(ledger.path()) + ": " + environment +
                           " has no earlier deployment to go back to" +
                           (result.skipped.empty() ? "" : " (" + std::to_string(result.skipped.size()) + " skipped for incidents)"));
    throw_check_failed("ledger " + quote(ledger.path()) + ": " + environment + " has " + std::to_string(step) +
                       " earlier deployment" + (step == 1 ? "" : "s") + " to go back to" +
                       (result.skipped.empty() ? "" : " (" + std::to_string(result.skipped.size()) + " skipped for incidents)") +
                       ", not " + std::to_string(steps) + ": give a smaller --steps");
}

bool is_deploy_to(std::string_view line, const std::string& environment, const std::string& digest) {
    // Lines are written in one compact form: a line without these exact bytes is no deploy to `environment`
    // (environment names need no escaping), and only the few with them are scanned.
    if (line.find("\"kind\":\"deploy\"") == std::string_view::npos ||
        line.find("\"environment\":\"" + environment + "\"") == std::string_view::npos)
        return false;
    ScannedLine scanned;
    if (scan_object_line(line, scanned)) return false;
    auto kind = scanned.find("kind");
    auto env = scanned.find("environment");
    auto env_text = env ? string_value(*env) : std::nullopt;
    if (!kind || *kind != "\"deploy\"" || !env_text || *env_text != environment) return false;
    if (digest.empty()) return true;
    // The top-level digest or a platform's, never another member's (holds name digests of other environments).
    const std::string quoted = "\"" + digest + "\"";
    auto image = scanned.find("digest");
    auto platforms = scanned.find("platforms");
    return (image && *image == quoted) || (platforms && platforms->find(quoted) != std::string_view::npos);
}

}  // namespace digestflow::ledger
