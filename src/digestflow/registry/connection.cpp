#include "digestflow/registry/connection.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <exception>
#include <vector>

namespace digestflow::registry {
namespace {

Poco::Timespan until(Connection::Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Connection::Clock::now());
    if (left.count() <= 0) throw Poco::TimeoutException("the request ran out of time");
    // Poco reads a zero Timespan as "wait forever".
    return Poco::Timespan(std::max<Poco::Timespan::TimeDiff>(left.count(), 1000));
}

bool is_localhost_name(const std::string& host) {
    std::string lower = host;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "localhost" || lower == "localhost.";
}

// "localhost" is the loopback interface by definition (RFC 6761 §6.3), as Go and curl treat it: no resolver,
// hosts file or netlink query is needed for it. IPv4 first, then IPv6 when nothing listens there.
std::vector<Poco::Net::SocketAddress> addresses_of(const UrlParts& origin) {
    if (is_localhost_name(origin.host))
        return {Poco::Net::SocketAddress("127.0.0.1", origin.port), Poco::Net::SocketAddress("::1", origin.port)};
    return {Poco::Net::SocketAddress(origin.host, origin.port)};
}

// The connect failed before any peer was involved: this address family or route does not exist here.
bool is_address_unusable(int error) {
    return error == EADDRNOTAVAIL || error == EAFNOSUPPORT || error == ENETUNREACH || error == EHOSTUNREACH;
}

}  // namespace

Connection::Connection(const UrlParts& origin, Poco::Net::Context::Ptr tls, Clock::time_point deadline)
    : m_reader([this](char* buffer, std::size_t capacity) { return receive(buffer, capacity); }),
      m_deadline(deadline) {
    auto addresses = addresses_of(origin);
    std::exception_ptr refused;
    for (std::size_t i = 0;; ++i) {
        if (tls) {
            auto secure = std::make_unique<Poco::Net::SecureStreamSocket>(tls);
            secure->setPeerHostName(origin.host);  // SNI, and the name the certificate must carry
            m_socket = std::move(secure);
        } else {
            m_socket = std::make_unique<Poco::Net::StreamSocket>();
        }
        try {
            m_socket->connect(addresses[i], until(deadline));
            break;
        } catch (const Poco::Net::ConnectionRefusedException&) {
            if (!refused) refused = std::current_exception();
            if (i + 1 == addresses.size()) throw;
        } catch (const Poco::Net::NetException& e) {
            // ::1 where IPv6 is off (most containers): nothing listening on 127.0.0.1 is what to report.
            if (refused && is_address_unusable(e.code())) std::rethrow_exception(refused);
            throw;
        }
    }
    m_socket->setNoDelay(true);
}

Connection::~Connection() = default;

void Connection::limit_by_deadline(Clock::time_point deadline) {
    m_deadline = deadline;
    m_idle = std::chrono::milliseconds(0);
}

void Connection::limit_by_idle(std::chrono::milliseconds idle) { m_idle = idle; }

Poco::Timespan Connection::next_wait() const {
    if (m_idle.count() > 0) return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(m_idle.count()) * 1000);
    return until(m_deadline);
}

void Connection::send(const char* data, std::size_t size) {
    while (size > 0) {
        m_socket->setSendTimeout(next_wait());
        int chunk = static_cast<int>(std::min<std::size_t>(size, 1 << 20));
        // MSG_NOSIGNAL: a peer that closed must be an error we report, not a SIGPIPE that ends the tool.
        int sent = m_socket->sendBytes(data, chunk, MSG_NOSIGNAL);
        if (sent <= 0) throw Poco::IOException("the connection closed while sending");
        data += sent;
        size -= static_cast<std::size_t>(sent);
    }
}

bool Connection::answer_waiting() {
    if (!m_socket->poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) return false;
    // Readable is not yet an answer: over TLS it may be a session ticket, which OpenSSL consumes without
    // yielding a byte. Only bytes (or the server closing) count.
    auto saved_idle = m_idle;
    m_idle = std::chrono::milliseconds(1);
    try {
        m_reader.receive_more();
    } catch (const Poco::TimeoutException&) {
        m_idle = saved_idle;
        return false;
    }
    m_idle = saved_idle;
    return true;
}

std::size_t Connection::receive(char* buffer, std::size_t capacity) {
    m_socket->setReceiveTimeout(next_wait());
    int received = m_socket->receiveBytes(buffer, static_cast<int>(std::min<std::size_t>(capacity, 1 << 30)));
    return received > 0 ? static_cast<std::size_t>(received) : 0;
}

}  // namespace digestflow::registry
