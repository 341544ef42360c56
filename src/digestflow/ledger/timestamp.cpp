#include "digestflow/ledger/timestamp.hpp"

#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace digestflow::ledger {
namespace {

// Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm, proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
    static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

// Reads `count` digits at `at`; false when any is not a digit.
bool digits(std::string_view text, std::size_t at, std::size_t count, unsigned& value) {
    if (at + count > text.size()) return false;
    value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
        value = value * 10 + static_cast<unsigned>(text[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' || !digits(text, 5, 2, month) ||
        text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
        !digits(text, 17, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 60)
        return std::nullopt;
    std::size_t at = 19;
    if (at < text.size() && text[at] == '.') {
        std::size_t start = ++at;
        while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) ++at;
        if (at == start) return std::nullopt;
    }
    std::int64_t offset = 0;
    if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
        ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        unsigned oh = 0, om = 0;
        if (!digits(text, at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
            !digits(text, at + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset = (text[at] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
        at += 6;
    } else {
        return std::nullopt;
    }
    if (at != text.size()) return std::nullopt;
    // A leap second (:60) counts as the last second of its minute.
    std::int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + std::min(second, 59u);
    return seconds - offset;
}

std::int64_t parse_time_flag(const std::string& flag, const std::string& text) {
    auto seconds = parse_rfc3339(text);
    if (!seconds)
        throw_usage(flag + " " + quote(text) + ": give an RFC 3339 time, e.g. 2026-03-03T12:00:00Z or 2026-03-03T13:00:00+01:00");
    // An offset can carry a valid time out of the four-digit years in UTC, where it has no RFC 3339 form.
    if (*seconds < days_from_civil(0, 1, 1) * 86400 || *seconds > days_from_civil(9999, 12, 31) * 86400 + 86399)
        throw_usage(flag + " " + quote(text) + ": in UTC that is outside the years 0000 to 9999; give a time inside them");
    return *seconds;
}

std::string format_rfc3339(std::int64_t seconds) {
    std::time_t value = static_cast<std::time_t>(seconds);
    std::tm parts{};
    ::gmtime_r(&value, &parts);
    // %Y gives "0" for year 0: RFC 3339 always has four digits.
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02dT%02d:%02d:%02dZ", static_cast<long long>(parts.tm_year) + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
    return buffer;
}

}  // namespace digestflow::ledger
