// One pass over the line, no document: a recursive descent over a pointer, strings checked eight bytes at a
// time (SWAR) and only the rare bytes (quote, backslash, control, non-ASCII) handled one by one. Failures
// are kept as a position and a reason built only when the line is refused, so the accepted path never
// allocates except for `members` growing to its high-water mark once.
#include "digestflow/ledger/line_scanner.hpp"

#include "digestflow/quote.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace digestflow::ledger {
namespace {

constexpr int max_depth = 32;

std::string byte_at(std::size_t offset) {
    return " at byte " + std::to_string(offset);
}

std::string hex_byte(unsigned char c) {
    static constexpr char hex[] = "0123456789abcdef";
    return std::string("0x") + hex[c >> 4] + hex[c & 15];
}

// How an unexpected byte reads in a reason: 'x' for printable ASCII, names for the rest.
std::string describe(const char* p, const char* end) {
    if (p == end)
        return "end of line";
    const auto c = static_cast<unsigned char>(*p);
    if (c == '\n')
        return "line break";
    if (c >= 0x20 && c < 0x7f)
        return std::string("'") + static_cast<char>(c) + "'";
    return "byte " + hex_byte(c);
}

// Eight bytes at a time: nonzero when any byte is '"', '\\', below 0x20 or above 0x7f. The subtraction tricks
// only raise false alarms in bytes after a true one, so on little-endian the lowest set bit is the first hit.
inline std::uint64_t special_bytes(std::uint64_t x) {
    constexpr std::uint64_t ones = 0x0101010101010101ull;
    constexpr std::uint64_t highs = 0x8080808080808080ull;
    const std::uint64_t q = x ^ (ones * '"');
    const std::uint64_t b = x ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) & highs;
}

inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

inline int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum class Why {
    Unexpected,
    NotObject,
    AfterObject,
    NotClosed,
    EscapeCut,
    Control,
    NotUtf8,
    BadEscape,
    BadHex,
    LowSurrogate,
    HighSurrogate,
    Digit,
    FractionDigit,
    ExponentDigit,
    TooDeep,
    Duplicate,
};

// A JSON text reader over [begin, end). Every step returns the position after what it read, or nullptr
// after recording why it stopped.
class Scanner {
  public:
    Scanner(const char* begin, const char* end) : m_begin(begin), m_end(end) {}

    const std::string& reason() const { return m_reason; }

    const char* skip_space(const char* p) const {
        // A line break is not space here: a ledger line is one line, so "\n" only ends it.
        while (p != m_end && (*p == ' ' || *p == '\t' || *p == '\r'))
            ++p;
        return p;
    }

    // Cold and out of line: the reasons are only built for a refused line, and keeping their string
    // building out of the hot functions keeps those small.
    [[gnu::cold, gnu::noinline]] const char* fail(const char* at, Why why, std::string_view key = {}) {
        const std::string what = describe(at, m_end);
        switch (why) {
        case Why::Unexpected:
            m_reason = "unexpected " + what;
            break;
        case Why::NotObject:
            m_reason = "not a JSON object: " + what;
            break;
        case Why::AfterObject:
            m_reason = what + " after the object";
            break;
        case Why::NotClosed:
            m_reason = "string not closed: it starts";
            break;
        case Why::EscapeCut:
            m_reason = "string not closed: escape cut off";
            break;
        case Why::Control:
            m_reason =
                "control character " + hex_byte(static_cast<unsigned char>(*at)) + " in a string (escape it)";
            break;
        case Why::NotUtf8:
            m_reason = "string is not UTF-8";
            break;
        case Why::BadEscape:
            m_reason = "invalid escape \\" + describe(at + 1, m_end);
            break;
        case Why::BadHex:
            m_reason = "invalid \\u escape (four hex digits needed)";
            break;
        case Why::LowSurrogate:
            m_reason = "lone low surrogate in a \\u escape";
            break;
        case Why::HighSurrogate:
            m_reason = "high surrogate not followed by a low one in a \\u escape";
            break;
        case Why::Digit:
            m_reason = "a number needs a digit, not " + what + ",";
            break;
        case Why::FractionDigit:
            m_reason = "a number needs a digit after '.', not " + what + ",";
            break;
        case Why::ExponentDigit:
            m_reason = "a number needs a digit in its exponent, not " + what + ",";
            break;
        case Why::TooDeep:
            m_reason = "nested deeper than " + std::to_string(max_depth) + " levels";
            break;
        case Why::Duplicate:
            m_reason = "duplicate member " + quote(key);
            break;
        }
        m_reason += byte_at(static_cast<std::size_t>(at - m_begin));
        return nullptr;
    }
    const char* unexpected(const char* at) { return fail(at, Why::Unexpected); }

