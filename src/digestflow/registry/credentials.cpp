// Credential lookup compatible with what `docker login` and `podman login` leave behind, so CI jobs can
// reuse the login step they already have. Secrets only ever flow into Credentials, never into messages.
#include "digestflow/registry/credentials.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/text_file.hpp"

#include <Poco/Exception.h>
#include <Poco/Pipe.h>
#include <Poco/Process.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace digestflow::registry {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Docker Hub is stored under its historical v1 index URL by docker, and as "docker.io" by podman.
constexpr const char* k_docker_hub_key = "https://index.docker.io/v1/";
const std::vector<std::string> k_docker_hub_keys = {k_docker_hub_key, "index.docker.io", "registry-1.docker.io",
                                                     "docker.io"};
const std::vector<std::string> k_docker_hub_hosts = {"index.docker.io", "registry-1.docker.io", "docker.io"};

// A helper that hangs (waiting on a GUI prompt, say) must not hang the CI job forever.
constexpr std::chrono::seconds k_helper_timeout{60};
// Helper output beyond this is dropped; a real answer is a few hundred bytes.
constexpr std::size_t k_helper_output_cap = 1 << 20;
// A config.json is a few KiB; /dev/zero or a log passed by mistake must not grow without bound.
constexpr std::size_t k_config_file_cap = 4 << 20;

