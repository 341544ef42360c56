#pragma once

#include "support/counting_proxy.hpp"
#include "support/registry_process.hpp"
#include "support/tls_material.hpp"
#include "support/token_server.hpp"

namespace digestflow::testsupport {

// A registry in bearer-token mode whose token server is reached through a CountingProxy, so a test can count
// token requests or fault them. Members in construction order; bind them with `auto& [tls, tokens,
// token_proxy, registry] = fixture;`.
struct ProxiedTokenRegistry {
    explicit ProxiedTokenRegistry(TokenServerOptions options);

    TlsMaterial tls;
    TokenServer tokens;
    CountingProxy token_proxy;
    Registry registry;
};

}  // namespace digestflow::testsupport
