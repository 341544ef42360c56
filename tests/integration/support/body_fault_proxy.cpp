#include "support/body_fault_proxy.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <cctype>
#include <mutex>

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

} // namespace

BodyFaultProxy::BodyFaultProxy(const std::string& upstream_host)
    : m_shared(std::make_shared<Shared>()), m_faulted(std::make_shared<std::atomic<int>>(0)) {
    m_shared->upstream = upstream_host;
    m_shared->faulted = m_faulted;
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    m_port = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(true);
    params->setMaxThreads(16);
    m_server = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(m_shared), socket, params);
    m_server->start();
}

BodyFaultProxy::~BodyFaultProxy() {
    m_server->stopAll(true);
}

std::string BodyFaultProxy::host() const {
    return "127.0.0.1:" + std::to_string(m_port);
}

void BodyFaultProxy::set_fault(BodyFaultHook hook) {
    std::lock_guard lock(m_shared->mutex);
    m_shared->hook = std::move(hook);
}

} // namespace digestflow::testsupport