std::string getenv_string(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

bool is_docker_hub(const std::string& registry) {
    for (const std::string& host : k_docker_hub_hosts) {
        if (registry == host) {
            return true;
        }
    }
    return false;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Standard padded base64 as Go's base64.StdEncoding accepts it (CR/LF ignored, padding required). OpenSSL
// does the decoding once the input is known to be well formed, because EVP_DecodeBlock itself neither
// rejects misplaced '=' nor removes the zero bytes that padding stands for.
std::string decode_base64_strict(const std::string& input) {
    std::string clean;
    std::vector<std::size_t> origin;  // index in `input` of each kept character, for error positions
    for (std::size_t i = 0; i < input.size(); ++i) {
        if (input[i] != '\r' && input[i] != '\n') {
            clean.push_back(input[i]);
            origin.push_back(i);
        }
    }
    auto fail = [](const std::string& why) -> void {
        throw_usage("auth field is not valid base64 (" + why +
                    "); re-run `docker login` or store base64(\"username:password\") there");
    };
    std::size_t padding = 0;
    for (std::size_t i = 0; i < clean.size(); ++i) {
        const char c = clean[i];
        if (c == '=') {
            // '=' may only fill the last one or two places of the final group.
            const bool in_last_group = clean.size() % 4 == 0 && i / 4 == clean.size() / 4 - 1 && i % 4 >= 2;
            const bool rest_is_padding = clean.find_first_not_of('=', i) == std::string::npos;
            if (!in_last_group || !rest_is_padding) {
                fail("illegal base64 data at input byte " + std::to_string(origin[i]));
            }
            padding = clean.size() - i;
            break;
        }
        if (base64_value(c) < 0) {
            fail("illegal base64 data at input byte " + std::to_string(origin[i]));
        }
    }
    if (clean.size() % 4 != 0) {
        fail("illegal base64 data at input byte " + std::to_string(input.size()) + ", input is truncated");
    }
    if (clean.empty()) {
        return {};
    }
    std::string out(clean.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(clean.data()), static_cast<int>(clean.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
        fail("decoder rejected the data");
    }
    out.resize(out.size() - padding);
    return out;
}

// Only keys that name a server (optionally with scheme or a /v1/ or /v2/ API path) are matched by host
// name; "host/team/app" is a podman namespace key and must not leak to other repositories of that host.
bool is_server_address_key(const std::string& key) {
    if (key.rfind("http://", 0) == 0 || key.rfind("https://", 0) == 0) {
        return true;
    }
    const std::size_t slash = key.find('/');
    if (slash == std::string::npos) {
        return true;
    }
    const std::string path = key.substr(slash);
    return path == "/" || path == "/v1" || path == "/v1/" || path == "/v2" || path == "/v2/";
}

// Keys of `object` to try, best first: the exact candidates in order, then server-address keys whose host
// part is one of `hosts` (in the object's sorted key order).
std::vector<std::string> matching_keys(const json& object, const std::vector<std::string>& exact,
                                       const std::vector<std::string>& hosts) {
    std::vector<std::string> keys;
    auto add = [&keys](const std::string& key) {
        for (const std::string& k : keys) {
            if (k == key) {
                return;
            }
        }
        keys.push_back(key);
    };
    for (const std::string& key : exact) {
        if (object.contains(key)) {
            add(key);
        }
    }
    for (const auto& item : object.items()) {
        if (!is_server_address_key(item.key())) {
            continue;
        }
        const std::string host = convert_to_hostname(item.key());
        for (const std::string& wanted : hosts) {
            if (host == wanted) {
                add(item.key());
                break;
            }
        }
    }
    return keys;
}

// Helper output made safe for a one-line message: whitespace runs collapsed, control bytes replaced, capped.
std::string one_line(const std::string& text) {
    std::string out;
    bool pending_space = false;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isspace(u)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) {
            out.push_back(' ');
            pending_space = false;
        }
        out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
    }
    constexpr std::size_t k_max = 300;
    if (out.size() > k_max) {
        out.resize(k_max);
        out += "...";
    }
    return out;
}

bool contains_ignoring_case(const std::string& haystack, const std::string& needle) {
    auto lower = [](std::string s) {
        for (char& c : s) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return s;
    };
    return lower(haystack).find(lower(needle)) != std::string::npos;
}

std::optional<std::string> find_on_path(const std::string& program) {
    const std::string path = getenv_string("PATH");
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) {
            end = path.size();
        }
        const std::string dir = path.substr(start, end - start);
        start = end + 1;
        // An empty entry would mean the current directory; a credential helper is never looked up there.
        if (dir.empty()) {
            continue;
        }
        const std::string candidate = dir + "/" + program;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

// Writes the whole request, then closes stdin. A helper that exits without reading would otherwise kill
// us with SIGPIPE, so the signal is blocked for this thread and any resulting pending one is consumed.
void write_request(Poco::Pipe& pipe, const std::string& data) {
    sigset_t block;
    sigset_t old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);
    sigset_t pending;
    sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    try {
        std::size_t written = 0;
        while (written < data.size()) {
            const int n = pipe.writeBytes(data.data() + written, static_cast<int>(data.size() - written));
            if (n <= 0) {
                break;
            }
            written += static_cast<std::size_t>(n);
        }
    } catch (const Poco::Exception&) {
        // The helper closed stdin early; its exit status and output say what went wrong.
    }
    if (!was_pending) {
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
            const timespec no_wait{0, 0};
            sigtimedwait(&block, nullptr, &no_wait);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    pipe.close(Poco::Pipe::CLOSE_WRITE);
}

struct HelperResult {
    int exit_code = 0;
    std::string out;
    std::string err;
};

HelperResult exec_helper(const std::string& executable, const std::string& program, const std::string& request,
                         const std::string& where) {
    Poco::Pipe in_pipe;
    Poco::Pipe out_pipe;
    Poco::Pipe err_pipe;
    std::optional<Poco::ProcessHandle> handle;
    try {
        handle.emplace(Poco::Process::launch(executable, {"get"}, &in_pipe, &out_pipe, &err_pipe));
    } catch (const Poco::Exception& e) {
        throw_auth("cannot start credential helper " + program + where + ": " + one_line(e.displayText()) +
                   "; check that " + executable + " is executable");
    }
    write_request(in_pipe, request);

    // Drain stdout and stderr together so a chatty helper cannot block on a full pipe.
    HelperResult result;
    pollfd fds[2] = {{out_pipe.readHandle(), POLLIN, 0}, {err_pipe.readHandle(), POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    const auto deadline = std::chrono::steady_clock::now() + k_helper_timeout;
    char buffer[4096];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            Poco::Process::kill(*handle);
            handle->wait();
            throw_auth("credential helper " + program + where + " did not answer within " +
                       std::to_string(k_helper_timeout.count()) + " s; check that it can run non-interactively");
        }
        const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            Poco::Process::kill(*handle);
            handle->wait();
            throw_auth("reading from credential helper " + program + where + " failed: " + std::strerror(errno));
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                std::string& sink = *sinks[i];
                if (sink.size() < k_helper_output_cap) {
                    sink.append(buffer, static_cast<std::size_t>(n));
                }
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                fds[i].fd = -1;  // end of stream; the Pipe object closes the descriptor
            }
        }
    }
    // Output closed is not the helper gone: one that closes its pipes and lingers is bounded by the same deadline.
    // (tryWait reaps: an exited helper is not taken for a running zombie.)
    int exit_code = handle->tryWait();
    while (exit_code == -1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        exit_code = handle->tryWait();
    }
    if (exit_code == -1) {
        Poco::Process::kill(*handle);
        handle->wait();
        throw_auth("credential helper " + program + where + " did not exit within " +
                   std::to_string(k_helper_timeout.count()) + " s; check that it can run non-interactively");
    }
    result.exit_code = exit_code;
    return result;
}

