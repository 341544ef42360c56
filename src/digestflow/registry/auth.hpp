// Registry authentication: learns each registry's challenge (Basic or Bearer), fetches bearer tokens for the
// scopes an operation needs, and caches them per registry and scope set until they expire. A cached token
// asked for more (pull,push) serves a narrower need (pull); where the registry refuses it, the exact scopes
// are asked for instead.
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
#include <set>
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

    // The run will push to repository_path on registry, mounting blobs from mount_from there (empty: none):
    // a pull need in that repository asks the token server for pull,push (and mount_from's pull) at once, so
    // one token serves the lookups, the mounts and the PUTs of that repository.
    void expect_push(const std::string& registry, const std::string& repository_path, const std::string& mount_from);

    struct Authorization {
        std::string header;    // the Authorization header value
        bool broader = false;  // a token asked for more scopes than this request needs
    };
    // What to send for `scopes` on `registry` (host[:port] as in the reference), or nullopt when the registry
    // has not asked for any. Fetches a bearer token when the registry is known to want one and no cached
    // token was asked for these scopes or more.
    std::optional<Authorization> authorization(const std::string& registry, const std::string& repository_path,
                                               const Scopes& scopes);

    // Called when a request that carried a broader token was refused (401 or 403): what a token server grants
    // is its own choice, so from now on exactly `scopes` are asked for this need, and the refused token is
    // no longer used for it.
    void narrow(const std::string& registry, const Scopes& scopes, const std::string& sent);

    // Called with a 401 answer to a request that carried `sent` (its Authorization, if any). Learns the
    // challenge and returns true when a retry with other credentials makes sense: none were sent, or a bearer
    // token was refused (it is dropped, so a new one is fetched). False for refused Basic credentials.
    bool on_unauthorized(const std::string& registry, const std::string& repository_path, const Scopes& scopes,
                         const HttpResponse& response, const std::optional<std::string>& sent);

    // Where the credentials for a registry came from ("anonymous" when none), for messages.
    std::string credential_source(const std::string& registry, const std::string& repository_path);

private:
    // "repository:team/app:pull,push" as resource "repository:team/app" and its actions.
    struct ParsedScope {
        std::string resource;
        std::set<std::string> actions;
    };
    struct Token {
        std::string value;
        std::chrono::steady_clock::time_point expires;
        std::string header;               // "Bearer " + value, built once rather than per request
        std::string asked_key;            // the cache key of the scopes it was asked for
        std::vector<ParsedScope> scopes;  // those scopes (what the server granted is the registry's to judge)
    };
    struct RegistryAuth {
        Challenge challenge;  // empty scheme until the registry asks
        std::map<std::string, std::vector<std::string>> pushes;  // repository pushed to -> repositories mounted from
        std::set<std::string> exact_only;  // cache keys of needs a broader token was refused for
    };
    struct CachedCredentials {
        std::optional<Credentials> credentials;
        std::string basic;  // "Basic ..." for them, built once
    };
    const CachedCredentials& credentials_for(const std::string& registry, const std::string& repository_path);
    Token fetch_token(const std::string& registry, const std::string& repository_path, const Challenge& challenge,
                      const Scopes& scopes);
    // Scopes to ask for when `scopes` are needed: widened where a push is expected.
    static Scopes wanted_scopes(const RegistryAuth& state, const Scopes& scopes);
    // A live cached token for the need (key `needed_key`), exact or broader; caller holds m_mutex.
    std::optional<Authorization> cached_token(const std::string& registry, const RegistryAuth& state,
                                              const Scopes& scopes, const std::string& needed_key);
    static std::string cache_key(const std::string& registry, const Scopes& scopes);
    static std::vector<ParsedScope> parse_scopes(const Scopes& scopes);
    static bool covers(const std::vector<ParsedScope>& held, const std::vector<ParsedScope>& needed);

    Transport& m_transport;
    const CredentialStore& m_credentials;
    RetryPolicy m_retry;
    std::mutex m_mutex;        // guards the maps
    std::mutex m_fetch_mutex;  // serialises token fetches
    std::map<std::string, RegistryAuth> m_registries;
    // Keyed by cache_key(); a broader token found for a need is also filed under the need's key, so the
    // next request finds it at once.
    std::map<std::string, Token> m_tokens;
    // "REGISTRY RESOURCE" -> keys of tokens asked for that resource, so a need is matched against the few
    // tokens naming its repository rather than every token of a long list.
    std::map<std::string, std::set<std::string>> m_tokens_by_resource;
    std::map<std::string, CachedCredentials> m_credential_cache;
};

}  // namespace digestflow::registry
