#include "support/raw_server.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <algorithm>
#include <cctype>

#include <sys/socket.h>

namespace digestflow::testsupport {
namespace {

bool iequals(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// Reads up to the blank line after the headers, one byte at a time (the body stays in the socket).
std::optional<std::string> read_head(Poco::Net::StreamSocket& socket, const std::atomic<bool>& stopping,
                                     std::atomic<int>& tls_hellos) {
    std::string head;
    char c;
    while (!stopping && head.size() < 64 * 1024) {
        // available() first: over TLS the rest of a record waits inside OpenSSL, not in the socket.
        if (socket.available() == 0 && !socket.poll(Poco::Timespan(0, 100000), Poco::Net::Socket::SELECT_READ)) continue;
        if (socket.receiveBytes(&c, 1) <= 0) return std::nullopt;
        if (head.empty() && c == '\x16') {
            // A TLS ClientHello (a client probing for HTTPS): answer as a plain-HTTP server would.
            ++tls_hellos;
            const std::string refusal = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
            socket.sendBytes(refusal.data(), static_cast<int>(refusal.size()), MSG_NOSIGNAL);
            return std::nullopt;
        }
        head += c;
        if (head.size() >= 4 && head.compare(head.size() - 4, 4, "\r\n\r\n") == 0) return head;
    }
    return std::nullopt;
}

RawRequest parse(const std::string& head) {
    RawRequest request;
    std::size_t end = head.find("\r\n");
    std::string line = head.substr(0, end);
    auto space = line.find(' ');
    request.method = line.substr(0, space);
    request.target = line.substr(space + 1, line.rfind(' ') - space - 1);
    for (std::size_t start = end + 2; start < head.size();) {
        std::size_t stop = head.find("\r\n", start);
        if (stop == std::string::npos || stop == start) break;
        std::string header = head.substr(start, stop - start);
        auto colon = header.find(':');
        if (colon != std::string::npos) {
            std::string value = header.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            request.headers.emplace_back(header.substr(0, colon), value);
        }
        start = stop + 2;
    }
    return request;
}

}  // namespace

std::optional<std::string> RawRequest::header(const std::string& name) const {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return value;
    return std::nullopt;
}

void RawConnection::send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        int n = m_socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent), MSG_NOSIGNAL);
        if (n <= 0) throw Poco::IOException("peer closed");
        sent += static_cast<std::size_t>(n);
    }
}

std::size_t RawConnection::drain_body(const RawRequest& request, std::size_t max) {
    auto length = request.header("Content-Length");
    std::size_t want = std::min<std::size_t>(length ? std::stoull(*length) : 0, max);
    std::size_t got = 0;
    char buffer[65536];
    while (got < want) {
        int n = m_socket.receiveBytes(buffer, static_cast<int>(std::min(sizeof buffer, want - got)));
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    return got;
}

std::string RawConnection::fetch_upstream(const RawRequest& request, const std::string& upstream) {
    Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress(upstream), Poco::Timespan(5, 0));
    socket.setReceiveTimeout(Poco::Timespan(30, 0));
    std::string head = request.method + " " + request.target + " HTTP/1.1\r\n";
    for (const auto& [name, value] : request.headers)
        if (!iequals(name, "Connection")) head += name + ": " + value + "\r\n";
    head += "Connection: close\r\n\r\n";
    RawConnection to_upstream(socket);
    to_upstream.send(head);
    auto length = request.header("Content-Length");
    std::size_t left = length ? std::stoull(*length) : 0;
    char buffer[65536];
    while (left > 0) {
        int n = m_socket.receiveBytes(buffer, static_cast<int>(std::min(sizeof buffer, left)));
        if (n <= 0) break;
        to_upstream.send(std::string(buffer, static_cast<std::size_t>(n)));
        left -= static_cast<std::size_t>(n);
    }
    std::string answer;
    while (int n = socket.receiveBytes(buffer, sizeof buffer)) {
        if (n < 0) break;
        answer.append(buffer, static_cast<std::size_t>(n));
    }
    return answer;
}

RawServer::RawServer(RawHandler handler)
    : m_handler(std::move(handler)), m_listener(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    m_port = m_listener.address().port();
    m_acceptor = std::thread([this] { accept_loop(); });
}

RawServer::RawServer(RawHandler handler, const ServerTls& tls)
    : m_handler(std::move(handler)),
      m_tls(new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, tls.key, tls.certificate, "",
                                   Poco::Net::Context::VERIFY_NONE)),
      m_listener(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    m_port = m_listener.address().port();
    m_acceptor = std::thread([this] { accept_loop(); });
}

RawServer::~RawServer() {
    m_stopping = true;
    m_acceptor.join();
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(m_mutex);
        threads.swap(m_threads);
    }
    for (auto& thread : threads) thread.join();
}

std::string RawServer::host() const { return "127.0.0.1:" + std::to_string(m_port); }

std::vector<RawRequest> RawServer::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

void RawServer::accept_loop() {
    while (!m_stopping) {
        if (!m_listener.poll(Poco::Timespan(0, 100000), Poco::Net::Socket::SELECT_READ)) continue;
        Poco::Net::StreamSocket socket = m_listener.acceptConnection();
        std::lock_guard lock(m_mutex);
        m_threads.emplace_back([this, socket]() mutable { serve(socket); });
    }
}

void RawServer::serve(Poco::Net::StreamSocket socket) {
    try {
        char first = 0;
        if (m_tls) {
            while (!m_stopping && !socket.poll(Poco::Timespan(0, 100000), Poco::Net::Socket::SELECT_READ)) {
            }
            if (!m_stopping && socket.receiveBytes(&first, 1, MSG_PEEK) == 1 && first == '\x16') {
                ++m_tls_hellos;
                Poco::Net::SecureStreamSocket secure = Poco::Net::SecureStreamSocket::attach(socket, m_tls);
                secure.completeHandshake();
                serve_requests(secure, true);
                secure.close();
                return;
            }
        }
        serve_requests(socket, false);
    } catch (const Poco::Exception&) {
        // the client went away: nothing to do
    }
    socket.close();
}

void RawServer::serve_requests(Poco::Net::StreamSocket& socket, bool tls) {
    try {
        RawConnection connection(socket);
        while (!m_stopping) {
            auto head = read_head(socket, m_stopping, m_tls_hellos);
            if (!head) break;
            RawRequest request = parse(*head);
            request.tls = tls;
            {
                std::lock_guard lock(m_mutex);
                m_requests.push_back(request);
            }
            if (!m_handler(request, connection)) break;
        }
    } catch (const Poco::Exception&) {
        // the client went away: nothing to do
    }
}

}  // namespace digestflow::testsupport
