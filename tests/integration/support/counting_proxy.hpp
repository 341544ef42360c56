#pragma once

#include <Poco/Net/ServerSocket.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace digestflow::testsupport {

// One HTTP request as the proxy saw it on a client connection.
struct RequestLine {
    std::string method;
    std::string path;           // the request target as sent (path and query)
    std::size_t connection = 0; // 1-based number of the client connection it arrived on
    bool faulted = false;       // answered by the fault hook, never forwarded
};

// Returns a raw HTTP response ("HTTP/1.1 503 ...\r\n...\r\n\r\nbody") to send instead of forwarding the
// request, or nullopt to forward it. A response carrying "Connection: close" closes the client connection.
using FaultHook = std::function<std::optional<std::string>(const RequestLine&)>;

// A plain-HTTP proxy on a free 127.0.0.1 port in front of one upstream (a Registry's "127.0.0.1:PORT"), so
// tests can see how a client uses its connections. Clients address it as the registry itself (reverse
// proxy): each client connection gets its own fresh upstream connection, and requests and responses are
// parsed one at a time (Content-Length, chunked, HEAD/204/304, close-delimited) so every request of a
// kept-alive connection is recorded. A connection whose first bytes are not an HTTP request line (a TLS
// ClientHello from a client probing for HTTPS) is relayed blindly and counted as non-HTTP, so the client
// sees the upstream's own answer to it. Not supported: Expect: 100-continue, pipelining, upgrades.
// The hook is called on the connection's thread, with no lock held. Thread-safe; the destructor stops the
// listener and every connection within about 200 ms (at most 5 s while a peer has stopped reading).
class CountingProxy {
  public:
    explicit CountingProxy(const std::string& upstream_host);
    ~CountingProxy();
    CountingProxy(const CountingProxy&) = delete;
    CountingProxy& operator=(const CountingProxy&) = delete;

    int port() const { return m_port; }
    std::string host() const; // "127.0.0.1:PORT"

    // Client connections accepted, HTTP or not.
    std::size_t connection_count() const;
    // Connections on which at least one HTTP request arrived.
    std::size_t http_connection_count() const;
    // Connections whose first bytes were not an HTTP request line (relayed blindly).
    std::size_t non_http_connection_count() const;

    std::vector<RequestLine> requests() const;
    // Requests with this method (empty: any) whose path contains path_substring.
    std::size_t count(const std::string& method, const std::string& path_substring) const;
    // Forgets connections and requests seen so far; the fault hook stays.
    void reset();

    // Consulted for every request before it is forwarded; an empty hook forwards everything.
    void set_fault(FaultHook hook);

  private:
    class Reader; // buffered, stoppable reads from one socket

    void accept_loop();
    void serve(Poco::Net::StreamSocket client, std::size_t connection);
    void serve_http(Reader& client_in, Poco::Net::StreamSocket& client, std::size_t connection);
    void tunnel(Reader& client_in, Poco::Net::StreamSocket& client);
    Poco::Net::StreamSocket connect_upstream() const;
    void record_request(const RequestLine& request);
    void mark_non_http(std::size_t connection);

    std::string m_upstream;
    Poco::Net::ServerSocket m_listener;
    int m_port = 0;
    std::atomic<bool> m_stopping{false};

    mutable std::mutex m_mutex;
    std::size_t m_next_connection = 1; // never reset, so connection numbers stay unique
    std::size_t m_accepted = 0;
    std::vector<std::size_t> m_non_http;
    std::vector<RequestLine> m_requests;
    FaultHook m_fault;

    std::mutex m_threads_mutex;
    std::vector<std::thread> m_threads;
    std::thread m_acceptor;
};

} // namespace digestflow::testsupport
