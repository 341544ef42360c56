#include "digestflow/reference.hpp"

#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace digestflow {
namespace {

constexpr std::string_view k_default_domain = "docker.io";
constexpr std::string_view k_legacy_default_domain = "index.docker.io";
constexpr std::string_view k_official_prefix = "library/";
constexpr std::size_t k_path_max = 255;

constexpr std::string_view k_path_rule =
    "use lowercase letters and digits, separated by '.', '_', '__' or one or more '-'";
constexpr std::string_view k_tag_rule =
    "must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || is_upper(c); }
bool is_alnum(char c) { return is_letter(c) || is_digit(c); }
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || is_digit(c); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool has_upper(std::string_view s) {
    for (char c : s)
        if (is_upper(c)) return true;
    return false;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// [a-z0-9]+((?:[._]|__|[-]+)[a-z0-9]+)*
bool is_path_component(std::string_view s) {
    std::size_t i = 0;
    auto alnum_run = [&] {
        std::size_t start = i;
        while (i < s.size() && is_lower_alnum(s[i])) ++i;
        return i > start;
    };
    if (!alnum_run()) return false;
    while (i < s.size()) {
        if (s[i] == '.') {
            ++i;
        } else if (s[i] == '_') {
            ++i;
            if (i < s.size() && s[i] == '_') ++i;
        } else if (s[i] == '-') {
            while (i < s.size() && s[i] == '-') ++i;
        } else {
            return false;
        }
        if (!alnum_run()) return false;
    }
    return true;
}

// path-component ('/' path-component)*
bool is_path(std::string_view s) {
    while (true) {
        auto slash = s.find('/');
        if (!is_path_component(s.substr(0, slash))) return false;
        if (slash == std::string_view::npos) return true;
        s.remove_prefix(slash + 1);
    }
}

// [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain_component(std::string_view s) {
    if (s.empty() || s.front() == '-' || s.back() == '-') return false;
    for (char c : s)
        if (!is_alnum(c) && c != '-') return false;
    return true;
}

bool is_domain_name(std::string_view s) {
    while (true) {
        auto dot = s.find('.');
        if (!is_domain_component(s.substr(0, dot))) return false;
        if (dot == std::string_view::npos) return true;
        s.remove_prefix(dot + 1);
    }
}

// host [':' port] where host is a domain name or a bracketed IPv6 address (no zone).
bool is_domain(std::string_view s) {
    std::string_view rest;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        for (char c : s.substr(1, close - 1))
            if (!is_hex(c) && c != ':') return false;
        rest = s.substr(close + 1);
    } else {
        auto colon = s.find(':');
        if (!is_domain_name(s.substr(0, colon))) return false;
        if (colon != std::string_view::npos) rest = s.substr(colon);
    }
    if (rest.empty()) return true;
    if (rest.front() != ':' || rest.size() == 1) return false;
    for (char c : rest.substr(1))
        if (!is_digit(c)) return false;
    return true;
}

// The reference grammar's digest: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}.
// Looser than go-digest on purpose (uppercase, any length); Digest rules run afterwards.
bool is_reference_digest(std::string_view s) {
    std::size_t i = 0;
    while (true) {
        if (i >= s.size() || !is_letter(s[i])) return false;
        while (i < s.size() && is_alnum(s[i])) ++i;
        if (i >= s.size()) return false;
        if (s[i] == ':') break;
        if (s[i] != '-' && s[i] != '_' && s[i] != '+' && s[i] != '.') return false;
        ++i;
    }
    auto hex = s.substr(i + 1);
    if (hex.size() < 32) return false;
    for (char c : hex)
        if (!is_hex(c)) return false;
    return true;
}

bool is_identifier(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!is_digit(c) && !(c >= 'a' && c <= 'f')) return false;
    return true;
}

struct Match {
    std::string_view domain;  // empty when the name has no domain
    std::string_view path;
    std::optional<std::string_view> tag;
    std::optional<std::string_view> digest;
};

