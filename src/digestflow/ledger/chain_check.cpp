#include "digestflow/ledger/chain_check.hpp"

#include "digestflow/digest.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/line_scanner.hpp"
#include "digestflow/ledger/timestamp.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace digestflow::ledger {
namespace {

// The holds member exactly as serialize_line writes it for `holds` ("" when none are in force).
std::string holds_text(const Holds& holds) {
    if (holds.empty()) return {};
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (const auto& [environment, hold] : holds) object[environment] = {{"digest", hold.digest}, {"at", hold.at}};
    return object.dump();
}

// Digest::is_valid, with a fast path for the one form lines carry (sha256, lowercase hex).
bool is_digest(std::string_view text) {
    if (text.size() == 71 && text.substr(0, 7) == "sha256:")
        return text.find_first_not_of("0123456789abcdef", 7) == std::string_view::npos;
    return Digest::is_valid(text);
}

std::string short_digest(std::string_view digest) {
    return std::string(digest.substr(0, std::min<std::size_t>(digest.size(), 19))) + "…";
}

class ChainChecker {
public:
    ChainChecker(std::string_view complete, const std::vector<VerifyKey>& keys) : m_complete(complete), m_keys(keys) {}

    // The reason line `number` is wrong, or nullopt.
    std::optional<std::string> check(std::size_t number, std::string_view line) {
        if (auto problem = scan_object_line(line, m_scanned)) return as_object_problem(*problem);
        auto version = m_scanned.find("v");
        if (!version || *version != "1") return "not a ledger line of format v1 (\"v\" is missing or different)";
        auto prev = plain(m_scanned.find("prev"));
        if (!prev) return std::string("no \"prev\" string");
        if (*prev != m_expected_prev) return chain_break(number, *prev);

        auto kind_text = plain(m_scanned.find("kind"));
        auto kind = kind_text ? kind_from_name(*kind_text) : std::nullopt;
        if (!kind) return std::string("no known \"kind\" (deploy, incident, hold or release)");
        auto environment = text(m_scanned.find("environment"));
        if (!environment || environment->empty()) return std::string("no \"environment\"");
        auto at = plain(m_scanned.find("at"));
        if (!at || !parse_rfc3339(*at)) return std::string("\"at\" is not an RFC 3339 time");
        std::string digest;
        if (*kind != EntryKind::Release) {
            auto value = plain(m_scanned.find("digest"));
            if (!value || !is_digest(*value)) return std::string("\"digest\" is missing or not a digest");
            auto repository = text(m_scanned.find("repository"));
            if (!repository || repository->empty()) return std::string("no \"repository\"");
            digest = std::string(*value);
        }

        if (*kind == EntryKind::Deploy) {
            auto held = m_holds.find(*environment);
            if (held != m_holds.end() && held->second.digest != digest)
                return "deploys " + short_digest(digest) + " to " + *environment + " while it was held at " +
                       short_digest(held->second.digest) + " (since " + held->second.at + ")";
        }
        if (*kind == EntryKind::Release && !m_holds.count(*environment))
            return "releases " + *environment + ", which was not held";
        Entry applied;
        applied.kind = *kind;
        applied.environment = *environment;
        applied.digest = digest;
        applied.at = std::string(*at);
        m_holds = holds_after(m_holds, applied);
        auto holds = m_scanned.find("holds");
        std::string expected = holds_text(m_holds);
        if ((holds ? std::string(*holds) : std::string()) != expected)
            return expected.empty() ? "\"holds\" names holds that no hold line before it put in force"
                                    : "\"holds\" does not match the holds in force (" + expected + ")";

        if (auto problem = check_signature(line, m_scanned.members.back().key == "sig")) return problem;
        m_previous_start = static_cast<std::size_t>(line.data() - m_complete.data());
        m_expected_prev = line_hash(line);
        return std::nullopt;
    }

