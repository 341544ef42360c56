#include "support/access_log.hpp"

#include <regex>

namespace digestflow::testsupport {

std::optional<AccessLogEntry> parse_access_log_line(const std::string& line) {
    static const std::regex pattern(
        R"re(^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) \S+ "[^"]*" "([^"]*)"\s*$)re");
    std::smatch match;
    if (!std::regex_match(line, match, pattern)) {
        return std::nullopt;
    }
    AccessLogEntry entry;
    entry.method = match[1];
    entry.uri = match[2];
    entry.status = std::stoi(match[3]);
    entry.user_agent = match[4];
    entry.line = line;
    return entry;
}

std::vector<AccessLogEntry> parse_access_log(const std::vector<std::string>& lines) {
    std::vector<AccessLogEntry> entries;
    for (const auto& line : lines) {
        if (auto entry = parse_access_log_line(line)) {
            entries.push_back(std::move(*entry));
        }
    }
    return entries;
}

} // namespace digestflow::testsupport
