// HTTP(S) to registries: kept-alive connections pooled per origin, TLS rules, the per-request time limit,
// redirects. One attempt per call (plus one reconnect of a stale kept-alive connection); status-based
// retries live above (retry.hpp), where it is known which requests are safe to repeat. Every URL that
// reaches a message is redacted (no query string, no userinfo).
#pragma once

#include "digestflow/error.hpp"
#include "digestflow/registry/connection.hpp"
#include "digestflow/registry/http.hpp"

#include <Poco/AutoPtr.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace Poco::Net {
class Context;
}  // namespace Poco::Net

namespace digestflow::registry {

struct TransportOptions {
    std::string ca_file;                       // extra trusted CAs (PEM), added to the system CAs
    std::set<std::string> insecure_hosts;      // host[:port]: plain HTTP or unverified TLS allowed
    // The longest one request may take, from connecting to the end of its answer. A streamed blob body
    // (upload or download) is instead cut off only when no byte moves for this long.
    std::chrono::seconds timeout{30};
    std::string user_agent = "digestflow";
};

class Transport {
public:
    explicit Transport(TransportOptions options);
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // The base URL ("https://host:port" or "http://host:port") for a registry host ("host[:port]").
    // Plain HTTP only for loopback or --insecure-registry hosts. Loopback hosts are tried in plain HTTP first
    // (a first request without credentials; a TLS port's refusal moves them to HTTPS), every other host in
    // HTTPS first. What a host speaks is learnt from its first answer and kept for the run; a host that
    // spoke TLS is never downgraded.
    std::string registry_base_url(const std::string& registry_host);

    // Sends one request to an absolute URL and reads the response (bounded, or into body_sink). Follows up
    // to 5 redirects for GET and HEAD, dropping Authorization when the origin changes; HttpResponse::url is
    // the URL that answered. A body counts only when it arrived whole as framed (Content-Length or the
    // last chunk). Throws Error(Registry) on connection, TLS, framing or timeout failures, naming the host.
    HttpResponse send(const HttpRequest& request);

    // HTTP requests sent so far (every attempt, token requests included).
    int request_count() const { return m_requests.load(); }

    bool is_insecure_host(const std::string& authority) const;

private:
    std::unique_ptr<Connection> acquire(const UrlParts& url, Connection::Clock::time_point deadline, bool replayable);
    void release(const UrlParts& url, std::unique_ptr<Connection> connection);
    // probing: a plain-HTTP first contact; a connection that gives no HTTP answer throws NoHttpAnswer.
    HttpResponse send_once(const HttpRequest& request, bool probing);
    std::optional<std::string> decided_scheme(const std::string& authority);
    void decide_scheme(const std::string& authority, const std::string& scheme);
    HttpResponse exchange(Connection& connection, const HttpRequest& request, const UrlParts& url,
                          Connection::Clock::time_point deadline);
    Poco::AutoPtr<Poco::Net::Context> tls_context(bool verify);

    TransportOptions m_options;
    std::mutex m_mutex;
    std::map<std::string, std::vector<std::unique_ptr<Connection>>> m_idle;
    std::map<std::string, std::string> m_scheme_for_host;
    struct Contexts;
    std::unique_ptr<Contexts> m_contexts;
    std::atomic<int> m_requests{0};
};

// A certificate we do not trust: retrying cannot change that, so the client reports it at once.
class TlsTrustError : public FinalError {
public:
    explicit TlsTrustError(const std::string& message) : FinalError(ErrorKind::Registry, message) {}
};

// True for localhost, 127.0.0.0/8 and ::1 (host without port or brackets).
bool is_loopback_host(const std::string& host);

}  // namespace digestflow::registry