    // `p` is on the opening quote; returns the position after the closing one.
    const char* string(const char* p) {
        const char* const open = p;
        ++p;
        for (;;) {
#if defined(__SSE2__)
            // Sixteen bytes at a time: one signed compare finds both controls (< 0x20) and non-ASCII
            // (negative as int8).
            while (m_end - p >= 16) {
                const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
                const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('"')),
                                                               _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\'))),
                                                  _mm_cmplt_epi8(chunk, _mm_set1_epi8(0x20)));
                const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
                if (mask != 0) {
                    p += std::countr_zero(mask);
                    goto special;
                }
                p += 16;
            }
#endif
            if constexpr (std::endian::native == std::endian::little) {
                while (m_end - p >= 8) {
                    std::uint64_t word;
                    std::memcpy(&word, p, 8);
                    const std::uint64_t hit = special_bytes(word);
                    if (hit != 0) {
                        p += std::countr_zero(hit) / 8;
                        break;
                    }
                    p += 8;
                }
            }
#if defined(__SSE2__)
        special:
#endif
            if (p == m_end)
                return fail(open, Why::NotClosed);
            const auto c = static_cast<unsigned char>(*p);
            if (c == '"')
                return p + 1;
            if (c == '\\') {
                p = escape(p);
            } else if (c < 0x20) {
                return fail(p, Why::Control);
            } else if (c >= 0x80) {
                p = utf8(p);
            } else {
                ++p;
            }
            if (p == nullptr)
                return nullptr;
        }
    }

    // `p` is on a byte >= 0x80: one UTF-8 sequence as RFC 3629 allows it (no overlong forms, no surrogates,
    // nothing above U+10FFFF).
    const char* utf8(const char* p) {
        const auto* u = reinterpret_cast<const unsigned char*>(p);
        const std::ptrdiff_t left = m_end - p;
        auto cont = [&](std::ptrdiff_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
            return i < left && u[i] >= lo && u[i] <= hi;
        };
        const unsigned char c = u[0];
        bool ok = false;
        int length = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            ok = cont(1), length = 2;
        } else if (c == 0xE0) {
            ok = cont(1, 0xA0) && cont(2), length = 3;
        } else if (c == 0xED) {
            ok = cont(1, 0x80, 0x9F) && cont(2), length = 3;
        } else if (c >= 0xE1 && c <= 0xEF) {
            ok = cont(1) && cont(2), length = 3;
        } else if (c == 0xF0) {
            ok = cont(1, 0x90) && cont(2) && cont(3), length = 4;
        } else if (c >= 0xF1 && c <= 0xF3) {
            ok = cont(1) && cont(2) && cont(3), length = 4;
        } else if (c == 0xF4) {
            ok = cont(1, 0x80, 0x8F) && cont(2) && cont(3), length = 4;
        }
        if (!ok)
            return fail(p, Why::NotUtf8);
        return p + length;
    }

    // `p` is on a backslash.
    const char* escape(const char* p) {
        if (m_end - p < 2)
            return fail(p, Why::EscapeCut);
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            return p + 2;
        case 'u':
            break;
        default:
            return fail(p, Why::BadEscape);
        }
        const int unit = hex4(p + 2);
        if (unit < 0)
            return fail(p, Why::BadHex);
        if (unit >= 0xDC00 && unit <= 0xDFFF)
            return fail(p, Why::LowSurrogate);
        if (unit < 0xD800 || unit > 0xDBFF)
            return p + 6;
        const int low = m_end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
        if (low < 0xDC00 || low > 0xDFFF)
            return fail(p, Why::HighSurrogate);
        return p + 12;
    }

    int hex4(const char* p) const {
        if (m_end - p < 4)
            return -1;
        int value = 0;
        for (int i = 0; i < 4; ++i) {
            const int digit = hex_value(p[i]);
            if (digit < 0)
                return -1;
            value = value * 16 + digit;
        }
        return value;
    }

    // RFC 8259 number grammar only: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (no range check).
    const char* number(const char* p) {
        if (*p == '-')
            ++p;
        if (p == m_end || !is_digit(*p))
            return fail(p, Why::Digit);
        if (*p == '0') {
            ++p;
        } else {
            while (p != m_end && is_digit(*p))
                ++p;
        }
        if (p != m_end && *p == '.') {
            ++p;
            if (p == m_end || !is_digit(*p))
                return fail(p, Why::FractionDigit);
            while (p != m_end && is_digit(*p))
                ++p;
        }
        if (p != m_end && (*p == 'e' || *p == 'E')) {
            ++p;
            if (p != m_end && (*p == '+' || *p == '-'))
                ++p;
            if (p == m_end || !is_digit(*p))
                return fail(p, Why::ExponentDigit);
            while (p != m_end && is_digit(*p))
                ++p;
        }
        return p;
    }

    const char* literal(const char* p, std::string_view word) {
        if (static_cast<std::size_t>(m_end - p) < word.size() ||
            std::memcmp(p, word.data(), word.size()) != 0)
            return unexpected(p);
        return p + word.size();
    }

    // `p` is on the first byte of a value (space skipped); `depth` is the nesting of the container holding
    // it.
    const char* value(const char* p, int depth) {
        if (p == m_end)
            return unexpected(p);
        switch (*p) {
        case '"':
            return string(p);
        case '{':
            return object(p, depth + 1);
        case '[':
            return array(p, depth + 1);
        case 't':
            return literal(p, "true");
        case 'f':
            return literal(p, "false");
        case 'n':
            return literal(p, "null");
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
            return number(p);
        default:
            return unexpected(p);
        }
    }

    const char* array(const char* p, int depth) {
        if (depth > max_depth)
            return fail(p, Why::TooDeep);
        p = skip_space(p + 1);
        if (p != m_end && *p == ']')
            return p + 1;
        for (;;) {
            p = value(p, depth);
            if (p == nullptr)
                return nullptr;
            p = skip_space(p);
            if (p == m_end)
                return unexpected(p);
            if (*p == ']')
                return p + 1;
            if (*p != ',')
                return unexpected(p);
            p = skip_space(p + 1);
        }
    }

    // The top-level object records its members (when `members` is given) and refuses duplicate keys.
    const char* object(const char* p, int depth, std::vector<RawMember>* members = nullptr) {
        if (depth > max_depth)
            return fail(p, Why::TooDeep);
        p = skip_space(p + 1);
        if (p != m_end && *p == '}')
            return p + 1;
        for (;;) {
            if (p == m_end || *p != '"')
                return unexpected(p);
            const char* const key_open = p;
            p = string(p);
            if (p == nullptr)
                return nullptr;
            const std::string_view key(key_open + 1, static_cast<std::size_t>(p - key_open - 2));
            p = skip_space(p);
            if (p == m_end || *p != ':')
                return unexpected(p);
            p = skip_space(p + 1);
            const char* const value_begin = p;
            p = value(p, depth);
            if (p == nullptr)
                return nullptr;
            if (members != nullptr) {
                for (const RawMember& seen : *members)
                    if (seen.key.size() == key.size() && (key.empty() || seen.key[0] == key[0]) &&
                        std::memcmp(seen.key.data(), key.data(), key.size()) == 0)
                        return fail(key_open, Why::Duplicate, key);
                members->push_back(
                    {key, std::string_view(value_begin, static_cast<std::size_t>(p - value_begin))});
            }
            p = skip_space(p);
            if (p == m_end)
                return unexpected(p);
            if (*p == '}')
                return p + 1;
            if (*p != ',')
                return unexpected(p);
            p = skip_space(p + 1);
        }
    }

  private:
    const char* m_begin;
    const char* m_end;
    std::string m_reason;
};

