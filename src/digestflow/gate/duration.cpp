#include "digestflow/gate/duration.hpp"

namespace digestflow::gate {

std::optional<std::int64_t> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::int64_t total = 0;
    std::string_view units = "dhms";  // each unit at most once, largest first
    while (!text.empty()) {
        std::int64_t number = 0;
        std::size_t digits = 0;
        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
            number = number * 10 + (text[digits] - '0');
            if (number > 1'000'000'000) return std::nullopt;
            ++digits;
        }
        if (digits == 0 || digits == text.size()) return std::nullopt;
        const auto unit = units.find(text[digits]);
        if (unit == std::string_view::npos) return std::nullopt;
        static constexpr std::int64_t seconds_per[] = {86400, 3600, 60, 1};
        total += number * seconds_per[4 - units.size() + unit];
        units.remove_prefix(unit + 1);
        text.remove_prefix(digits + 1);
    }
    return total;
}

std::string format_duration(std::int64_t seconds) {
    if (seconds < 0) return "-" + format_duration(-seconds);
    static constexpr std::pair<std::int64_t, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    std::string out;
    int parts = 0;
    for (const auto& [size, name] : units) {
        if (seconds >= size && parts < 2) {
            out += (out.empty() ? "" : " ") + std::to_string(seconds / size) + name;
            seconds %= size;
            ++parts;
        } else if (parts > 0) {
            ++parts;  // no "1d 5s": two adjacent units at most
        }
    }
    return out.empty() ? "0s" : out;
}

}  // namespace digestflow::gate
