#pragma once

#include "support/tls_material.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace digestflow::testsupport {

// One request as a RawServer read it: the request line and the headers (the body is left to the handler).
struct RawRequest {
    std::string method;
    std::string target;  // as sent: path and query
    std::vector<std::pair<std::string, std::string>> headers;
    bool tls = false;  // arrived over TLS (a RawServer made with ServerTls)
    std::optional<std::string> header(const std::string& name) const;  // case-insensitive
};

// What a handler may do with its connection: write any bytes, read the request body, pause.
class RawConnection {
  public:
    explicit RawConnection(Poco::Net::StreamSocket& socket) : m_socket(socket) {}
    void send(const std::string& bytes);
    // Reads and discards up to `max` bytes of the request body (Content-Length); returns how many arrived.
    std::size_t drain_body(const RawRequest& request, std::size_t max = 64 << 20);
    // Passes the request (and its Content-Length body) to the real registry at `upstream` ("127.0.0.1:PORT")
    // on a connection of its own and returns the whole raw answer, for the handler to send as it likes
    // (whole, dripped, cut). The answer is read to the upstream's close, so the handler should close too.
    std::string fetch_upstream(const RawRequest& request, const std::string& upstream);

  private:
    Poco::Net::StreamSocket& m_socket;
};

// Returns true to keep the connection open for another request, false to close it.
using RawHandler = std::function<bool(const RawRequest&, RawConnection&)>;

// A loopback HTTP server that answers with whatever bytes its handler writes: malformed framing, early
// answers, slow drips, hostile headers - faults neither a real registry nor a forwarding proxy produces.
// A handler usually wraps a real registry (fetch_upstream) and alters only the answers its fault is about.
// Every request is recorded with its headers. The destructor stops the listener and every connection
// (a handler that is still writing or sleeping finishes its current step first).
class RawServer {
  public:
    explicit RawServer(RawHandler handler);
    // Also speaks TLS with this certificate: a connection opening with a ClientHello is served over TLS
    // (a TLS port whose answers, or whose refusal of plain HTTP, are the fault).
    RawServer(RawHandler handler, const ServerTls& tls);
    ~RawServer();
    RawServer(const RawServer&) = delete;
    RawServer& operator=(const RawServer&) = delete;

    int port() const { return m_port; }
    std::string host() const;  // "127.0.0.1:PORT"
    std::vector<RawRequest> requests() const;
    bool stopping() const { return m_stopping; }
    // TLS ClientHellos received (without ServerTls each answered as a plain-HTTP server would: a 400, closed).
    int tls_hello_count() const { return m_tls_hellos; }

  private:
    void accept_loop();
    void serve(Poco::Net::StreamSocket socket);

    void serve_requests(Poco::Net::StreamSocket& socket, bool tls);

    RawHandler m_handler;
    Poco::Net::Context::Ptr m_tls;
    Poco::Net::ServerSocket m_listener;
    int m_port = 0;
    std::atomic<bool> m_stopping{false};
    std::atomic<int> m_tls_hellos{0};
    mutable std::mutex m_mutex;
    std::vector<RawRequest> m_requests;
    std::vector<std::thread> m_threads;
    std::thread m_acceptor;
};

}  // namespace digestflow::testsupport
