#include "digestflow/registry/transport.hpp"

#include "digestflow/error.hpp"
#include "digestflow/registry/request_counter.hpp"
#include "digestflow/registry/tls_context.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>

namespace digestflow::registry {
namespace {

constexpr int max_redirects = 5;
constexpr std::size_t io_chunk = 64 * 1024;

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// A TLS failure that means "this port speaks plain HTTP", as opposed to "the certificate is not trusted".
bool is_protocol_mismatch(const Poco::Exception& e) {
    std::string text = e.displayText();
    return text.find("certificate") == std::string::npos && text.find("verify") == std::string::npos &&
           text.find("Unacceptable") == std::string::npos;
}

std::string host_of_authority(const std::string& authority) {
    if (!authority.empty() && authority.front() == '[') return authority.substr(1, authority.find(']') - 1);
    return authority.substr(0, authority.find(':'));
}

class TlsUntrusted : public std::runtime_error {
    using std::runtime_error::runtime_error;
};
class TlsNotSpoken : public std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A plain-HTTP first contact that got no HTTP answer (bytes that are not HTTP, or the connection dropped):
// perhaps a TLS port.
class NoHttpAnswer : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a TLS port says to a plain-HTTP request: Go's servers answer "HTTP/1.0 400" with a note and no
// headers, nginx a 400 page. A registry's own 400 carries its API version header.
bool looks_like_tls_port_refusal(const HttpResponse& response) {
    return response.status == 400 && !response.header("Docker-Distribution-API-Version");
}

}  // namespace

bool is_loopback_host(const std::string& host) {
    if (host == "localhost") return true;
    Poco::Net::IPAddress address;
    if (!Poco::Net::IPAddress::tryParse(host, address)) return false;
    return address.isLoopback();
}

struct Transport::Contexts {
    Poco::Net::Context::Ptr verifying;
    Poco::Net::Context::Ptr unverified;
};

Transport::Transport(TransportOptions options) : m_options(std::move(options)), m_contexts(new Contexts) {}

Transport::~Transport() = default;

bool Transport::is_insecure_host(const std::string& authority) const {
    return m_options.insecure_hosts.count(authority) > 0 ||
           m_options.insecure_hosts.count(host_of_authority(authority)) > 0;
}

Poco::AutoPtr<Poco::Net::Context> Transport::tls_context(bool verify) {
    std::lock_guard lock(m_mutex);
    auto& context = verify ? m_contexts->verifying : m_contexts->unverified;
    if (!context) context = make_tls_context(verify, m_options.ca_file);
    // Shared ownership: a raw pointer handed to a session would be released twice.
    return context;
}

std::string Transport::registry_base_url(const std::string& registry_host) {
    {
        std::lock_guard lock(m_mutex);
        auto found = m_scheme_for_host.find(registry_host);
        if (found != m_scheme_for_host.end()) return found->second + "://" + registry_host;
    }
    // Undecided. Loopback registries are nearly always plain HTTP (local, kind and CI service registries):
    // they are asked in plain HTTP first, without credentials, and send() moves to HTTPS when a TLS port
    // answers. Every other host gets HTTPS first; send() switches an --insecure-registry host to HTTP when
    // its port turns out to speak plain HTTP. Either way the answer is remembered for the run.
    return (is_loopback_host(host_of_authority(registry_host)) ? "http://" : "https://") + registry_host;
}

std::unique_ptr<Connection> Transport::acquire(const UrlParts& url, Connection::Clock::time_point deadline,
                                               bool replayable) {
    std::string key = url.scheme + "://" + url.authority();
    // A body that cannot be sent twice never goes out on a pooled connection: the server may have closed it
    // meanwhile (a keep-alive timeout, a balancer closing after each answer, unannounced), and the
    // stale-connection retry in send_once cannot repeat such a body. One connect per streamed blob is cheap.
    if (replayable) {
        std::lock_guard lock(m_mutex);
        auto& idle = m_idle[key];
        if (!idle.empty()) {
            auto connection = std::move(idle.back());
            idle.pop_back();
            return connection;
        }
    }
    Poco::Net::Context::Ptr tls;
    if (url.scheme == "https") tls = tls_context(!is_insecure_host(url.authority()));
    return std::make_unique<Connection>(url, tls, deadline);
}

void Transport::release(const UrlParts& url, std::unique_ptr<Connection> connection) {
    std::lock_guard lock(m_mutex);
    m_idle[url.scheme + "://" + url.authority()].push_back(std::move(connection));
}

namespace {

// "GET /v2/... HTTP/1.1" and the headers. A line break in anything a registry handed us (a Location, a
// realm) would smuggle in headers of its choosing: refused.
std::string request_head(const HttpRequest& request, const UrlParts& url, const std::string& user_agent,
                         bool has_body, std::int64_t body_length) {
    auto clean = [&](const std::string& text) {
        if (text.find_first_of("\r\n", 0) != std::string::npos || text.find('\0') != std::string::npos)
            throw FinalError(ErrorKind::Registry, "refusing to send " + request.method + " " + redact_url(url.target) +
                                                      " to " + url.authority() + ": a header or the target contains a line break");
        return text;
    };
    std::string head = request.method + " " + clean(url.target) + " HTTP/1.1\r\nHost: " + url.authority() +
                       "\r\nUser-Agent: " + clean(user_agent) + "\r\n";
    for (const auto& [name, value] : request.headers) head += clean(name) + ": " + clean(value) + "\r\n";
    if (has_body) head += "Content-Length: " + std::to_string(body_length) + "\r\n";
    return head + "\r\n";
}

// Thrown inside exchange() when the server answers before the request body is complete.
struct EarlyAnswer {};

// The answer a server gave to an unfinished upload (it refused it part-way: 413, 400). The connection is not
// reused afterwards: its body framing is broken.
HttpResponse read_early_answer(Connection& connection, const HttpRequest& request,
                               Connection::Clock::time_point deadline) {
    connection.limit_by_deadline(std::min(deadline, Connection::Clock::now() + std::chrono::seconds(5)));
    ResponseHead head = connection.reader().read_head(false);
    HttpResponse response{head.status, head.reason, std::move(head.headers), "", request.url};
    char buffer[4096];
    while (std::size_t n = connection.reader().read_body(buffer, sizeof buffer))
        if (response.body.size() < 64 * 1024) response.body.append(buffer, n);
    connection.reader().forbid_reuse();
    return response;
}

}  // namespace

HttpResponse Transport::exchange(Connection& connection, const HttpRequest& request, const UrlParts& url,
                                 Connection::Clock::time_point deadline) {
    const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(m_options.timeout);
    const std::string what = request.method + " " + redact_url(url.target);
    const std::string& body = request.shared_body ? *request.shared_body : request.body;
    bool has_body = request.body_source || !body.empty() || request.method == "PUT" ||
                    request.method == "POST" || request.method == "PATCH";
    std::int64_t length = request.body_source ? request.content_length : static_cast<std::int64_t>(body.size());
    ResponseReader& reader = connection.reader();
    reader.reset();
    connection.limit_by_deadline(deadline);
    std::string head_text = request_head(request, url, m_options.user_agent, has_body, length);
    // A small body (a manifest) goes out with the head in one write: one segment, one syscall.
    const bool body_with_head = !request.body_source && !body.empty() && body.size() <= io_chunk;
    if (body_with_head) head_text += body;
    connection.send(head_text.data(), head_text.size());
    try {
        if (request.body_source) {
            connection.limit_by_idle(idle);
            std::unique_ptr<char[]> buffer(new char[io_chunk]);  // not zeroed: every byte sent is written first
            std::int64_t sent = 0;
            while (sent < length) {
                std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(length - sent, io_chunk));
                std::size_t n = request.body_source(buffer.get(), want);
                if (n == 0) break;
                connection.send(buffer.get(), n);
                sent += static_cast<std::int64_t>(n);
                // An interim answer (100 Continue, unasked) is no refusal: the body goes on.
                if (sent < length && connection.answer_waiting() && !reader.drop_buffered_interim())
                    throw EarlyAnswer();
            }
            // Never let a registry take a short body for a whole one: the connection is dropped unfinished.
            if (sent != length)
                throw FinalError(ErrorKind::Registry, "the body for " + what + " to " + url.authority() + " ended after " +
                                                          std::to_string(sent) + " of " + std::to_string(length) +
                                                          " bytes; the upload was abandoned");
            // The answer to a long upload gets its own full time limit.
            connection.limit_by_deadline(Connection::Clock::now() + m_options.timeout);
        } else if (!body.empty() && !body_with_head) {
            connection.send(body.data(), body.size());
        }
    } catch (const EarlyAnswer&) {
        return read_early_answer(connection, request, deadline);
    } catch (const Poco::Exception&) {
        // A registry may refuse an upload part-way (413) and close before we noticed: its answer may still
        // be waiting to be read.
        try {
            return read_early_answer(connection, request, deadline);
        } catch (...) {
        }
        throw;
    }

