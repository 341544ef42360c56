#include "support/proxied_token_registry.hpp"

namespace digestflow::testsupport {
namespace {

TokenAuthConfig realm_through(const TokenServer& tokens, const CountingProxy& proxy) {
    auto auth = tokens.registry_auth();
    auth.realm = "http://" + proxy.host() + "/token";
    return auth;
}

}  // namespace

ProxiedTokenRegistry::ProxiedTokenRegistry(TokenServerOptions options)
    : tokens(tls, std::move(options)),
      token_proxy("127.0.0.1:" + std::to_string(tokens.port())),
      registry(RegistryOptions().with_token_auth(realm_through(tokens, token_proxy))) {}

}  // namespace digestflow::testsupport