// Appends the UTF-8 form of `code` (a scalar value the scanner already checked).
void put_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    }
}

// True when `raw` is exactly one valid JSON string.
bool is_string(std::string_view raw) {
    if (raw.size() < 2 || raw.front() != '"')
        return false;
    Scanner scanner(raw.data(), raw.data() + raw.size());
    return scanner.string(raw.data()) == raw.data() + raw.size();
}

} // namespace

std::optional<std::string_view> ScannedLine::find(std::string_view key) const {
    for (const RawMember& member : members)
        if (member.key == key)
            return member.value;
    return std::nullopt;
}

std::optional<std::string> scan_object_line(std::string_view line, ScannedLine& out) {
    out.members.clear();
    if (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    const char* const end = line.data() + line.size();
    Scanner scanner(line.data(), end);
    const char* p = scanner.skip_space(line.data());
    if (p == end || *p != '{') {
        scanner.fail(p, Why::NotObject);
        return scanner.reason();
    }
    p = scanner.object(p, 1, &out.members);
    if (p != nullptr) {
        p = scanner.skip_space(p);
        if (p == end)
            return std::nullopt;
        scanner.fail(p, Why::AfterObject);
    }
    out.members.clear();
    return scanner.reason();
}

std::optional<std::string> string_value(std::string_view raw) {
    if (!is_string(raw))
        return std::nullopt;
    std::string out;
    out.reserve(raw.size() - 2);
    const char* p = raw.data() + 1;
    const char* const end = raw.data() + raw.size() - 1;
    while (p != end) {
        const char* slash = static_cast<const char*>(std::memchr(p, '\\', static_cast<std::size_t>(end - p)));
        if (slash == nullptr) {
            out.append(p, end);
            break;
        }
        out.append(p, slash);
        p = slash + 2;
        switch (slash[1]) {
        case 'b':
            out += '\b';
            break;
        case 'f':
            out += '\f';
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        case 't':
            out += '\t';
            break;
        case 'u': {
            auto unit = [](const char* h) {
                std::uint32_t value = 0;
                for (int i = 0; i < 4; ++i)
                    value = value * 16 + static_cast<std::uint32_t>(hex_value(h[i]));
                return value;
            };
            std::uint32_t code = unit(p);
            p += 4;
            if (code >= 0xD800 && code <= 0xDBFF) { // the scanner checked a low surrogate follows
                code = 0x10000 + ((code - 0xD800) << 10) + (unit(p + 2) - 0xDC00);
                p += 6;
            }
            put_utf8(out, code);
            break;
        }
        default:
            out += slash[1];
            break; // '"', '\\', '/'
        }
    }
    return out;
}

std::optional<std::string_view> plain_string_value(std::string_view raw) {
    if (!is_string(raw))
        return std::nullopt;
    const std::string_view inner = raw.substr(1, raw.size() - 2);
    if (std::memchr(inner.data(), '\\', inner.size()) != nullptr)
        return std::nullopt;
    return inner;
}

} // namespace digestflow::ledger
