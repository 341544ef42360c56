#include "support/token_server.hpp"

#include "support/jwt.hpp"

#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>
#include <openssl/rand.h>

#include <chrono>
#include <ctime>
#include <sstream>

namespace digestflow::testsupport {

struct TokenServer::State {
    TokenServerOptions options;
    JwtSigner signer;
    std::atomic<size_t> request_count{0};
    mutable std::mutex mutex;
    std::vector<TokenRequestRecord> records;

    State(TokenServerOptions o, const TlsMaterial& tls)
        : options(std::move(o)), signer(tls.signing_key(), tls.signing_cert()) {}
};

namespace {

using Poco::Net::HTTPResponse;

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, separator)) {
        if (!part.empty()) {
            parts.push_back(part);
        }
    }
    return parts;
}

std::string random_hex(size_t bytes) {
    std::vector<unsigned char> buffer(bytes);
    RAND_bytes(buffer.data(), static_cast<int>(buffer.size()));
    static const char* digits = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : buffer) {
        hex += digits[b >> 4];
        hex += digits[b & 0xf];
    }
    return hex;
}

std::string rfc3339(std::time_t when) {
    std::tm utc{};
    gmtime_r(&when, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

bool anonymous_may_pull(const TokenServerOptions& options, const std::string& repository) {
    return options.anonymous_pull_repos.count("*") != 0 ||
           options.anonymous_pull_repos.count(repository) != 0;
}

class TokenHandler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit TokenHandler(std::shared_ptr<TokenServer::State> state) : m_state(std::move(state)) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        ++m_state->request_count;
        TokenRequestRecord record;
        int status = HTTPResponse::HTTP_OK;
        nlohmann::json body;
        try {
            status = handle(request, record, body);
        } catch (const std::exception& e) {
            status = HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
            body = {{"details", std::string("token server failure: ") + e.what()}};
        }
        record.status = status;
        {
            std::lock_guard lock(m_state->mutex);
            m_state->records.push_back(record);
        }
        response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
        if (status == HTTPResponse::HTTP_UNAUTHORIZED) {
            response.set("WWW-Authenticate", "Basic realm=\"digestflow-test-token\"");
        }
        std::string text = body.dump();
        response.setContentType("application/json");
        response.setContentLength(static_cast<std::streamsize>(text.size()));
        response.send() << text;
    }

  private:
    int handle(Poco::Net::HTTPServerRequest& request, TokenRequestRecord& record, nlohmann::json& body) {
        const TokenServerOptions& options = m_state->options;
        Poco::URI uri(request.getURI());
        if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET || uri.getPath() != "/token") {
            body = {{"details", "only GET /token is served here"}};
            return HTTPResponse::HTTP_NOT_FOUND;
        }
        for (const auto& [name, value] : uri.getQueryParameters()) {
            if (name == "service") {
                record.service = value;
            } else if (name == "scope") {
                for (const auto& scope : split(value, ' ')) { // one parameter may carry several scopes
                    record.scopes.push_back(scope);
                }
            }
        }
        if (!record.service.empty() && record.service != options.service) {
            body = {{"details", "unknown service " + record.service}};
            return HTTPResponse::HTTP_BAD_REQUEST;
        }

        const TokenUser* user = nullptr;
        if (request.hasCredentials()) {
            std::string scheme;
            std::string info;
            request.getCredentials(scheme, info);
            if (Poco::icompare(scheme, "Basic") != 0) {
                body = {{"details", "only Basic credentials are accepted"}};
                return HTTPResponse::HTTP_UNAUTHORIZED;
            }
            Poco::Net::HTTPBasicCredentials credentials(info);
            record.user = credentials.getUsername();
            auto found = options.users.find(record.user);
            if (found == options.users.end() || found->second.password != credentials.getPassword()) {
                body = {{"details", "invalid username or password"}};
                return HTTPResponse::HTTP_UNAUTHORIZED;
            }
            user = &found->second;
        } else if (options.anonymous_pull_repos.empty()) {
            body = {{"details", "authentication required"}};
            return HTTPResponse::HTTP_UNAUTHORIZED;
        }

        nlohmann::json access = nlohmann::json::array();
        for (const auto& text : record.scopes) {
            std::optional<Scope> scope = parse_scope(text);
            if (!scope) {
                body = {{"details", "malformed scope " + text}};
                return HTTPResponse::HTTP_BAD_REQUEST;
            }
            Scope granted{scope->type, scope->name, {}};
            for (const auto& action : scope->actions) {
                bool allowed = user != nullptr ? user->allowed_actions.count(action) != 0
                                               : action == "pull" && anonymous_may_pull(options, scope->name);
                if (allowed && scope->type == "repository") {
                    granted.actions.push_back(action);
                }
            }
            if (!granted.actions.empty()) {
                access.push_back(
                    {{"type", granted.type}, {"name", granted.name}, {"actions", granted.actions}});
                record.granted.push_back(granted);
            }
        }

        const std::time_t now = std::time(nullptr);
        nlohmann::json claims = {{"iss", options.issuer},  {"sub", record.user},
                                 {"aud", options.service}, {"exp", now + options.expires_in_seconds},
                                 {"nbf", now - 1},         {"iat", now},
                                 {"jti", random_hex(16)},  {"access", access}};
        std::string token = m_state->signer.sign(claims);
        body = {{"token", token},
                {"access_token", token},
                {"expires_in", options.expires_in_seconds},
                {"issued_at", rfc3339(now)}};
        return HTTPResponse::HTTP_OK;
    }

    std::shared_ptr<TokenServer::State> m_state;
};

class TokenHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit TokenHandlerFactory(std::shared_ptr<TokenServer::State> state) : m_state(std::move(state)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new TokenHandler(m_state);
    }

  private:
    std::shared_ptr<TokenServer::State> m_state;
};

} // namespace

std::optional<Scope> parse_scope(const std::string& text) {
    size_t first = text.find(':');
    size_t last = text.rfind(':');
    if (first == std::string::npos || first == last || first == 0 || last == first + 1) {
        return std::nullopt;
    }
    Scope scope;
    scope.type = text.substr(0, first);
    scope.name = text.substr(first + 1, last - first - 1);
    scope.actions = split(text.substr(last + 1), ',');
    return scope;
}

TokenServerOptions& TokenServerOptions::with_user(const std::string& user, const std::string& password,
                                                  std::set<std::string> allowed_actions) {
    users[user] = TokenUser{password, std::move(allowed_actions)};
    return *this;
}

TokenServer::TokenServer(const TlsMaterial& tls, TokenServerOptions options)
    : m_state(std::make_shared<State>(std::move(options), tls)), m_signing_cert(tls.signing_cert()) {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0)); // the kernel picks: no race
    m_port = socket.address().port();
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(8);
    params->setKeepAlive(true);
    m_server = std::make_unique<Poco::Net::HTTPServer>(new TokenHandlerFactory(m_state), socket, params);
    m_server->start();
}

TokenServer::~TokenServer() {
    m_server->stopAll(true);
}

std::string TokenServer::realm() const {
    return "http://127.0.0.1:" + std::to_string(m_port) + "/token";
}

TokenAuthConfig TokenServer::registry_auth() const {
    return {realm(), m_state->options.service, m_state->options.issuer, m_signing_cert};
}

const TokenServerOptions& TokenServer::options() const {
    return m_state->options;
}

size_t TokenServer::request_count() const {
    return m_state->request_count.load();
}

std::vector<TokenRequestRecord> TokenServer::requests() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->records;
}

std::vector<std::string> TokenServer::requested_scopes() const {
    std::vector<std::string> scopes;
    for (const auto& record : requests()) {
        scopes.insert(scopes.end(), record.scopes.begin(), record.scopes.end());
    }
    return scopes;
}

void TokenServer::reset_counters() {
    std::lock_guard lock(m_state->mutex);
    m_state->request_count = 0;
    m_state->records.clear();
}

} // namespace digestflow::testsupport
