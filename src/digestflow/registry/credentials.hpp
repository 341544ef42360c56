// Where registry credentials come from: docker config.json (auths, identitytoken, credHelpers,
// credsStore through `docker-credential-NAME get`) and containers auth.json (REGISTRY_AUTH_FILE).
#pragma once

#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace digestflow::registry {

struct Credentials {
    std::string username;
    std::string password;        // secret: never printed
    std::string identity_token;  // OAuth2 refresh token (username "<token>" from a helper), secret
    std::string registry_token;  // bearer token to send as-is, secret
    std::string source;          // where it came from, for messages: "/root/.docker/config.json (auths)"
    bool empty() const {
        return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
    }
};

struct DecodedAuth {
    std::string username;
    std::string password;
};
// docker/cli decodeAuth: base64 -> split at the first ':'; trailing NULs trimmed from the password.
// Throws Error(Usage) "Invalid auth configuration file" when there is no ':' or the username is empty.
DecodedAuth decode_auth_field(const std::string& base64_value);

// docker/cli ConvertToHostname: strips scheme and any path.
std::string convert_to_hostname(const std::string& key);

class CredentialStore {
public:
    // explicit_config: --registry-config PATH (used alone when given). Otherwise the search order is
    // $DOCKER_CONFIG/config.json, ~/.docker/config.json, then containers auth.json ($REGISTRY_AUTH_FILE,
    // $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json).
    explicit CredentialStore(std::optional<std::string> explicit_config = std::nullopt);

    CredentialStore(const CredentialStore&) = delete;
    CredentialStore& operator=(const CredentialStore&) = delete;
    ~CredentialStore();

    // Credentials for a registry host ("docker.io" or "host:port") and repository path ("team/app").
    // Returns nullopt when none are configured (anonymous). Throws Error(Usage) for an unreadable or
    // malformed file, Error(Auth) when a credential helper fails for a reason other than "not found".
    // Within one store each file is read once and each helper runs once per server (its answer, "not found"
    // or failure included, is kept): one run promoting to many repositories of a registry asks once.
    // Thread-safe; threads asking at once for the same server wait for the one helper run.
    std::optional<Credentials> lookup(const std::string& registry, const std::string& repository_path) const;

    // Files consulted, in order (for --help and messages).
    const std::vector<std::string>& files() const { return m_files; }

private:
    std::vector<std::string> m_files;
    // Parallel to m_files: the option or variable that named the file ("--registry-config",
    // "REGISTRY_AUTH_FILE") when it must exist; empty for default locations, which may be absent.
    std::vector<std::string> m_named_by;
    bool m_explicit = false;

    // One helper run's answer; `once` makes concurrent askers wait for the first.
    struct HelperAnswer {
        std::once_flag once;
        std::optional<Credentials> credentials;
        std::exception_ptr failure;
    };
    const nlohmann::json* document(std::size_t file) const;  // nullptr: absent and optional
    std::optional<Credentials> helper_credentials(const std::string& helper, const std::string& server_url,
                                                  const std::string& named_in) const;

    // Parallel to m_files: each file parsed once; `m_loaded` says which are read.
    mutable std::mutex m_files_mutex;
    mutable std::vector<std::unique_ptr<nlohmann::json>> m_documents;
    mutable std::vector<bool> m_loaded;
    mutable std::mutex m_helpers_mutex;  // guards the map; the runs themselves happen outside it
    mutable std::map<std::string, std::shared_ptr<HelperAnswer>> m_helper_answers;
};

// Runs `docker-credential-<helper> get` with the server URL on stdin. nullopt when the helper reports that it
// has no credentials; Error(Auth) on any other failure (the helper's message is included, never a secret).
std::optional<Credentials> run_credential_helper(const std::string& helper, const std::string& server_url);

}  // namespace digestflow::registry
