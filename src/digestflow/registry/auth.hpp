// Registry authentication: learns each registry's challenge (Basic or Bearer), fetches bearer tokens for the
// scopes an operation needs, and caches them per registry and scope set until they expire.
#pragma once

#include "digestflow/registry/credentials.hpp"
#include "digestflow/registry/http.hpp"
#include "digestflow/registry/retry.hpp"
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
    // Token requests are retried within `retry` like registry requests.
    Authenticator(Transport& transport, const CredentialStore& credentials, RetryPolicy retry = {});

    // The Authorization header value to send for `scopes` on `registry` (host[:port] as in the reference),
    // or nullopt when the registry has not asked for any. Fetches a bearer token when the registry is known
    // to want one and none is cached.
    std::optional<std::string> authorization(const std::string& registry, const std::string& repository_path,
                                             const Scopes& scopes);

    // Called with a 401 answer to a request that carried `sent` (its Authorization, if any). Learns the
    // challenge and returns true when a retry with other credentials makes sense: none were sent, or a bearer
    // token was refused (it is dropped, so a new one is fetched). False for refused Basic credentials.
    bool on_unauthorized(const std::string& registry, const std::string& repository_path, const Scopes& scopes,
                         const HttpResponse& response, const std::optional<std::string>& sent);

    // Where the credentials for a registry came from ("anonymous" when none), for messages.
    std::string credential_source(const std::string& registry, const std::string& repository_path);

private:
    struct Token {
        std::string value;
        std::chrono::steady_clock::time_point expires;
    };
    struct RegistryAuth {
        Challenge challenge;  // empty scheme until the registry asks
    };
    std::optional<Credentials> credentials_for(const std::string& registry, const std::string& repository_path);
    Token fetch_token(const std::string& registry, const std::string& repository_path, const Challenge& challenge,
                      const Scopes& scopes);
    static std::string cache_key(const std::string& registry, const Scopes& scopes);

    Transport& m_transport;
    const CredentialStore& m_credentials;
    RetryPolicy m_retry;
    std::mutex m_mutex;        // guards the maps
    std::mutex m_fetch_mutex;  // serialises token fetches
    std::map<std::string, RegistryAuth> m_registries;
    std::map<std::string, Token> m_tokens;
    std::map<std::string, std::optional<Credentials>> m_credential_cache;
};

}  // namespace digestflow::registry
