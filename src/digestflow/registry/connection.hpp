// One HTTP/1.1 connection to one origin, plain or TLS, on which every read and write is bounded in time.
// The transport owns the HTTP rules; this owns the socket.
#pragma once

#include "digestflow/registry/http.hpp"
#include "digestflow/registry/response_reader.hpp"

#include <Poco/Net/Context.h>

#include <chrono>
#include <memory>

namespace Poco::Net {
class StreamSocket;
}

namespace digestflow::registry {

class Connection {
public:
    using Clock = std::chrono::steady_clock;

    // Connects to the origin before `deadline`. With `tls`, the handshake checks the certificate chain and
    // the host name against the context's rules. Throws Poco exceptions (SSLException for TLS failures).
    Connection(const UrlParts& origin, Poco::Net::Context::Ptr tls, Clock::time_point deadline);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Every following read and write must finish before the deadline...
    void limit_by_deadline(Clock::time_point deadline);
    // ...or, for a streamed blob, may each wait up to `idle` for progress (a long transfer that keeps
    // moving is not cut off; one that stalls is).
    void limit_by_idle(std::chrono::milliseconds idle);

    // Writes everything or throws (Poco::TimeoutException, Poco::IOException and friends).
    void send(const char* data, std::size_t size);

    ResponseReader& reader() { return m_reader; }

    // True when the server has sent something (or closed) without being asked yet: an early answer to an
    // upload it refuses part-way (413).
    bool answer_waiting();

    // Requests this connection has carried: a reused one may have been closed by the server meanwhile.
    int requests_carried() const { return m_requests; }
    void count_request() { ++m_requests; }

private:
    std::size_t receive(char* buffer, std::size_t capacity);
    Poco::Timespan next_wait() const;

    std::unique_ptr<Poco::Net::StreamSocket> m_socket;
    ResponseReader m_reader;
    Clock::time_point m_deadline;
    std::chrono::milliseconds m_idle{0};
    int m_requests = 0;
};

}  // namespace digestflow::registry