// Says which part of a name failed, for the error message only.
std::string explain_bad_name(std::string_view name) {
    if (name.empty()) return "the repository name is missing";
    bool several = name.find('/') != std::string_view::npos;
    std::size_t index = 0;
    while (true) {
        auto slash = name.find('/');
        auto part = name.substr(0, slash);
        bool host_position = index == 0 && several;
        if (part.empty()) return "empty path component: remove the extra '/'";
        if (!(host_position && is_domain(part)) && !is_path_component(part)) {
            if (host_position && part.find_first_of(".:[]") != std::string_view::npos)
                return quote(part, 300) +
                       " is neither a registry host[:port] nor a path component";
            return "path component " + quote(part, 300) +
                   " is invalid: " + std::string(k_path_rule);
        }
        if (slash == std::string_view::npos) break;
        name.remove_prefix(slash + 1);
        ++index;
    }
    return "expected [host[:port]/]path[:tag][@algorithm:hex]";
}

// The anchored reference regexp, hand-written. Names, tags and digests cannot contain '@', tags cannot
// contain ':' or '/', and paths cannot contain ':', so each split point is unique; the domain is the
// first component whenever it can be one (the regexp's optional group is tried first).
std::optional<Match> match_reference(std::string_view s, std::string* why) {
    Match m;
    std::string_view name_tag = s;
    auto at = s.find('@');
    if (at != std::string_view::npos) {
        m.digest = s.substr(at + 1);
        name_tag = s.substr(0, at);
    }
    std::string_view name = name_tag;
    auto colon = name_tag.rfind(':');
    auto last_slash = name_tag.rfind('/');
    if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
        m.tag = name_tag.substr(colon + 1);
        name = name_tag.substr(0, colon);
    }

    auto first_slash = name.find('/');
    if (first_slash != std::string_view::npos && is_domain(name.substr(0, first_slash)) &&
        is_path(name.substr(first_slash + 1))) {
        m.domain = name.substr(0, first_slash);
        m.path = name.substr(first_slash + 1);
    } else if (is_path(name)) {
        m.path = name;
    } else {
        if (why) *why = explain_bad_name(name);
        return std::nullopt;
    }
    if (m.tag && !is_valid_tag(*m.tag)) {
        if (why) *why = "tag " + quote(*m.tag, 300) + " " + std::string(k_tag_rule);
        return std::nullopt;
    }
    if (m.digest && !is_reference_digest(*m.digest)) {
        if (why)
            *why = "digest " + quote(*m.digest, 300) +
                   " must be <algorithm>:<at least 32 hex digits>, e.g. sha256:<64 lowercase hex digits>";
        return std::nullopt;
    }
    return m;
}

[[noreturn]] void fail(std::string_view shown, const std::string& reason) {
    throw_usage("invalid reference " + quote(shown, 300) + ": " + reason);
}

// distribution's Parse; `shown` is what the user typed, for messages.
Reference parse_grammar(std::string_view text, std::string_view shown) {
    if (text.empty()) fail(shown, "repository name must have at least one component");
    std::string why;
    auto m = match_reference(text, &why);
    if (!m) {
        // Retried lowercased only to choose the message, like distribution does.
        std::string lowered = ascii_lower(text);
        if (lowered != text && match_reference(lowered, nullptr))
            fail(shown, "repository name must be lowercase (only the registry host may contain uppercase)");
        fail(shown, why);
    }
    if (m->path.size() > k_path_max)
        fail(shown, "repository path is " + std::to_string(m->path.size()) +
                        " characters long; the limit is " + std::to_string(k_path_max));

    Reference ref;
    ref.domain = std::string(m->domain);
    ref.path = std::string(m->path);
    if (m->tag) ref.tag = std::string(*m->tag);
    if (m->digest) {
        if (auto problem = detail::digest_problem(*m->digest)) fail(shown, *problem);
        ref.digest = Digest::parse(*m->digest);
    }
    return ref;
}

}  // namespace

Reference Reference::parse_strict(std::string_view text) { return parse_grammar(text, text); }

