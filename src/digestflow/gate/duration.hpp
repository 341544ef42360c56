// Durations as policies and flags write them: "24h", "3d", "90m", "1h30m", "45s" (units d, h, m, s; at least
// one part; no sign). Seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace digestflow::gate {

std::optional<std::int64_t> parse_duration(std::string_view text);
// "1d 2h", "3h", "45m", "0s": the largest units that fit, at most two.
std::string format_duration(std::int64_t seconds);

}  // namespace digestflow::gate
