#pragma once

#include <optional>
#include <string>
#include <vector>

namespace digestflow::testsupport {

// One line of docker-registry's access log (Apache combined format, written to stdout), e.g.
// 127.0.0.1 - - [27/Nov/2026:11:41:11 +0000] "GET /v2/team/app/manifests/v1 HTTP/1.1" 200 499 ""
// "skopeo/1.9.3"
struct AccessLogEntry {
    std::string method;
    std::string uri; // path and query as requested
    int status = 0;
    std::string user_agent;
    std::string line;

    // uri without the query string
    std::string path() const { return uri.substr(0, uri.find('?')); }
};

// nullopt for lines that are not access log lines.
std::optional<AccessLogEntry> parse_access_log_line(const std::string& line);

std::vector<AccessLogEntry> parse_access_log(const std::vector<std::string>& lines);

} // namespace digestflow::testsupport
