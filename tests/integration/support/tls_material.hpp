#pragma once

#include "support/temp_dir.hpp"

#include <string>

namespace digestflow::testsupport {

// Certificate and key file paths for a TLS server.
struct ServerTls {
    std::string certificate;
    std::string key;
};

// Fresh key material made with the openssl CLI in its own temp dir (about 0.5 s):
//  - a CA (ca.crt, ca.key) and a server cert it signed with SAN IP:127.0.0.1,DNS:localhost
//    (server.crt, server.key): trust ca.crt to talk TLS to a Registry on 127.0.0.1;
//  - a self-signed RSA 2048 signing cert and key (signing.crt, signing.key) for the TokenServer's JWTs;
//  - certs_dir(): a folder holding only ca.crt, for skopeo/buildah --cert-dir.
class TlsMaterial {
  public:
    TlsMaterial();

    const std::string& dir() const { return m_dir.path(); }
    std::string ca_cert() const { return m_dir.file("ca.crt"); }
    std::string ca_key() const { return m_dir.file("ca.key"); }
    std::string server_cert() const { return m_dir.file("server.crt"); }
    std::string server_key() const { return m_dir.file("server.key"); }
    std::string signing_cert() const { return m_dir.file("signing.crt"); }
    std::string signing_key() const { return m_dir.file("signing.key"); }
    std::string certs_dir() const { return m_dir.file("certs"); }
    ServerTls server_tls() const { return {server_cert(), server_key()}; }

  private:
    TempDir m_dir{"digestflow-tls"};
};

} // namespace digestflow::testsupport