std::optional<Credentials> run_helper(const std::string& helper, const std::string& server_url,
                                      const std::string& named_in) {
    const std::string program = "docker-credential-" + helper;
    const std::string where = named_in.empty() ? "" : " (named in " + named_in + ")";
    if (helper.empty() || helper.find('/') != std::string::npos) {
        throw_usage("credential helper name " + quoted(helper) + where +
                    " is invalid; use the part after docker-credential-, e.g. \"ecr-login\"");
    }
    const std::optional<std::string> executable = find_on_path(program);
    if (!executable) {
        throw_auth("credential helper " + program + " not found on PATH" + where + "; install it or " +
                   (named_in.empty() ? std::string("name another helper") : "remove it from that file"));
    }

    const HelperResult result = exec_helper(*executable, program, server_url, where);
    if (result.exit_code != 0) {
        // Helpers report "credentials not found in native keychain" on stdout; treat it as anonymous.
        if (contains_ignoring_case(result.out, "credentials not found") ||
            contains_ignoring_case(result.err, "credentials not found")) {
            return std::nullopt;
        }
        // A helper that printed a JSON answer and still failed may have printed the secret: never quote JSON.
        const bool looks_like_json = result.out.find('{') != std::string::npos;
        std::string message = looks_like_json ? std::string("(output withheld: it may hold a secret)") : one_line(result.out);
        const std::string err = one_line(result.err);
        if (!err.empty()) {
            message = message.empty() ? err : message + " / " + err;
        }
        if (message.empty()) {
            message = "no output";
        }
        throw_auth("credential helper " + program + where + " failed for " + server_url + " (exit " +
                   std::to_string(result.exit_code) + "): " + message + "; check the helper's login state");
    }

    if (result.out.size() >= k_helper_output_cap) {
        throw_auth("credential helper " + program + where + " wrote more than " + std::to_string(k_helper_output_cap) +
                   " bytes for " + server_url + "; a real answer is a few hundred bytes: check the helper");
    }
    // The output carries the secret, so parse errors never quote it.
    json answer;
    try {
        answer = parse_json_input_unordered(result.out, JsonInput{"credential helper " + program, "", true});
    } catch (const Error&) {
        throw_auth("credential helper " + program + where + " returned output that is not JSON for " + server_url +
                   "; run `printf %s " + server_url + " | " + program + " get` to inspect it");
    }
    if (!answer.is_object()) {
        throw_auth("credential helper " + program + where + " returned JSON that is not an object for " +
                   server_url + "; expected {\"Username\": ..., \"Secret\": ...}");
    }
    auto field = [&](const char* name) -> std::string {
        const auto it = answer.find(name);
        if (it == answer.end() || it->is_null()) {
            return {};
        }
        if (!it->is_string()) {
            throw_auth("credential helper " + program + where + " returned a non-string " + name + " for " +
                       server_url + "; expected {\"Username\": ..., \"Secret\": ...}");
        }
        return it->get<std::string>();
    };
    const std::string username = field("Username");
    const std::string secret = field("Secret");

    Credentials creds;
    if (username == "<token>") {
        creds.identity_token = secret;
    } else {
        creds.username = username;
        creds.password = secret;
    }
    if (creds.empty()) {
        return std::nullopt;
    }
    creds.source = program;
    return creds;
}

