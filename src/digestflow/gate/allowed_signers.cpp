#include "digestflow/gate/allowed_signers.hpp"

#include "digestflow/error.hpp"
#include "digestflow/gate/ssh_wire.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"

#include <algorithm>
#include <cctype>

namespace digestflow::gate {

namespace {

// Glob with * (any run) and ? (one byte), backtracking to the last *: linear in practice, never exponential.
bool matches_pattern(std::string_view name, std::string_view pattern) {
    std::size_t n = 0, p = 0, star = std::string_view::npos, resume = 0;
    while (n < name.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
            ++n;
            ++p;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = n;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            n = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// The next whitespace-delimited token; double quotes protect spaces (and are kept in the token).
std::string_view next_token(std::string_view& rest) {
    std::size_t start = 0;
    while (start < rest.size() && is_space(rest[start])) ++start;
    std::size_t end = start;
    bool quoted = false;
    while (end < rest.size() && (quoted || !is_space(rest[end]))) {
        if (rest[end] == '"') quoted = !quoted;
        ++end;
    }
    const std::string_view token = rest.substr(start, end - start);
    rest.remove_prefix(end);
    return token;
}

std::string unquoted(std::string_view value) {
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') return std::string(value.substr(1, value.size() - 2));
    return std::string(value);
}

// A key type never holds '=' or '"', so such a token is options (and an unknown one is named as an option).
bool looks_like_options(std::string_view token) {
    if (token.find_first_of("=\"") != std::string_view::npos) return true;
    const std::string l = lower(token.substr(0, std::min<std::size_t>(token.size(), 15)));
    for (const char* option : {"cert-authority", "namespaces=", "valid-after=", "valid-before="})
        if (l.rfind(option, 0) == 0) return true;
    return false;
}

std::string iso_utc(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

class LineParser {
public:
    LineParser(const std::string& origin, std::size_t line) : m_where(origin + ":" + std::to_string(line) + ": ") {}

    void options(std::string_view token, AllowedSigner& signer) const {
        std::size_t at = 0;
        while (at <= token.size()) {
            std::size_t end = at;
            bool quoted = false;
            while (end < token.size() && (quoted || token[end] != ',')) {
                if (token[end] == '"') quoted = !quoted;
                ++end;
            }
            option(token.substr(at, end - at), signer);
            at = end + 1;
        }
        if (signer.valid_after && signer.valid_before && *signer.valid_before < *signer.valid_after)
            fail("valid-before is earlier than valid-after");
    }

    [[noreturn]] void fail(const std::string& what) const { throw_usage(m_where + what); }

private:
    void option(std::string_view text, AllowedSigner& signer) const {
        const auto equals = text.find('=');
        const std::string name = lower(text.substr(0, equals));
        const std::string_view raw = equals == std::string_view::npos ? std::string_view() : text.substr(equals + 1);
        // OpenSSH refuses an unquoted value ("missing start quote"): so does this reader, so that a hand check
        // with ssh-keygen -Y verify gives the same answer.
        if (equals != std::string_view::npos && (raw.size() < 2 || raw.front() != '"' || raw.back() != '"'))
            fail(name + "= needs its value in double quotes, as ssh-keygen reads it: " + name + "=\"…\"");
        const std::string value = equals == std::string_view::npos ? "" : unquoted(raw);
        if (name == "cert-authority" && equals == std::string_view::npos) {
            if (signer.cert_authority) fail("cert-authority given twice");
            signer.cert_authority = true;
        } else if (name == "namespaces" && equals != std::string_view::npos) {
            if (signer.namespaces) fail("namespaces= given twice");
            signer.namespaces = value;
        } else if ((name == "valid-after" || name == "valid-before") && equals != std::string_view::npos) {
            std::optional<std::time_t>& slot = name == "valid-after" ? signer.valid_after : signer.valid_before;
            if (slot) fail(name + "= given twice");
            slot = parse_ssh_timestamp(value);
            if (!slot) fail(name + "=" + quote(value) + " is not YYYYMMDD[HHMM[SS]][Z]");
        } else {
            fail("unknown option " + quote(std::string(text), 60) +
                 " (cert-authority, namespaces=\"…\", valid-after=\"…\", valid-before=\"…\")");
        }
    }

    std::string m_where;
};

}  // namespace

bool matches_pattern_list(std::string_view name, std::string_view patterns) {
    bool positive = false;
    std::size_t at = 0;
    while (at <= patterns.size()) {
        const auto comma = std::min(patterns.find(',', at), patterns.size());
        std::string_view pattern = patterns.substr(at, comma - at);
        at = comma + 1;
        const bool negated = !pattern.empty() && pattern[0] == '!';
        if (negated) pattern.remove_prefix(1);
        if (pattern.empty() || !matches_pattern(name, pattern)) continue;
        if (negated) return false;
        positive = true;
    }
    return positive;
}

std::optional<std::time_t> parse_ssh_timestamp(std::string_view text) {
    const bool utc = !text.empty() && (text.back() == 'Z' || text.back() == 'z');
    if (utc) text.remove_suffix(1);
    if (text.size() != 8 && text.size() != 12 && text.size() != 14) return std::nullopt;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    auto number = [&](std::size_t at, std::size_t count) {
        return at + count <= text.size() ? std::stoi(std::string(text.substr(at, count))) : 0;
    };
    std::tm tm{};
    tm.tm_year = number(0, 4) - 1900;
    tm.tm_mon = number(4, 2) - 1;
    tm.tm_mday = number(6, 2);
    tm.tm_hour = number(8, 2);
    tm.tm_min = number(10, 2);
    tm.tm_sec = number(12, 2);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return std::nullopt;
    tm.tm_isdst = -1;
    const std::time_t t = utc ? timegm(&tm) : std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    return t;
}

AllowedSigners AllowedSigners::parse(std::string_view text, const std::string& origin) {
    AllowedSigners out;
    out.m_origin = origin;
    std::size_t number = 0, at = 0;
    while (at < text.size()) {
        const auto nl = text.find('\n', at);
        std::string_view line = text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
        at = nl == std::string_view::npos ? text.size() : nl + 1;
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
        if (line.empty() || line.front() == '#') continue;
        const LineParser parser(origin, number);
        AllowedSigner signer;
        signer.line = number;
        signer.principals = unquoted(next_token(line));
        std::string_view token = next_token(line);
        if (looks_like_options(token)) {
            parser.options(token, signer);
            token = next_token(line);
        }
        const std::string_view encoded = next_token(line);
        if (token.empty() || encoded.empty()) parser.fail("expected \"principals [options] keytype base64-key\"");
        try {
            signer.key = SshPublicKey::from_line(std::string(token) + " " + std::string(encoded));
        } catch (const SshFormatError& e) {
            // A key type OpenSSH knows and we do not (a certificate, DSA, a future hybrid) never matches, but a
            // key that is not even base64 means the file is damaged.
            if (std::string_view(e.what()).find("not supported") == std::string_view::npos)
                parser.fail(std::string("bad key: ") + e.what());
        }
        out.m_signers.push_back(std::move(signer));
    }
    return out;
}

AllowedSigners AllowedSigners::load(const std::string& path) {
    return parse(read_text_file(path, "allowed signers file", std::size_t{1} << 20), path);
}

SignerDecision AllowedSigners::check(std::string_view identity, const SshPublicKey& key, std::string_view sig_namespace,
                                     std::time_t at) const {
    std::string closest;
    std::vector<std::string> others;
    for (const AllowedSigner& signer : m_signers) {
        if (signer.cert_authority || !signer.key || !(*signer.key == key)) continue;
        const std::string where = m_origin + ":" + std::to_string(signer.line);
        if (!matches_pattern_list(identity, signer.principals)) {
            others.push_back(signer.principals);
        } else if (signer.namespaces && !matches_pattern_list(sig_namespace, *signer.namespaces)) {
            closest = where + ": namespaces=\"" + *signer.namespaces + "\" does not include " + std::string(sig_namespace);
        } else if (signer.valid_after && at < *signer.valid_after) {
            closest = where + ": the key is valid only from " + iso_utc(*signer.valid_after);
        } else if (signer.valid_before && at > *signer.valid_before) {
            closest = where + ": the key expired at " + iso_utc(*signer.valid_before) + " (valid-before)";
        } else {
            return {true, signer.line, ""};
        }
    }
    if (!closest.empty()) return {false, 0, closest};
    if (!others.empty()) {
        std::string list;
        for (const auto& p : others) list += (list.empty() ? "" : "; ") + p;
        return {false, 0, "key " + key.fingerprint() + " is allowed in " + m_origin + " for " + list + ", not for " +
                              quote(identity)};
    }
    return {false, 0, "key " + key.fingerprint() + " is not in " + m_origin};
}

std::vector<std::string> AllowedSigners::principals_of(const SshPublicKey& key) const {
    std::vector<std::string> out;
    for (const AllowedSigner& signer : m_signers)
        if (signer.key && *signer.key == key && !signer.cert_authority) out.push_back(signer.principals);
    return out;
}

}  // namespace digestflow::gate
