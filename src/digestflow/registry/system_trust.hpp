// The system's trusted CAs for registry TLS, added to an OpenSSL context at the lowest start-up cost.
#pragma once

#include <string>

typedef struct ssl_ctx_st SSL_CTX;

namespace digestflow::registry {

// Adds the system trust store to `context`: the CA directory and the CA bundle file OpenSSL's default paths
// name ($SSL_CERT_DIR and $SSL_CERT_FILE override them, as in OpenSSL). The hashed directory is looked up
// lazily, one file for the issuer a handshake actually meets. The bundle is parsed eagerly (~140 certificates,
// ~15 ms), so it is skipped when it is the system bundle and the system directory holds a hash link for each of
// its certificates (written together by update-ca-certificates). Returns what was added, for messages;
// throws std::runtime_error when OpenSSL refuses a location.
std::string add_system_trust(SSL_CTX* context);

// True when `directory` holds at least as many OpenSSL hash links as `bundle` holds certificates: the bundle
// adds nothing to the directory (counted, not parsed: parsing is the cost being saved).
bool bundle_covered_by_hash_links(const std::string& bundle, const std::string& directory);

// True when `directory` holds OpenSSL hash links (names like 5ad8a5d6.0), so lazy lookup can find issuers.
bool has_hashed_certificates(const std::string& directory);

}  // namespace digestflow::registry
