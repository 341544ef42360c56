// Weekly time windows in a named IANA time zone (the system's tzdata): "Fri 15:00-Mon 06:00" (from a weekday
// and time to another, wrapping over the week's end), "Sat-Sun" (whole days: Saturday 00:00 to Monday 00:00),
// "22:00-06:00" (every day). Compared in local wall-clock time, so "Fri 15:00" is 15:00 in that zone before and
// after a DST change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace digestflow::gate {

struct WeeklyRange {
    // Minutes since Monday 00:00 local; a daily range has daily = true and minutes of the day.
    int start = 0, end = 0;
    bool daily = false;
    std::string text;
    bool contains(int minute_of_week) const;
};

// nullopt with `problem` set when the text is not one of the forms above.
std::optional<WeeklyRange> parse_weekly_range(std::string_view text, std::string& problem);

// Whether `zone` names a time zone of the system's tzdata ("Europe/Berlin", "UTC").
bool known_time_zone(const std::string& zone);

struct LocalTime {
    int minute_of_week = 0;  // since Monday 00:00
    std::string text;        // "Fri 2026-03-27 15:30 CET"
};
// `seconds` (UTC epoch) as wall-clock time in `zone`. Throws Error(Usage) for an unknown zone.
LocalTime local_time_in(const std::string& zone, std::int64_t seconds);

}  // namespace digestflow::gate
