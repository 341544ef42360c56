// The OpenSSL client contexts registry TLS runs on, built only when a TLS connection is made.
#pragma once

#include <Poco/Net/Context.h>

#include <string>

namespace digestflow::registry {

// The key-exchange groups a client offers, X25519 first: every TLS 1.3 server supports it, so the first
// ClientHello's key share is accepted. (Poco's default list starts with X448, which Go's servers, the
// registry among them, do not offer: each handshake then took a HelloRetryRequest, one more round trip and
// a second key generation.) The same five groups Poco offers by default, only reordered.
inline constexpr const char* tls_key_exchange_groups = "X25519:P-256:P-384:P-521:X448";

// A client context. verify: the peer's chain and host name are checked strictly against the system trust
// store (system_trust.hpp) plus `ca_file`; otherwise nothing is verified (--insecure-registry). Throws
// Error(Usage) when `ca_file` cannot be loaded, Error(Registry) when the system store cannot.
Poco::Net::Context::Ptr make_tls_context(bool verify, const std::string& ca_file);

}  // namespace digestflow::registry
