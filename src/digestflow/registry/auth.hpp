// Registry authentication: learns each registry's challenge (Basic or Bearer), fetches bearer tokens for the
// scopes an operation needs, and caches them per registry and scope set until they expire.
#pragma once

#include "digestflow/registry/credentials.hpp"
#include "digestflow/registry/http.hpp"
#include "digestflow/registry/transport.hpp"
#include "digestflow/registry/www_authenticate.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::registry {

// "repository:team/app:pull" and friends; several scopes for a cross-repository mount.
using Scopes = std::vector<std::string>;
std::string pull_scope(const std::string& repository_path);
std::string push_scope(const std::string& repository_path);  // pull,push

class Authenticator {
public:
    Authenticator(Transport& transport, const CredentialStore& credentials);

    // The Authorization header value to send for `scopes` on `registry` (host[:port] as in the reference),
    // or nullopt when the registry has not asked for any. Fetches a bearer token when the registry is known
    // to want one and none is cached.
    std::optional<std::string> authorization(const std::string& registry, const std::string& repository_path,
                                             const Scopes& scopes);

    // Called with a 401 answer. Learns the challenge and returns true when a retry with new credentials makes
    // sense; false when we already tried what we have (the caller then reports the 401).
    bool on_unauthorized(const std::string& registry, const std::string& repository_path, const Scopes& scopes,
                         const HttpResponse& response);

    // Where the credentials for a registry came from ("anonymous" when none), for messages.
    std::string credential_source(const std::string& registry, const std::string& repository_path);

private:
    struct Token {
        std::string value;
        std::chrono::steady_clock::time_point expires;
    };
    struct RegistryAuth {
        Challenge challenge;  // empty scheme until the registry asks
        bool tried_basic = false;
    };
    std::optional<Credentials> credentials_for(const std::string& registry, const std::string& repository_path);
    Token fetch_token(const std::string& registry, const std::string& repository_path, const Challenge& challenge,
                      const Scopes& scopes);
    static std::string cache_key(const std::string& registry, const Scopes& scopes);

    Transport& m_transport;
    const CredentialStore& m_credentials;
    std::mutex m_mutex;
    std::map<std::string, RegistryAuth> m_registries;
    std::map<std::string, Token> m_tokens;
    std::map<std::string, std::optional<Credentials>> m_credential_cache;
};

}  // namespace digestflow::registry
