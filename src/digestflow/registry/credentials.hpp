// Where registry credentials come from: docker config.json (auths, identitytoken, credHelpers,
// credsStore through `docker-credential-NAME get`) and containers auth.json (REGISTRY_AUTH_FILE).
#pragma once

#include <optional>
#include <string>
#include <vector>

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

    // Credentials for a registry host ("docker.io" or "host:port") and repository path ("team/app").
    // Returns nullopt when none are configured (anonymous). Throws Error(Usage) for an unreadable or
    // malformed file, Error(Auth) when a credential helper fails for a reason other than "not found".
    std::optional<Credentials> lookup(const std::string& registry, const std::string& repository_path) const;

    // Files consulted, in order (for --help and messages).
    const std::vector<std::string>& files() const { return m_files; }

private:
    std::vector<std::string> m_files;
    // Parallel to m_files: the option or variable that named the file ("--registry-config",
    // "REGISTRY_AUTH_FILE") when it must exist; empty for default locations, which may be absent.
    std::vector<std::string> m_named_by;
    bool m_explicit = false;
};

// Runs `docker-credential-<helper> get` with the server URL on stdin. nullopt when the helper reports that it
// has no credentials; Error(Auth) on any other failure (the helper's message is included, never a secret).
std::optional<Credentials> run_credential_helper(const std::string& helper, const std::string& server_url);

}  // namespace digestflow::registry