    ResponseHead head = reader.read_head(request.method == "HEAD");
    HttpResponse response{head.status, head.reason, std::move(head.headers), "", request.url};
    bool streaming = request.body_sink && response.status / 100 == 2;
    if (streaming) {
        connection.limit_by_idle(idle);
        if (request.body_begin) request.body_begin(response);
    }
    std::unique_ptr<char[]> buffer(new char[io_chunk]);  // not zeroed: only what was read is used
    while (std::size_t n = reader.read_body(buffer.get(), io_chunk)) {
        if (streaming) {
            request.body_sink(buffer.get(), n);
            continue;
        }
        if (response.body.size() + n > request.max_response_body)
            throw_registry(url.authority() + " sent more than " + std::to_string(request.max_response_body) +
                           " bytes for " + what + "; refusing to read further");
        response.body.append(buffer.get(), n);
    }
    return response;
}

HttpResponse Transport::send_once(const HttpRequest& request, bool probing) {
    UrlParts url = split_url(request.url);
    // Whatever URL a registry hands out (upload locations, redirects, token realms), clear text goes only to
    // loopback or to hosts the user named.
    if (url.scheme == "http" && !is_loopback_host(url.host) && !is_insecure_host(url.authority()))
        throw FinalError(ErrorKind::Registry, "refusing plain HTTP to " + url.authority() +
                                                  " (name it with --insecure-registry " + url.authority() +
                                                  " if that is intended)");
    const std::string what = request.method + " " + redact_url(url.target);
    const auto deadline = Connection::Clock::now() + m_options.timeout;
    const auto timed_out = [&] {
        return "no answer from " + url.authority() + " within " + std::to_string(m_options.timeout.count()) + " s (" +
               what + ")";
    };

    // A kept-alive connection may have been closed by the server meanwhile: one fresh retry when it answered
    // nothing at all, unless the body was streamed (it cannot be replayed).
    for (int attempt = 0;; ++attempt) {
        std::unique_ptr<Connection> connection;
        try {
            connection = acquire(url, deadline, !request.body_source);
        } catch (const Poco::Net::SSLException& e) {
            if (is_protocol_mismatch(e)) throw TlsNotSpoken(e.displayText());
            throw TlsUntrusted(e.displayText());
        } catch (const Poco::TimeoutException&) {
            throw_registry(timed_out());
        } catch (const Poco::Exception& e) {
            throw_registry("cannot reach " + url.authority() + ": " + e.displayText());
        }
        const bool reused = connection->requests_carried() > 0;
        connection->count_request();
        ++m_requests;
        count_request_in_scope();
        bool stale = false;
        try {
            HttpResponse response = exchange(*connection, request, url, deadline);
            if (connection->reader().reusable()) release(url, std::move(connection));
            return response;
        } catch (const FramingError& e) {
            stale = e.nothing_received();
            std::string message = "the connection to " + url.authority() + " broke off during " + what + ": " + e.what();
            if (probing) throw NoHttpAnswer(message);
            if (!(stale && reused && attempt == 0 && !request.body_source)) throw_registry(message);
        } catch (const Poco::TimeoutException&) {
            throw_registry(timed_out());
        } catch (const Poco::Exception& e) {
            std::string message = "the connection to " + url.authority() + " failed during " + what + ": " + e.displayText();
            if (probing) throw NoHttpAnswer(message);
            if (!(reused && attempt == 0 && !request.body_source)) throw_registry(message);
        }
    }
}