// nullopt when the file is absent and nobody asked for it by name.
std::optional<json> load_config(const std::string& path, const std::string& named_by) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) {
        if (named_by.empty()) {
            return std::nullopt;
        }
        throw_usage("registry credentials file " + path + " (from " + named_by +
                    ") does not exist; fix the path or log in first");
    }
    // The shared reader: regular files only (a FIFO never blocks), bounded, read errors reported.
    InputFileOptions options;
    options.max_bytes = k_config_file_cap;
    const std::string content = read_text_file(path, "registry credentials file", options);
    // docker accepts an empty config file; so do we.
    if (content.find_first_not_of(" \t\r\n") == std::string::npos) {
        return json::object();
    }
    // secret: the file holds passwords, so a parse error gives the position only.
    json doc = parse_json_input_unordered(content, JsonInput{"registry credentials file " + path, "; fix or remove it", true});
    if (!doc.is_object()) {
        throw_usage("registry credentials file " + path + " is not a JSON object; fix or remove it");
    }
    return doc;
}

// The object stored under `name`, or an empty one; anything else is a malformed file.
const json& object_member(const json& doc, const char* name, const std::string& path) {
    static const json k_empty = json::object();
    const auto it = doc.find(name);
    if (it == doc.end() || it->is_null()) {
        return k_empty;
    }
    if (!it->is_object()) {
        throw_usage("registry credentials file " + path + ": \"" + name + "\" must be a JSON object; fix the file");
    }
    return *it;
}

Credentials parse_auth_entry(const json& entry, const std::string& key, const std::string& path) {
    const std::string where = "registry credentials file " + path + ": auths[" + quoted(key) + "]";
    if (!entry.is_object()) {
        throw_usage(where + " must be a JSON object; fix the file");
    }
    auto field = [&](const char* name) -> std::string {
        const auto it = entry.find(name);
        if (it == entry.end() || it->is_null()) {
            return {};
        }
        if (!it->is_string()) {
            throw_usage(where + "." + name + " must be a string; fix the file");
        }
        return it->get<std::string>();
    };
    Credentials creds;
    const std::string auth = field("auth");
    if (!auth.empty()) {
        try {
            DecodedAuth decoded = decode_auth_field(auth);
            creds.username = std::move(decoded.username);
            creds.password = std::move(decoded.password);
        } catch (const Error& e) {
            throw_usage(where + ".auth: " + e.what());
        }
    } else {
        creds.username = field("username");
        creds.password = field("password");
    }
    creds.identity_token = field("identitytoken");
    creds.registry_token = field("registrytoken");
    return creds;
}

// Runs (or recalls) the named helper for a server URL; named_in is the file that named it.
using HelperRunner = std::function<std::optional<Credentials>(const std::string& helper, const std::string& server_url,
                                                              const std::string& named_in)>;

