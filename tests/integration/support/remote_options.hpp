#pragma once

#include <string>
#include <vector>

namespace digestflow::testsupport {

// How skopeo/buildah reach a registry: the flags they share.
struct RemoteOptions {
    bool tls_verify = true; // false: plain HTTP (or unverified TLS) is accepted
    std::string cert_dir;   // a folder with ca.crt (TlsMaterial::certs_dir()); empty: system roots
    std::string creds;      // "user:password"; empty: anonymous

    RemoteOptions with_creds(const std::string& user, const std::string& password) const {
        RemoteOptions copy = *this;
        copy.creds = user + ":" + password;
        return copy;
    }
};

// {"--tls-verify=false"} / {"--cert-dir", DIR} / {"--creds", C}; prefix is "" or e.g. "src-" / "dest-" for
// skopeo copy.
inline std::vector<std::string> remote_flags(const RemoteOptions& options, const std::string& prefix = "") {
    std::vector<std::string> flags;
    flags.push_back("--" + prefix + "tls-verify=" + (options.tls_verify ? "true" : "false"));
    if (!options.cert_dir.empty()) {
        flags.push_back("--" + prefix + "cert-dir");
        flags.push_back(options.cert_dir);
    }
    if (!options.creds.empty()) {
        flags.push_back("--" + prefix + "creds");
        flags.push_back(options.creds);
    }
    return flags;
}

// "docker://" + reference unless it already names a transport.
inline std::string docker_transport(const std::string& reference) {
    return reference.rfind("docker://", 0) == 0 ? reference : "docker://" + reference;
}

} // namespace digestflow::testsupport
