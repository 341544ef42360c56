#include "support/body_fault_proxy.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include <sys/socket.h>

namespace digestflow::testsupport {
namespace {

// Headers that describe one hop (framing, connection): the proxy sets its own.
bool is_hop_header(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return name == "connection" || name == "keep-alive" || name == "transfer-encoding" ||
           name == "content-length";
}

} // namespace

struct BodyFaultProxy::Shared {
    std::string upstream;
    std::mutex mutex;
    BodyFaultHook hook;
    std::shared_ptr<std::atomic<int>> faulted;
};

namespace {

class ForwardingHandler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit ForwardingHandler(std::shared_ptr<BodyFaultProxy::Shared> shared) : m_shared(std::move(shared)) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

  private:
    std::shared_ptr<BodyFaultProxy::Shared> m_shared;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit HandlerFactory(std::shared_ptr<BodyFaultProxy::Shared> shared) : m_shared(std::move(shared)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new ForwardingHandler(m_shared);
    }

  private:
    std::shared_ptr<BodyFaultProxy::Shared> m_shared;
};

void ForwardingHandler::handleRequest(Poco::Net::HTTPServerRequest& request,
                                      Poco::Net::HTTPServerResponse& response) {
    BodyFault fault = BodyFault::None;
    {
        std::lock_guard lock(m_shared->mutex);
        if (m_shared->hook) {
            fault = m_shared->hook(request.getMethod(), request.getURI());
        }
    }
    Poco::Net::HTTPClientSession upstream{Poco::Net::SocketAddress(m_shared->upstream)};
    upstream.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest forwarded(request.getMethod(), request.getURI(), Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : request) {
        if (!is_hop_header(name)) {
            forwarded.add(name, value);
        }
    }
    bool has_body = request.hasContentLength() || request.getChunkedTransferEncoding();
    if (request.hasContentLength()) {
        forwarded.setContentLength64(request.getContentLength64());
    } else if (request.getChunkedTransferEncoding()) {
        forwarded.setChunkedTransferEncoding(true);
    }
    std::ostream& out = upstream.sendRequest(forwarded);
    if (has_body) {
        Poco::StreamCopier::copyStream64(request.stream(), out);
    }
    Poco::Net::HTTPResponse answer;
    std::istream& in = upstream.receiveResponse(answer);
    std::string body;
    bool head = request.getMethod() == "HEAD";
    if (!head) {
        Poco::StreamCopier::copyToString64(in, body);
    }

    response.setStatusAndReason(answer.getStatus(), answer.getReason());
    for (const auto& [name, value] : answer) {
        if (!is_hop_header(name)) {
            response.add(name, value);
        }
    }
    if (head) {
        if (answer.hasContentLength()) {
            response.setContentLength64(answer.getContentLength64());
        }
        response.send();
        return;
    }
    if (fault == BodyFault::None || answer.getStatus() / 100 != 2 || body.size() < 2) {
        response.setContentLength64(static_cast<Poco::Int64>(body.size()));
        response.send() << body;
        return;
    }
    ++*m_shared->faulted;
    switch (fault) {
    case BodyFault::FlipByte:
        body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 0x01);
        response.setContentLength64(static_cast<Poco::Int64>(body.size()));
        response.send() << body;
        return;
    case BodyFault::Short: {
        body.resize(body.size() - std::min<std::size_t>(100, body.size() / 2));
        response.setContentLength64(static_cast<Poco::Int64>(body.size()));
        response.send() << body; // and the connection stays open
        return;
    }
    case BodyFault::CutMidBody: {
        response.setContentLength64(static_cast<Poco::Int64>(body.size()));
        std::ostream& sent = response.send();
        sent.write(body.data(), static_cast<std::streamsize>(body.size() / 2));
        sent.flush();
        static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket().shutdown();
        return;
    }
    case BodyFault::None:
        return;
    }
}

// HTTP methods are upper-case tokens; a TLS ClientHello starts with 0x16.
bool starts_with_http(Poco::Net::StreamSocket& socket) {
    char first = 0;
    return socket.poll(Poco::Timespan(5, 0), Poco::Net::Socket::SELECT_READ) &&
           socket.receiveBytes(&first, 1, MSG_PEEK) == 1 && std::isupper(static_cast<unsigned char>(first));
}

// A client probing for HTTPS sent a ClientHello, which an HTTP parser may sit on until its timeout. Answer
// as a plain-HTTP registry does (an HTTP 400, which is no ServerHello), so the client falls back to HTTP.
// The hello is read first: closing with unread bytes would reset the connection before the answer arrives.
void refuse_non_http(Poco::Net::StreamSocket& socket) {
    try {
        char hello[16 * 1024];
        socket.receiveBytes(hello, static_cast<int>(sizeof hello));
        const std::string answer = "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        socket.sendBytes(answer.data(), static_cast<int>(answer.size()));
        socket.shutdownSend();
        while (socket.poll(Poco::Timespan(5, 0), Poco::Net::Socket::SELECT_READ) &&
               socket.receiveBytes(hello, static_cast<int>(sizeof hello)) > 0) {
        }
    } catch (const std::exception&) {
    }
    socket.close();
}

} // namespace

BodyFaultProxy::BodyFaultProxy(const std::string& upstream_host)
    : m_shared(std::make_shared<Shared>()), m_faulted(std::make_shared<std::atomic<int>>(0)),
      m_listener(std::make_unique<Poco::Net::ServerSocket>(Poco::Net::SocketAddress("127.0.0.1", 0))) {
    m_shared->upstream = upstream_host;
    m_shared->faulted = m_faulted;
    m_port = m_listener->address().port();
    m_acceptor = std::thread([this] { accept_loop(); });
}

BodyFaultProxy::~BodyFaultProxy() {
    m_stopping = true;
    m_acceptor.join();
    std::lock_guard lock(m_connections_mutex);
    for (auto& socket : m_sockets) {
        try {
            socket.shutdown(); // ends a connection waiting for its next request
        } catch (const std::exception&) {
        }
    }
    for (auto& thread : m_connections) {
        thread.join();
    }
}

void BodyFaultProxy::accept_loop() {
    Poco::Net::HTTPServerParams::Ptr params(new Poco::Net::HTTPServerParams);
    params->setKeepAlive(true);
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory(new HandlerFactory(m_shared));
    while (!m_stopping) {
        try {
            if (!m_listener->poll(Poco::Timespan(0, 100 * 1000), Poco::Net::Socket::SELECT_READ)) {
                continue;
            }
            Poco::Net::StreamSocket client = m_listener->acceptConnection();
            std::lock_guard lock(m_connections_mutex);
            m_sockets.push_back(client);
            m_connections.emplace_back([client, params, factory] {
                Poco::Net::StreamSocket socket(client);
                if (!starts_with_http(socket)) {
                    refuse_non_http(socket);
                    return;
                }
                try {
                    Poco::Net::HTTPServerConnection connection(socket, params, factory);
                    connection.run();
                } catch (const std::exception&) {
                    // Either side reset the connection (a CutMidBody fault does): it just ends.
                }
            });
        } catch (const std::exception&) {
            // A client that vanished between poll and accept: keep listening.
        }
    }
}

std::string BodyFaultProxy::host() const {
    return "127.0.0.1:" + std::to_string(m_port);
}

void BodyFaultProxy::set_fault(BodyFaultHook hook) {
    std::lock_guard lock(m_shared->mutex);
    m_shared->hook = std::move(hook);
}

} // namespace digestflow::testsupport