    const std::string& head() const { return m_expected_prev; }
    std::size_t signed_lines() const { return m_signed; }
    std::size_t checked_signatures() const { return m_checked; }

private:
    static std::optional<std::string_view> plain(std::optional<std::string_view> raw) {
        return raw ? plain_string_value(*raw) : std::nullopt;
    }
    static std::optional<std::string> text(std::optional<std::string_view> raw) {
        return raw ? string_value(*raw) : std::nullopt;
    }

    // Names what broke the chain: a line it skips back to was moved or inserted; otherwise the line before was
    // changed or a line between them removed.
    std::string chain_break(std::size_t number, std::string_view prev) const {
        if (number == 1) return "the first line must chain to the genesis value (prev " + std::string(genesis_prev) + ")";
        // The line before ends in "\r\n" but chains as if it ended in "\n": its line endings were converted.
        std::string_view before_line = m_complete.substr(m_previous_start);
        before_line = before_line.substr(0, before_line.find('\n') + 1);
        if (before_line.size() >= 2 && before_line[before_line.size() - 2] == '\r' &&
            line_hash(std::string(before_line.substr(0, before_line.size() - 2)) + "\n") == prev)
            return "line " + std::to_string(number - 1) + " ends in \\r\\n (CRLF) where the chain has \\n: the file's line "
                   "endings were converted (e.g. by git core.autocrlf or an editor); convert them back (dos2unix) and verify again";
        std::string found;
        for_each_line(m_complete.substr(0, m_previous_start), [&](std::size_t earlier, std::string_view line) {
            if (found.empty() && line_hash(line) == prev) found = std::to_string(earlier);
        });
        std::string before = std::to_string(number - 1);
        if (!found.empty())
            return "its prev is the hash of line " + found + ", not of line " + before +
                   ": lines were inserted or moved between them";
        return "its prev does not match the hash of line " + before + ": line " + before +
               " was changed, or lines were removed or moved before this one";
    }

    std::optional<std::string> check_signature(std::string_view line, bool is_signed) {
        m_signed += is_signed;
        if (m_keys.empty()) return std::nullopt;
        SignatureCheck check = check_line_signature(line, m_keys);
        if (check.state != SignatureState::Valid)
            return check.state == SignatureState::Unsigned ? std::string("not signed (every line must be, with --verify-key)")
                                                           : "signature: " + check.why;
        ++m_checked;
        return std::nullopt;
    }

    std::string_view m_complete;
    const std::vector<VerifyKey>& m_keys;
    ScannedLine m_scanned;
    std::string m_expected_prev{genesis_prev};
    std::size_t m_previous_start = 0;
    Holds m_holds;
    std::size_t m_signed = 0;
    std::size_t m_checked = 0;
};

}  // namespace

ChainReport check_chain(const LedgerView& ledger, const std::vector<VerifyKey>& keys,
                        const std::vector<std::string>& anchors) {
    ChainReport report;
    ChainChecker checker(ledger.complete(), keys);
    std::set<std::string> missing(anchors.begin(), anchors.end());
    for_each_line(ledger.complete(), [&](std::size_t number, std::string_view line) {
        if (report.problem) return;
        report.lines = number;
        // The hash of each line is the next line's expected prev: an anchor is found as it goes by.
        if (auto why = checker.check(number, line)) report.problem = ChainProblem{number, *why};
        else if (!missing.empty()) missing.erase(checker.head());
    });
    report.head = checker.head();
    report.signed_lines = checker.signed_lines();
    report.checked_signatures = checker.checked_signatures();
    if (!report.problem && ledger.torn())
        report.problem = ChainProblem{report.lines + 1, "torn: " + ledger.torn_report()};
    if (!report.problem && !missing.empty())
        report.problem = ChainProblem{report.lines, "entry " + *missing.begin() +
                                                         " is not in the ledger: lines were rewritten or cut off, or "
                                                         "it was recorded in another ledger"};
    return report;
}

}  // namespace digestflow::ledger
