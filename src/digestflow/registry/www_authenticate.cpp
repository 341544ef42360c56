// WWW-Authenticate parsing that gives the same results as distribution's client: a registry that works
// with `docker pull` must work with us, so we mirror its leniency and its strictness alike.
#include "digestflow/registry/www_authenticate.hpp"

#include <cctype>

namespace digestflow::registry {

namespace {

// RFC 2616 token characters: visible ASCII minus separators.
bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 31 || u >= 127) {
        return false;
    }
    switch (c) {
    case ' ': case '"': case '(': case ')': case ',': case '/': case ':': case ';': case '<':
    case '=': case '>': case '?': case '@': case '[': case '\\': case ']': case '{': case '}':
        return false;
    default:
        return true;
    }
}

bool is_space_char(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

void skip_space(std::string_view& s) {
    std::size_t i = 0;
    while (i < s.size() && is_space_char(s[i])) {
        ++i;
    }
    s.remove_prefix(i);
}

// Consumes the longest run of token characters (possibly empty).
std::string_view take_token(std::string_view& s) {
    std::size_t i = 0;
    while (i < s.size() && is_token_char(s[i])) {
        ++i;
    }
    const std::string_view token = s.substr(0, i);
    s.remove_prefix(i);
    return token;
}

// A token or a quoted-string with backslash escapes. An unterminated quote yields "" (which ends
// parsing), as upstream does, rather than a half value.
std::string take_token_or_quoted(std::string_view& s) {
    if (s.empty() || s.front() != '"') {
        return std::string(take_token(s));
    }
    std::string value;
    bool escaped = false;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (escaped) {
            value.push_back(c);
            escaped = false;
        } else if (c == '\\') {
            escaped = true;
        } else if (c == '"') {
            s.remove_prefix(i + 1);
            return value;
        } else {
            value.push_back(c);
        }
    }
    s = {};
    return {};
}

}  // namespace

Challenge parse_www_authenticate(std::string_view header_value) {
    Challenge challenge;
    std::string_view rest = header_value;
    const std::string_view scheme = take_token(rest);
    if (scheme.empty()) {
        return challenge;
    }
    challenge.scheme = to_lower(scheme);

    // Params are a comma-separated list; the first one follows the scheme after whitespace only, so the
    // loop starts as if a comma had been seen. Anything unexpected ends parsing, keeping what was read.
    skip_space(rest);
    bool first = true;
    while (first || (!rest.empty() && rest.front() == ',')) {
        if (!first) {
            rest.remove_prefix(1);
        }
        first = false;
        skip_space(rest);
        const std::string_view name = take_token(rest);
        if (name.empty() || rest.empty() || rest.front() != '=') {
            break;
        }
        rest.remove_prefix(1);
        std::string value = take_token_or_quoted(rest);
        if (value.empty()) {
            break;
        }
        challenge.params[to_lower(name)] = std::move(value);
        skip_space(rest);
    }
    return challenge;
}

std::vector<Challenge> parse_challenges(const std::vector<std::string>& header_values) {
    std::vector<Challenge> challenges;
    for (const std::string& value : header_values) {
        Challenge challenge = parse_www_authenticate(value);
        if (!challenge.scheme.empty()) {
            challenges.push_back(std::move(challenge));
        }
    }
    return challenges;
}

}  // namespace digestflow::registry
