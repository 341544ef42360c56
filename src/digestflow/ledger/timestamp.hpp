// RFC 3339 times as the ledger uses them: entries carry UTC with seconds ("2026-12-02T05:43:32Z"); queries
// accept any RFC 3339 date-time (offsets, fractions) and compare in whole UTC seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace digestflow::ledger {

// Seconds since 1970-01-01T00:00:00Z (floor, so 05:43:32.9Z counts as 05:43:32); nullopt when `text` is not
// an RFC 3339 date-time ("YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)", 't'/'z' and ' ' accepted as RFC 3339 allows).
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

// The same, throwing Error(Usage) naming the flag: "--at 'yesterday': give an RFC 3339 time, e.g. 2026-03-03T12:00:00Z".
std::int64_t parse_time_flag(const std::string& flag, const std::string& text);

// "2026-12-02T05:43:32Z".
std::string format_rfc3339(std::int64_t seconds);

}  // namespace digestflow::ledger
