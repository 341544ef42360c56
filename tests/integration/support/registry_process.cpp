#include "support/registry_process.hpp"

#include "support/ports.hpp"

#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace digestflow::testsupport {
namespace {

std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> lines;
    if (!std::filesystem::exists(path)) {
        return lines;
    }
    std::istringstream in(read_text_file(path));
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(line);
    }
    return lines;
}

std::string quoted(const std::string& value) {
    return "\"" + value + "\"";
}

} // namespace

RegistryOptions& RegistryOptions::with_tls(const TlsMaterial& material) {
    tls = material.server_tls();
    ca_file = material.ca_cert();
    cert_dir = material.certs_dir();
    return *this;
}

RegistryOptions& RegistryOptions::with_user(const std::string& user, const std::string& password) {
    htpasswd_users[user] = password;
    return *this;
}

RegistryOptions& RegistryOptions::with_token_auth(const TokenAuthConfig& config) {
    token_auth = config;
    return *this;
}

Registry::Registry(RegistryOptions options) : m_options(std::move(options)) {
    if (!m_options.htpasswd_users.empty() && m_options.token_auth) {
        throw std::invalid_argument("Registry: htpasswd and token auth are exclusive");
    }
    std::filesystem::create_directory(storage_dir());
    if (!m_options.htpasswd_users.empty()) {
        write_htpasswd();
    }
    // A free port can be taken by someone else before the registry binds it: retry on "address in use".
    for (int attempt = 1;; ++attempt) {
        m_port = free_loopback_port();
        write_config();
        m_process = std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"docker-registry", "serve", config_path()},
            std::map<std::string, std::string>{}, access_log_path(), log_path());
        std::string error;
        if (wait_until_http_ready(url() + "/v2/", std::chrono::seconds(15), m_options.ca_file, &error,
                                  [this] { return m_process->running(); })) {
            return;
        }
        m_process->stop();
        std::string log = read_text_file(log_path());
        if (attempt < 3 && log.find("address already in use") != std::string::npos) {
            continue;
        }
        throw std::runtime_error("docker-registry did not become ready on " + url() + ": " + error +
                                 "\n--- registry log ---\n" + log_tail());
    }
}

Registry::~Registry() {
    stop();
}

std::string Registry::host() const {
    return (m_options.ipv6_only ? "[::1]:" : "127.0.0.1:") + std::to_string(m_port);
}

std::string Registry::url() const {
    return (uses_tls() ? "https://" : "http://") + host();
}

RemoteOptions Registry::client_options() const {
    RemoteOptions remote;
    if (uses_tls()) {
        remote.tls_verify = true;
        remote.cert_dir = m_options.cert_dir;
    } else {
        remote.tls_verify = false;
    }
    return remote;
}

void Registry::write_htpasswd() const {
    std::string content;
    for (const auto& [user, password] : m_options.htpasswd_users) {
        // bcrypt is the only hash distribution accepts
        content += run_checked({"htpasswd", "-Bbn", user, password}).stdout_text;
        while (!content.empty() && content.back() == '\n') {
            content.pop_back();
        }
        content += '\n';
    }
    // Atomic replace: the running registry re-reads the file when its mtime changes.
    write_text_file(m_dir.file("htpasswd.tmp"), content);
    std::filesystem::rename(m_dir.file("htpasswd.tmp"), m_dir.file("htpasswd"));
}

void Registry::add_user(const std::string& user, const std::string& password) {
    if (m_options.htpasswd_users.empty()) {
        throw std::logic_error("Registry::add_user needs a registry started with htpasswd users");
    }
    m_options.htpasswd_users[user] = password;
    write_htpasswd();
}

void Registry::write_config() const {
    std::ostringstream yaml;
    yaml << "version: 0.1\n"
         << "log:\n  level: " << m_options.log_level
         << "\n  formatter: text\n  accesslog:\n    disabled: false\n"
         << "storage:\n  filesystem:\n    rootdirectory: " << quoted(storage_dir()) << "\n"
         << "  delete:\n    enabled: true\n"
         << "  maintenance:\n    uploadpurging:\n      enabled: false\n"
         << "http:\n  addr: " << quoted(host()) << "\n  secret: digestflow-test-secret\n";
    if (m_options.tls) {
        yaml << "  tls:\n    certificate: " << quoted(m_options.tls->certificate)
             << "\n    key: " << quoted(m_options.tls->key) << "\n";
    }
    if (!m_options.htpasswd_users.empty()) {
        yaml << "auth:\n  htpasswd:\n    realm: digestflow-test\n    path: " << quoted(m_dir.file("htpasswd"))
             << "\n";
    } else if (m_options.token_auth) {
        const TokenAuthConfig& token = *m_options.token_auth;
        yaml << "auth:\n  token:\n    realm: " << quoted(token.realm)
             << "\n    service: " << quoted(token.service) << "\n    issuer: " << quoted(token.issuer)
             << "\n    rootcertbundle: " << quoted(token.root_cert_bundle) << "\n";
    }
    if (!m_options.allowed_layer_urls.empty()) { // double-quoted YAML: patterns without backslashes
        yaml << "validation:\n  manifests:\n    urls:\n      allow:\n";
        for (const auto& pattern : m_options.allowed_layer_urls) {
            yaml << "        - " << quoted(pattern) << "\n";
        }
    }
    write_text_file(config_path(), yaml.str());
}

std::vector<std::string> Registry::access_log_lines() const {
    std::vector<std::string> result;
    for (auto& line : read_lines(access_log_path())) {
        if (parse_access_log_line(line)) {
            result.push_back(std::move(line));
        }
    }
    return result;
}

std::vector<AccessLogEntry> Registry::access_log() const {
    return parse_access_log(read_lines(access_log_path()));
}

size_t Registry::count_requests(const std::string& method, const std::string& path) const {
    size_t count = 0;
    for (const auto& entry : access_log()) {
        if ((method.empty() || entry.method == method) && entry.path() == path &&
            entry.user_agent != probe_user_agent) {
            ++count;
        }
    }
    return count;
}

std::string Registry::log_tail(size_t max_lines) const {
    std::vector<std::string> lines = read_lines(log_path());
    size_t first = lines.size() > max_lines ? lines.size() - max_lines : 0;
    std::string tail;
    for (size_t i = first; i < lines.size(); ++i) {
        tail += lines[i] + "\n";
    }
    return tail;
}

bool Registry::running() {
    return m_process && m_process->running();
}

void Registry::stop() {
    if (m_process) {
        m_process->stop();
    }
}

} // namespace digestflow::testsupport
