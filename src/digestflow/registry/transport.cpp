#include "digestflow/registry/transport.hpp"

#include "digestflow/error.hpp"
#include "digestflow/registry/request_counter.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>

#include <istream>
#include <ostream>

namespace digestflow::registry {
namespace {

constexpr int max_redirects = 5;
constexpr std::size_t io_chunk = 64 * 1024;

// Poco would otherwise ask its application configuration (or the console) what to do with a bad certificate.
void initialise_ssl_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Net::initializeSSL();
        Poco::Net::SSLManager::InvalidCertificateHandlerPtr reject(new Poco::Net::RejectCertificateHandler(false));
        Poco::Net::Context::Ptr context(new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, ""));
        Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, context);
    });
}

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

Transport::Transport(TransportOptions options) : m_options(std::move(options)), m_contexts(new Contexts) {
    initialise_ssl_once();
}

Transport::~Transport() = default;

bool Transport::is_insecure_host(const std::string& authority) const {
    return m_options.insecure_hosts.count(authority) > 0 ||
           m_options.insecure_hosts.count(host_of_authority(authority)) > 0;
}

Poco::AutoPtr<Poco::Net::Context> Transport::tls_context(bool verify) {
    std::lock_guard lock(m_mutex);
    try {
        if (verify && !m_contexts->verifying) {
            Poco::Net::Context::Params params;
            params.caLocation = m_options.ca_file;
            params.loadDefaultCAs = true;
            params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
            m_contexts->verifying = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        }
        if (!verify && !m_contexts->unverified) {
            Poco::Net::Context::Params params;
            params.verificationMode = Poco::Net::Context::VERIFY_NONE;
            m_contexts->unverified = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        }
    } catch (const Poco::Exception& e) {
        throw_usage("--ca-file " + m_options.ca_file + ": cannot load the CA certificates (" + e.displayText() +
                    "); pass a readable PEM file");
    }
    // Shared ownership: a raw pointer handed to a session would be released twice.
    return verify ? m_contexts->verifying : m_contexts->unverified;
}

std::string Transport::registry_base_url(const std::string& registry_host) {
    {
        std::lock_guard lock(m_mutex);
        auto found = m_scheme_for_host.find(registry_host);
        if (found != m_scheme_for_host.end()) return found->second + "://" + registry_host;
    }
    // Undecided: HTTPS first. send() switches a loopback or insecure host to HTTP when its port turns out
    // to speak plain HTTP, and remembers that.
    return "https://" + registry_host;
}

std::unique_ptr<Poco::Net::HTTPClientSession> Transport::acquire(const UrlParts& url) {
    std::string key = url.scheme + "://" + url.authority();
    {
        std::lock_guard lock(m_mutex);
        auto& idle = m_idle[key];
        if (!idle.empty()) {
            auto session = std::move(idle.back());
            idle.pop_back();
            return session;
        }
    }
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (url.scheme == "https") {
        bool verify = !is_insecure_host(url.authority());
        session = std::make_unique<Poco::Net::HTTPSClientSession>(url.host, url.port, tls_context(verify));
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(url.host, url.port);
    }
    session->setKeepAlive(true);
    Poco::Timespan timeout(static_cast<long>(m_options.timeout.count()), 0);
    session->setTimeout(timeout, timeout, timeout);
    return session;
}

void Transport::release(const UrlParts& url, std::unique_ptr<Poco::Net::HTTPClientSession> session) {
    std::lock_guard lock(m_mutex);
    m_idle[url.scheme + "://" + url.authority()].push_back(std::move(session));
}

