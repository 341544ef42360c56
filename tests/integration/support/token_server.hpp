#pragma once

#include "support/registry_process.hpp"
#include "support/tls_material.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace Poco::Net {
class HTTPServer;
}

namespace digestflow::testsupport {

// "repository:team/app:pull,push": the type up to the first ':', the actions after the LAST ':', the name in
// between (so "repository:127.0.0.1:5000/team/app:pull" names "127.0.0.1:5000/team/app").
struct Scope {
    std::string type;
    std::string name;
    std::vector<std::string> actions;
};
std::optional<Scope> parse_scope(const std::string& text);

struct TokenUser {
    std::string password;
    std::set<std::string> allowed_actions{"pull", "push", "delete", "*"}; // granted = requested ∩ allowed
};

struct TokenServerOptions {
    std::string service = "digestflow-test-registry";
    std::string issuer = "digestflow-test-issuer";
    std::map<std::string, TokenUser> users;
    // Repositories anyone may pull without credentials ("*": all). Empty: requests without Basic auth get
    // 401.
    std::set<std::string> anonymous_pull_repos;
    int expires_in_seconds = 300; // note: distribution accepts tokens up to 60 s past exp (leeway)

    TokenServerOptions& with_user(const std::string& user, const std::string& password,
                                  std::set<std::string> allowed_actions = {"pull", "push", "delete", "*"});
};

// What one GET /token asked for and got.
struct TokenRequestRecord {
    std::string user; // empty: anonymous
    std::string service;
    std::vector<std::string> scopes; // as sent, one entry per scope
    int status = 0;
    std::vector<Scope> granted; // repository scopes in the issued token
};

// An in-process token server (Poco HTTPServer on a free 127.0.0.1 port, plain HTTP) for distribution's
// token auth: GET /token?service=S&scope=...&scope=... with Basic auth returns
// {"token","access_token","expires_in","issued_at"}; the token is an RS256 JWT signed with
// TlsMaterial::signing_key(). Wrong or unknown credentials: 401. Every request is counted and recorded so
// tests can assert token caching.
class TokenServer {
  public:
    TokenServer(const TlsMaterial& tls, TokenServerOptions options);
    ~TokenServer();
    TokenServer(const TokenServer&) = delete;
    TokenServer& operator=(const TokenServer&) = delete;

    int port() const { return m_port; }
    std::string realm() const; // http://127.0.0.1:PORT/token
    // What RegistryOptions::with_token_auth needs to trust this server.
    TokenAuthConfig registry_auth() const;
    const TokenServerOptions& options() const;

    size_t request_count() const;
    std::vector<TokenRequestRecord> requests() const;
    std::vector<std::string> requested_scopes() const; // all scopes of all requests, in order
    void reset_counters();

    struct State; // shared with the request handlers

  private:
    std::shared_ptr<State> m_state;
    std::unique_ptr<Poco::Net::HTTPServer> m_server;
    int m_port = 0;
    std::string m_signing_cert;
};

} // namespace digestflow::testsupport
