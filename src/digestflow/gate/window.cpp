#include "digestflow/gate/window.hpp"

#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>

namespace digestflow::gate {

namespace {

constexpr int k_day = 24 * 60;
constexpr int k_week = 7 * k_day;
constexpr std::string_view k_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

std::optional<int> day_of(std::string_view text) {
    for (int i = 0; i < 7; ++i)
        if (text.size() == 3 && (text[0] | 0x20) == (k_days[i][0] | 0x20) && (text[1] | 0x20) == k_days[i][1] &&
            (text[2] | 0x20) == k_days[i][2])
            return i;
    return std::nullopt;
}

std::optional<int> clock_of(std::string_view text) {  // "HH:MM" -> minutes; "24:00" allowed as the day's end
    if (text.size() != 5 || text[2] != ':') return std::nullopt;
    for (int i : {0, 1, 3, 4})
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
    const int hours = (text[0] - '0') * 10 + (text[1] - '0'), minutes = (text[3] - '0') * 10 + (text[4] - '0');
    if (minutes > 59 || hours > 24 || (hours == 24 && minutes != 0)) return std::nullopt;
    return hours * 60 + minutes;
}

// "Fri 15:00", "Fri" (start of day; as an end: the end of that day), "15:00".
struct Point {
    std::optional<int> day;
    int minute = 0;
    bool day_only = false;
};

std::optional<Point> point_of(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    const auto space = text.find(' ');
    if (space == std::string_view::npos) {
        if (auto d = day_of(text)) return Point{d, 0, true};
        if (auto c = clock_of(text)) return Point{std::nullopt, *c, false};
        return std::nullopt;
    }
    auto d = day_of(text.substr(0, space));
    auto c = clock_of(text.substr(text.find_first_not_of(' ', space)));
    if (!d || !c) return std::nullopt;
    return Point{d, *c, false};
}

// Sets TZ for one conversion and puts the old value back: the tools are single-threaded.
class ZoneScope {
public:
    explicit ZoneScope(const std::string& zone) {
        if (const char* old = std::getenv("TZ")) m_old = old;
        ::setenv("TZ", (":" + zone).c_str(), 1);
        ::tzset();
    }
    ~ZoneScope() {
        if (m_old) ::setenv("TZ", m_old->c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }
    ZoneScope(const ZoneScope&) = delete;
    ZoneScope& operator=(const ZoneScope&) = delete;

private:
    std::optional<std::string> m_old;
};

}  // namespace

bool WeeklyRange::contains(int minute_of_week) const {
    const int t = daily ? minute_of_week % k_day : minute_of_week;
    if (start == end) return true;  // a full cycle
    return start < end ? (t >= start && t < end) : (t >= start || t < end);
}

std::optional<WeeklyRange> parse_weekly_range(std::string_view text, std::string& problem) {
    const auto dash = text.find('-');
    const auto from = dash == std::string_view::npos ? std::nullopt : point_of(text.substr(0, dash));
    const auto to = dash == std::string_view::npos ? std::nullopt : point_of(text.substr(dash + 1));
    if (!from || !to || from->day.has_value() != to->day.has_value()) {
        problem = quote(text) + " is not a range: write \"Fri 15:00-Mon 06:00\", \"Sat-Sun\" or \"22:00-06:00\"";
        return std::nullopt;
    }
    WeeklyRange range;
    range.text = std::string(text);
    range.daily = !from->day;
    range.start = (from->day ? *from->day * k_day : 0) + from->minute;
    range.end = to->day_only ? (*to->day + 1) * k_day % k_week : (to->day ? *to->day * k_day : 0) + to->minute;
    if (range.daily) range.end %= k_day;
    return range;
}

bool known_time_zone(const std::string& zone) {
    if (zone.empty() || zone.find("..") != std::string::npos || zone.front() == '/') return false;
    for (char c : zone)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+')) return false;
    const char* dir = std::getenv("TZDIR");
    std::error_code ec;
    return std::filesystem::is_regular_file(std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + zone, ec);
}

LocalTime local_time_in(const std::string& zone, std::int64_t seconds) {
    if (!known_time_zone(zone))
        throw_usage("time zone " + quote(zone) + " is not in the system's tzdata (install tzdata, or use e.g. Europe/Berlin)");
    const ZoneScope scope(zone);
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%a %Y-%m-%d %H:%M %Z", &tm);
    const int weekday_from_monday = (tm.tm_wday + 6) % 7;
    return {weekday_from_monday * k_day + tm.tm_hour * 60 + tm.tm_min, buffer};
}

}  // namespace digestflow::gate