HttpResponse Transport::send_once(const HttpRequest& request) {
    UrlParts url = split_url(request.url);
    // Whatever URL a registry hands out (upload locations, redirects, token realms), clear text goes only to
    // loopback or to hosts the user named.
    if (url.scheme == "http" && !is_loopback_host(url.host) && !is_insecure_host(url.authority()))
        throw FinalError(ErrorKind::Registry, "refusing plain HTTP to " + url.authority() +
                                                  " (name it with --insecure-registry " + url.authority() +
                                                  " if that is intended)");
    Poco::Net::HTTPRequest poco_request(request.method, url.target, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : request.headers) poco_request.add(name, value);
    poco_request.set("User-Agent", m_options.user_agent);
    bool has_body = request.body_source || !request.body.empty() || request.method == "PUT" ||
                    request.method == "POST" || request.method == "PATCH";
    if (has_body)
        poco_request.setContentLength64(request.body_source ? request.content_length
                                                            : static_cast<std::int64_t>(request.body.size()));

    // A kept-alive connection may have been closed by the server meanwhile: one fresh retry, unless the
    // body was streamed (it cannot be replayed).
    for (int attempt = 0;; ++attempt) {
        auto session = acquire(url);
        bool reused = session->connected();
        try {
            ++m_requests;
            count_request_in_scope();
            std::ostream& out = session->sendRequest(poco_request);
            if (request.body_source) {
                std::vector<char> buffer(io_chunk);
                while (std::size_t n = request.body_source(buffer.data(), buffer.size()))
                    out.write(buffer.data(), static_cast<std::streamsize>(n));
            } else if (!request.body.empty()) {
                out.write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
            }
            if (!out) throw Poco::IOException("connection closed while sending the request body");

            Poco::Net::HTTPResponse poco_response;
            std::istream& in = session->receiveResponse(poco_response);
            HttpResponse response;
            response.status = static_cast<int>(poco_response.getStatus());
            response.reason = poco_response.getReason();
            response.url = request.url;
            for (const auto& [name, value] : poco_response) response.headers.emplace_back(name, value);

            bool streaming = request.body_sink && response.status / 100 == 2;
            std::int64_t streamed = 0;
            if (streaming && request.body_begin) request.body_begin();
            std::vector<char> buffer(io_chunk);
            while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
                auto n = static_cast<std::size_t>(in.gcount());
                if (streaming) {
                    streamed += static_cast<std::int64_t>(n);
                    request.body_sink(buffer.data(), n);
                } else {
                    if (response.body.size() + n > request.max_response_body)
                        throw_registry(url.authority() + " sent more than " +
                                       std::to_string(request.max_response_body) + " bytes for " +
                                       request.method + " " + url.target + "; refusing to read further");
                    response.body.append(buffer.data(), n);
                }
            }
            // Poco ends a fixed-length body quietly at EOF, and the stream hides socket errors in badbit:
            // a body that broke off must not pass for a complete one.
            std::int64_t received = streaming ? streamed : static_cast<std::int64_t>(response.body.size());
            bool body_expected = request.method != "HEAD" && response.status != 204 && response.status != 304;
            if (in.bad() || (body_expected && poco_response.hasContentLength() &&
                             received < poco_response.getContentLength64()))
                throw_registry("the connection to " + url.authority() + " broke off after " + std::to_string(received) +
                               " bytes of " + request.method + " " + url.target);
            if (poco_response.getKeepAlive()) release(url, std::move(session));
            return response;
        } catch (const Poco::Net::SSLException& e) {
            --m_requests;  // the handshake failed: no HTTP request went out
            count_request_in_scope(-1);
            if (is_protocol_mismatch(e)) throw TlsNotSpoken(e.displayText());
            throw TlsUntrusted(e.displayText());
        } catch (const Poco::TimeoutException& e) {
            throw_registry("no answer from " + url.authority() + " within " +
                           std::to_string(m_options.timeout.count()) + " s (" + request.method + " " +
                           url.target + ")");
        } catch (const Poco::Exception& e) {
            if (reused && attempt == 0 && !request.body_source) continue;
            throw_registry("cannot reach " + url.authority() + ": " + e.displayText());
        }
    }
}

HttpResponse Transport::send(const HttpRequest& original) {
    HttpRequest request = original;
    for (int hop = 0;; ++hop) {
        UrlParts url = split_url(request.url);
        HttpResponse response;
        try {
            response = send_once(request);
            if (url.scheme == "https") {
                std::lock_guard lock(m_mutex);
                m_scheme_for_host.emplace(url.authority(), "https");
            }
        } catch (const TlsNotSpoken& e) {
            bool may_fall_back = is_loopback_host(url.host) || is_insecure_host(url.authority());
            bool undecided;
            {
                std::lock_guard lock(m_mutex);
                undecided = !m_scheme_for_host.count(url.authority());
            }
            if (!may_fall_back || !undecided)
                throw_registry("TLS handshake with " + url.authority() + " failed (" + e.what() +
                               "); if this registry speaks plain HTTP, name it with --insecure-registry " +
                               url.authority());
            {
                std::lock_guard lock(m_mutex);
                m_scheme_for_host[url.authority()] = "http";
            }
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
        request.url = next;
    }
}

}  // namespace digestflow::registry
