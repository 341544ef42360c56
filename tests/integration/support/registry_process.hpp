#pragma once

#include "support/access_log.hpp"
#include "support/process.hpp"
#include "support/remote_options.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_material.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::testsupport {

// The registry side of bearer-token auth (TokenServer::registry_auth() fills it).
struct TokenAuthConfig {
    std::string realm; // http://127.0.0.1:PORT/token
    std::string service;
    std::string issuer;
    std::string root_cert_bundle; // PEM of the certificate whose key signs the tokens
};

struct RegistryOptions {
    std::map<std::string, std::string> htpasswd_users; // user -> password; non-empty enables basic auth
    std::optional<ServerTls> tls;                      // enables HTTPS with this certificate
    std::string ca_file;                               // with tls: trust root for readiness and clients
    std::string cert_dir;                              // with tls: folder with ca.crt for skopeo/buildah
    std::optional<TokenAuthConfig> token_auth;         // bearer auth (exclusive with htpasswd)
    std::string log_level = "info";
    // validation.manifests.urls.allow: regexes of the URLs a foreign (non-distributable) layer may name.
    // Unset, distribution refuses every manifest with such a layer.
    std::vector<std::string> allowed_layer_urls;
    // Listen on [::1] only (host() is then "[::1]:PORT"): what "localhost" may mean on a machine.
    bool ipv6_only = false;

    // HTTPS with the material's server certificate; the material must outlive the Registry.
    RegistryOptions& with_tls(const TlsMaterial& material);
    RegistryOptions& with_user(const std::string& user, const std::string& password);
    RegistryOptions& with_token_auth(const TokenAuthConfig& config);
};

// Debian's docker-registry (distribution 2.8) serving on a free 127.0.0.1 port with its own storage,
// deletes enabled. The constructor returns once GET /v2/ answers; the destructor stops the process and
// removes storage, config and logs (DIGESTFLOW_KEEP_TEMP=1 keeps them).
class Registry {
  public:
    explicit Registry(RegistryOptions options = {});
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    int port() const { return m_port; }
    std::string host() const; // "127.0.0.1:PORT" ("[::1]:PORT" with ipv6_only)
    std::string url() const;  // "http(s)://127.0.0.1:PORT"
    bool uses_tls() const { return m_options.tls.has_value(); }
    const RegistryOptions& options() const { return m_options; }

    std::string storage_dir() const { return m_dir.file("storage"); }
    std::string config_path() const { return m_dir.file("config.yml"); }
    std::string log_path() const { return m_dir.file("registry.log"); }      // stderr: app log (logrus)
    std::string access_log_path() const { return m_dir.file("access.log"); } // stdout: one line per request

    // TLS flags that reach this registry with skopeo/buildah (no creds).
    RemoteOptions client_options() const;

    // Adds (or replaces) a basic-auth user while running; only for a registry started with htpasswd users.
    void add_user(const std::string& user, const std::string& password);

    // The access log so far. The registry writes a line just after answering, so a client may see the
    // response a moment before its line appears.
    std::vector<std::string> access_log_lines() const;
    std::vector<AccessLogEntry> access_log() const;
    // Requests with this method (empty: any) whose path (no query) equals path; the fixture's own readiness
    // probe (GET /v2/, User-Agent probe_user_agent) is left out.
    size_t count_requests(const std::string& method, const std::string& path) const;
    // Last lines of the app log, for failure messages.
    std::string log_tail(size_t max_lines = 30) const;

    bool running();
    // Stops the process now (to test an unreachable registry); the directories stay until destruction.
    void stop();

  private:
    void write_config() const;
    void write_htpasswd() const;

    RegistryOptions m_options;
    TempDir m_dir{"digestflow-registry"};
    int m_port = 0;
    std::unique_ptr<BackgroundProcess> m_process;
};

} // namespace digestflow::testsupport