std::optional<std::string> Transport::decided_scheme(const std::string& authority) {
    std::lock_guard lock(m_mutex);
    auto found = m_scheme_for_host.find(authority);
    if (found == m_scheme_for_host.end()) return std::nullopt;
    return found->second;
}

void Transport::decide_scheme(const std::string& authority, const std::string& scheme) {
    std::lock_guard lock(m_mutex);
    m_scheme_for_host.emplace(authority, scheme);  // the first decision stands: HTTPS is never downgraded
}

HttpResponse Transport::send(const HttpRequest& original) {
    HttpRequest request = original;
    // After a plain-HTTP first contact with a loopback host that got no HTTP answer: what it got, reported
    // if the port does not speak TLS either.
    std::optional<HttpResponse> plain_answer;
    std::optional<std::string> plain_failure;
    for (int hop = 0;; ++hop) {
        UrlParts url = split_url(request.url);
        const bool undecided = !decided_scheme(url.authority());
        bool probing = false;
        if (undecided && url.scheme == "http" && is_loopback_host(url.host)) {
            // A first contact in plain HTTP carries nothing secret and can be sent again: otherwise it goes
            // the HTTPS-first way.
            if (find_header(request.headers, "Authorization") || request.body_source) {
                request.url = "https://" + url.authority() + url.target;
                continue;
            }
            probing = true;
        }
        HttpResponse response;
        try {
            response = send_once(request, probing);
            if (probing && looks_like_tls_port_refusal(response)) {
                plain_answer = std::move(response);
                request.url = "https://" + url.authority() + url.target;
                continue;
            }
            if (probing || url.scheme == "https") decide_scheme(url.authority(), url.scheme);
        } catch (const NoHttpAnswer& e) {
            plain_failure = e.what();
            request.url = "https://" + url.authority() + url.target;
            continue;
        } catch (const TlsNotSpoken& e) {
            if (plain_answer || plain_failure) {
                // Neither HTTP nor TLS: what the plain-HTTP contact got is the answer.
                decide_scheme(url.authority(), "http");
                if (plain_answer) return *plain_answer;
                throw_registry(*plain_failure);
            }
            bool may_fall_back = is_loopback_host(url.host) || is_insecure_host(url.authority());
            if (!may_fall_back || !undecided)
                throw_registry("TLS handshake with " + url.authority() + " failed (" + e.what() +
                               "); if this registry speaks plain HTTP, name it with --insecure-registry " +
                               url.authority());
            decide_scheme(url.authority(), "http");
            request.url = "http://" + url.authority() + url.target;
            continue;
        } catch (const TlsUntrusted& e) {
            throw TlsTrustError("the TLS certificate of " + url.authority() + " is not trusted (" + e.what() +
                                "); pass --ca-file with the CA that signed it, or --insecure-registry " +
                                url.authority() + " to skip verification");
        }
        bool follow = (request.method == "GET" || request.method == "HEAD") && is_redirect(response.status);
        auto location = response.header("Location");
        if (!follow || !location) return response;
        if (hop >= max_redirects)
            throw_registry(url.authority() + " redirected more than " + std::to_string(max_redirects) + " times");
        std::string next = resolve_location(request.url, *location);
        UrlParts next_url = split_url(next);
        if (next_url.scheme != url.scheme || next_url.authority() != url.authority())
            remove_header(request.headers, "Authorization");
        // What a plain-HTTP contact got belongs to the host it went to: the next hop starts afresh.
        plain_answer.reset();
        plain_failure.reset();
        request.url = next;
    }
}

}  // namespace digestflow::registry