Reference Reference::parse(std::string_view text) {
    if (text.empty()) fail(text, "repository name must have at least one component");
    if (is_identifier(text))
        fail(text, "a 64-character hex string is an image ID, not a repository name; use name@sha256:<hex>");

    // docker's splitDockerDomain: decide whether the first component is a registry host.
    std::string domain;
    std::string remainder;
    auto slash = text.find('/');
    if (slash == std::string_view::npos) {
        domain = k_default_domain;
        remainder = std::string(text);
    } else {
        auto first = text.substr(0, slash);
        auto rest = text.substr(slash + 1);
        if (first == "localhost" || first.find_first_of(".:") != std::string_view::npos || has_upper(first)) {
            domain = std::string(first == k_legacy_default_domain ? k_default_domain : first);
            remainder = std::string(rest);
        } else {
            domain = k_default_domain;
            remainder = std::string(text);
        }
    }
    if (domain == k_default_domain && remainder.find('/') == std::string::npos)
        remainder = std::string(k_official_prefix) + remainder;

    auto remote = std::string_view(remainder).substr(0, remainder.find(':'));
    if (has_upper(remote))
        fail(text, "repository name " + quote(remote, 300) +
                       " must be lowercase (only the registry host may contain uppercase)");

    Reference ref = parse_grammar(domain + "/" + remainder, text);
    // distribution would return an empty domain here (e.g. "my_registry.local/app" parses as a path);
    // a reference without a registry is useless to us, so say why instead.
    if (ref.domain != domain)
        fail(text,
             quote(domain, 300) +
                 " is not a valid registry host: use letters, digits, '-' and '.', optionally with :port");
    return ref;
}

std::string Reference::str() const {
    std::string out = domain.empty() ? path : domain + "/" + path;
    if (tag) out += ":" + *tag;
    if (digest) out += "@" + digest->str();
    return out;
}

std::string Reference::familiar() const {
    std::string name;
    if (domain == k_default_domain) {
        std::string_view p = path;
        // Only single-level official images lose "library/"; nested paths keep it.
        if (p.substr(0, k_official_prefix.size()) == k_official_prefix &&
            p.substr(k_official_prefix.size()).find('/') == std::string_view::npos)
            p.remove_prefix(k_official_prefix.size());
        name = std::string(p);
    } else {
        name = domain.empty() ? path : domain + "/" + path;
    }
    if (tag) name += ":" + *tag;
    if (digest) name += "@" + digest->str();
    return name;
}

std::string Reference::api_host() const {
    if (domain == k_default_domain) return "registry-1.docker.io";
    return domain;
}

bool Reference::is_loopback() const {
    std::string host;
    if (!domain.empty() && domain.front() == '[') {
        auto close = domain.find(']');
        if (close == std::string::npos) return false;
        host = domain.substr(1, close - 1);
        in6_addr addr{};
        return inet_pton(AF_INET6, host.c_str(), &addr) == 1 &&
               std::memcmp(&addr, &in6addr_loopback, sizeof addr) == 0;
    }
    host = domain.substr(0, domain.find(':'));
    if (ascii_lower(host) == "localhost") return true;
    // inet_pton takes only canonical dotted decimal, so forms like "127.1" or octal are not trusted.
    in_addr addr{};
    if (inet_pton(AF_INET, host.c_str(), &addr) != 1) return false;
    return (ntohl(addr.s_addr) >> 24) == 127;
}

Reference Reference::with_digest(const Digest& d) const {
    Reference out = *this;
    out.tag.reset();
    out.digest = d;
    return out;
}

Reference Reference::with_tag(const std::string& t) const {
    if (!is_valid_tag(t))
        throw_usage("invalid tag " + quote(t, 300) + ": " + std::string(k_tag_rule));
    Reference out = *this;
    out.digest.reset();
    out.tag = t;
    return out;
}

Reference Reference::without_tag() const {
    Reference out = *this;
    out.tag.reset();
    return out;
}

bool is_valid_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > 128 || !is_word(tag.front())) return false;
    for (char c : tag.substr(1))
        if (!is_word(c) && c != '.' && c != '-') return false;
    return true;
}

}  // namespace digestflow