std::optional<Credentials> lookup_in_file(const json& doc, const std::string& path, const std::string& registry,
                                          const std::string& repository_path, const HelperRunner& run) {
    const bool hub = is_docker_hub(registry);
    const std::string host = hub ? "docker.io" : registry;
    const std::string server_url = hub ? k_docker_hub_key : registry;
    const std::vector<std::string> host_keys = hub ? k_docker_hub_keys : std::vector<std::string>{registry};
    const std::vector<std::string> hostnames = hub ? k_docker_hub_hosts : std::vector<std::string>{registry};

    // credHelpers beats credsStore; either one saying "not found" leaves the auths section to answer.
    const json& helpers = object_member(doc, "credHelpers", path);
    std::string helper;
    std::string mechanism;
    for (const std::string& key : matching_keys(helpers, host_keys, hostnames)) {
        const json& value = helpers.at(key);
        if (!value.is_string()) {
            throw_usage("registry credentials file " + path + ": credHelpers[" + quoted(key) +
                        "] must be a string; fix the file");
        }
        if (!value.get<std::string>().empty()) {
            helper = value.get<std::string>();
            mechanism = "credHelpers";
            break;
        }
    }
    if (helper.empty()) {
        const auto store = doc.find("credsStore");
        if (store != doc.end() && !store->is_null()) {
            if (!store->is_string()) {
                throw_usage("registry credentials file " + path + ": \"credsStore\" must be a string; fix the file");
            }
            helper = store->get<std::string>();
            mechanism = "credsStore";
        }
    }
    if (!helper.empty()) {
        if (std::optional<Credentials> creds = run(helper, server_url, path)) {
            creds->source = path + " (" + mechanism + ": docker-credential-" + helper + ")";
            return creds;
        }
    }

    // auths: podman namespace keys, most specific first, then the host keys, then legacy URL-style keys.
    std::vector<std::string> exact;
    std::vector<std::string> components;
    std::size_t start = 0;
    while (start < repository_path.size()) {
        std::size_t end = repository_path.find('/', start);
        if (end == std::string::npos) {
            end = repository_path.size();
        }
        if (end > start) {
            components.push_back(repository_path.substr(start, end - start));
        }
        start = end + 1;
    }
    for (std::size_t n = components.size(); n > 0; --n) {
        std::string key = host;
        for (std::size_t i = 0; i < n; ++i) {
            key += "/" + components[i];
        }
        exact.push_back(std::move(key));
    }
    exact.insert(exact.end(), host_keys.begin(), host_keys.end());

    const json& auths = object_member(doc, "auths", path);
    for (const std::string& key : matching_keys(auths, exact, hostnames)) {
        Credentials creds = parse_auth_entry(auths.at(key), key, path);
        // An entry with nothing usable (docker leaves `{}` behind when a credsStore holds the secret) is skipped.
        if (!creds.empty()) {
            creds.source = path + " (auths " + quoted(key) + ")";
            return creds;
        }
    }
    return std::nullopt;
}

}  // namespace

DecodedAuth decode_auth_field(const std::string& base64_value) {
    if (base64_value.empty()) {
        return {};
    }
    const std::string decoded = decode_base64_strict(base64_value);
    const std::size_t colon = decoded.find(':');
    if (colon == std::string::npos || colon == 0) {
        throw_usage("Invalid auth configuration file: the auth field must be base64(\"username:password\") with a "
                    "non-empty username; re-run `docker login`");
    }
    DecodedAuth result;
    result.username = decoded.substr(0, colon);
    // docker/cli trims NUL padding some tools leave around the password.
    const std::size_t first = decoded.find_first_not_of('\0', colon + 1);
    if (first != std::string::npos) {
        const std::size_t last = decoded.find_last_not_of('\0');
        result.password = decoded.substr(first, last - first + 1);
    }
    return result;
}

std::string convert_to_hostname(const std::string& key) {
    std::string stripped = key;
    if (stripped.rfind("http://", 0) == 0) {
        stripped.erase(0, 7);
    } else if (stripped.rfind("https://", 0) == 0) {
        stripped.erase(0, 8);
    }
    return stripped.substr(0, stripped.find('/'));
}

