#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace digestflow::testsupport {

// A TCP port that was free on 127.0.0.1 a moment ago (bind :0, read it, close). Another process may still
// take it before the caller binds; servers started on it should retry with a new port on "address in use".
int free_loopback_port();

// True once something accepts TCP connections on 127.0.0.1:port, false after the timeout.
bool wait_for_port(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The User-Agent of http_answers' probes, so access-log counts can leave them out.
inline constexpr std::string_view probe_user_agent = "digestflow-testsupport-probe";

// One GET of url; true if any HTTP status came back. For https, ca_file (if not empty) is the only trust
// root. On false, *error (if given) says why.
bool http_answers(const std::string& url, const std::string& ca_file = "", std::string* error = nullptr);

// Polls http_answers until it is true, the timeout passes, or keep_waiting (if given) returns false
// (e.g. the server process died). On false, *error holds the last failure.
bool wait_until_http_ready(const std::string& url,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10),
                           const std::string& ca_file = "", std::string* error = nullptr,
                           const std::function<bool()>& keep_waiting = {});

} // namespace digestflow::testsupport
