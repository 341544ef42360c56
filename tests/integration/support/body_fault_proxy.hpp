#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <mutex>
#include <thread>
#include <vector>

namespace digestflow::testsupport {

// What to do to the body of one forwarded response.
enum class BodyFault {
    None,       // forward as it is
    FlipByte,   // one byte in the middle altered; Content-Length unchanged
    Short,      // the last 100 bytes (or half, if smaller) left out, Content-Length saying so; kept alive
    CutMidBody, // the full Content-Length announced, half the body sent, then the connection shut down
};

// Chooses the fault for a request (method, target as sent); called on the connection's thread.
using BodyFaultHook = std::function<BodyFault(const std::string& method, const std::string& target)>;

// A plain-HTTP reverse proxy on a free 127.0.0.1 port in front of one upstream registry ("127.0.0.1:PORT")
// that damages response bodies, for faults a real registry cannot produce: bytes that do not hash, a body
// shorter than the blob, a download that breaks off. Unlike CountingProxy (whose hook replaces a response)
// it forwards the upstream's own answer and alters it. Each request is forwarded on its own upstream
// connection; bodies are buffered whole (test blobs are small). The Host header is forwarded as sent, so
// the upstream's Location headers point back at the proxy. A connection that does not start with an HTTP
// method (a client probing for HTTPS) is closed at once, so the client falls back to plain HTTP.
class BodyFaultProxy {
  public:
    explicit BodyFaultProxy(const std::string& upstream_host);
    ~BodyFaultProxy();
    BodyFaultProxy(const BodyFaultProxy&) = delete;
    BodyFaultProxy& operator=(const BodyFaultProxy&) = delete;

    std::string host() const; // "127.0.0.1:PORT"
    void set_fault(BodyFaultHook hook);
    // Responses damaged so far.
    int faulted() const { return m_faulted->load(); }

    struct Shared; // what the connection threads share with the proxy

  private:
    std::shared_ptr<Shared> m_shared;
    void accept_loop();

    std::shared_ptr<std::atomic<int>> m_faulted;
    std::unique_ptr<Poco::Net::ServerSocket> m_listener;
    int m_port = 0;
    std::atomic<bool> m_stopping{false};
    std::thread m_acceptor;
    std::mutex m_connections_mutex;
    std::vector<Poco::Net::StreamSocket> m_sockets; // to shut down when the proxy stops
    std::vector<std::thread> m_connections;        // one per client connection (Poco's HTTP server side)
};

} // namespace digestflow::testsupport