CredentialStore::CredentialStore(std::optional<std::string> explicit_config) {
    auto add = [this](const std::string& path, const std::string& named_by) {
        const std::string normal = fs::path(path).lexically_normal().string();
        for (std::size_t i = 0; i < m_files.size(); ++i) {
            if (m_files[i] == normal) {
                if (m_named_by[i].empty()) {
                    m_named_by[i] = named_by;
                }
                return;
            }
        }
        m_files.push_back(normal);
        m_named_by.push_back(named_by);
    };
    if (explicit_config) {
        m_explicit = true;
        add(*explicit_config, "--registry-config");
        return;
    }
    const std::string home = getenv_string("HOME");
    const std::string docker_config = getenv_string("DOCKER_CONFIG");
    if (!docker_config.empty()) {
        add(docker_config + "/config.json", "");
    }
    if (!home.empty()) {
        add(home + "/.docker/config.json", "");
    }
    const std::string auth_file = getenv_string("REGISTRY_AUTH_FILE");
    const std::string runtime_dir = getenv_string("XDG_RUNTIME_DIR");
    if (!auth_file.empty()) {
        add(auth_file, "REGISTRY_AUTH_FILE");
    } else if (!runtime_dir.empty()) {
        add(runtime_dir + "/containers/auth.json", "");
    } else if (!home.empty()) {
        add(home + "/.config/containers/auth.json", "");
    }
}

CredentialStore::~CredentialStore() = default;

const json* CredentialStore::document(std::size_t file) const {
    std::lock_guard lock(m_files_mutex);
    if (m_documents.size() != m_files.size()) {
        m_documents.resize(m_files.size());
        m_loaded.resize(m_files.size(), false);
    }
    if (!m_loaded[file]) {
        // A file that fails to load is not remembered: the error is reported by whoever asks.
        std::optional<json> doc = load_config(m_files[file], m_named_by[file]);
        if (doc) {
            m_documents[file] = std::make_unique<json>(std::move(*doc));
        }
        m_loaded[file] = true;
    }
    return m_documents[file].get();
}

std::optional<Credentials> CredentialStore::helper_credentials(const std::string& helper,
                                                               const std::string& server_url,
                                                               const std::string& named_in) const {
    std::shared_ptr<HelperAnswer> answer;
    {
        std::lock_guard lock(m_helpers_mutex);
        std::shared_ptr<HelperAnswer>& slot = m_helper_answers[helper + '\n' + server_url];
        if (!slot) {
            slot = std::make_shared<HelperAnswer>();
        }
        answer = slot;
    }
    // A failure is kept too: asking again within the run would only repeat it (or wait out its timeout again).
    std::call_once(answer->once, [&] {
        try {
            answer->credentials = run_helper(helper, server_url, named_in);
        } catch (...) {
            answer->failure = std::current_exception();
        }
    });
    if (answer->failure) {
        std::rethrow_exception(answer->failure);
    }
    return answer->credentials;
}

std::optional<Credentials> CredentialStore::lookup(const std::string& registry,
                                                   const std::string& repository_path) const {
    const HelperRunner run = [this](const std::string& helper, const std::string& server_url,
                                    const std::string& named_in) {
        return helper_credentials(helper, server_url, named_in);
    };
    for (std::size_t i = 0; i < m_files.size(); ++i) {
        const json* doc = document(i);
        if (!doc) {
            continue;
        }
        if (std::optional<Credentials> creds = lookup_in_file(*doc, m_files[i], registry, repository_path, run)) {
            return creds;
        }
    }
    return std::nullopt;
}

std::optional<Credentials> run_credential_helper(const std::string& helper, const std::string& server_url) {
    return run_helper(helper, server_url, "");
}

}  // namespace digestflow::registry
