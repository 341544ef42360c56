#include "support/tls_material.hpp"

#include "support/process.hpp"

#include <filesystem>

namespace digestflow::testsupport {

TlsMaterial::TlsMaterial() {
    RunOptions in_dir;
    in_dir.working_dir = dir();
    in_dir.timeout_seconds = 60;
    // The CA needs explicit CA:TRUE/keyCertSign: Go's verifier (the registry, skopeo) rejects a CA without
    // them.
    run_checked({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7", "-subj",
                 "/CN=digestflow test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign", "-keyout", "ca.key", "-out", "ca.crt"},
                in_dir);
    run_checked({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
                 "server.key", "-out", "server.csr"},
                in_dir);
    write_text_file(m_dir.file("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                              "basicConstraints=CA:FALSE\n"
                                              "keyUsage=critical,digitalSignature,keyEncipherment\n"
                                              "extendedKeyUsage=serverAuth\n");
    run_checked({"openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-set_serial", "2", "-days", "7", "-extfile", "server.ext", "-out", "server.crt"},
                in_dir);
    run_checked({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7", "-subj",
                 "/CN=digestflow test token signer", "-keyout", "signing.key", "-out", "signing.crt"},
                in_dir);
    std::filesystem::create_directory(certs_dir());
    std::filesystem::copy_file(ca_cert(), certs_dir() + "/ca.crt");
}

} // namespace digestflow::testsupport
