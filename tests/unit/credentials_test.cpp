// Credential lookup: docker/cli vectors for the auth field and key matching, the file search order with
// temporary config files, and a real `docker-credential-*` helper script on PATH.
#include "digestflow/registry/credentials.hpp"

#include "digestflow/error.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using digestflow::Error;
using digestflow::ErrorKind;
using digestflow::registry::convert_to_hostname;
using digestflow::registry::CredentialStore;
using digestflow::registry::Credentials;
using digestflow::registry::decode_auth_field;
using digestflow::registry::run_credential_helper;
using nlohmann::json;

namespace {

// Every secret the tests plant shares this marker, so one check covers them all.
constexpr const char* k_secret = "s3cr3t-Marker-7f41";

nlohmann::json load_vectors() {
    const std::string path = std::string(DIGESTFLOW_VECTORS_DIR) + "/docker-config-cases.json";
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot open " + path);
    }
    return nlohmann::json::parse(in);
}

std::string base64(const std::string& plain) {
    std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// Runs `fn`, which must throw digestflow::Error of `kind`; returns the message after checking that it is
// one line and carries no planted secret.
std::string error_message(const std::function<void()>& fn, ErrorKind kind) {
    try {
        fn();
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.kind(), kind) << message;
        EXPECT_EQ(message.find(k_secret), std::string::npos) << "secret leaked: " << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << "multi-line message: " << message;
        return message;
    }
    ADD_FAILURE() << "expected digestflow::Error";
    return {};
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

void write_file(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
    ASSERT_TRUE(out.good()) << path;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Vectors from docker/cli

TEST(DecodeAuthVectors, EveryCase) {
    const json vectors = load_vectors();
    const json& cases = vectors.at("decodeAuth");
    ASSERT_EQ(cases.size(), 9u) << "vector file changed size; review the new cases";
    for (const json& c : cases) {
        const std::string auth = c.at("auth").get<std::string>();
        SCOPED_TRACE("auth=" + auth);
        if (c.at("error").is_null()) {
            const auto decoded = decode_auth_field(auth);
            EXPECT_EQ(decoded.username, c.at("username").get<std::string>());
            EXPECT_EQ(decoded.password, c.at("password").get<std::string>());
        } else {
            const std::string message = error_message([&] { decode_auth_field(auth); }, ErrorKind::Usage);
            EXPECT_TRUE(contains(message, c.at("error").get<std::string>())) << message;
            EXPECT_FALSE(contains(message, auth)) << "input echoed: " << message;
        }
    }
}

TEST(ConvertToHostnameVectors, EveryCase) {
    const json vectors = load_vectors();
    const json& cases = vectors.at("ConvertToHostname");
    ASSERT_EQ(cases.size(), 9u) << "vector file changed size; review the new cases";
    for (const json& c : cases) {
        EXPECT_EQ(convert_to_hostname(c.at("input").get<std::string>()), c.at("hostname").get<std::string>())
            << c.at("input");
    }
    EXPECT_EQ(vectors.at("dockerhub_key").get<std::string>(), "https://index.docker.io/v1/");
}

TEST(DecodeAuth, PaddingIsRemovedNotDecodedAsBytes) {
    EXPECT_EQ(decode_auth_field(base64("user:pass1")).password, "pass1");    // one '='
    EXPECT_EQ(decode_auth_field(base64("user:pass12")).password, "pass12");  // two '='
    EXPECT_EQ(decode_auth_field(base64("user:pass123")).password, "pass123");
    EXPECT_EQ(base64("user:pass1").back(), '=');
}

TEST(DecodeAuth, MalformedBase64IsRejected) {
    error_message([] { decode_auth_field("dXNl=jpw"); }, ErrorKind::Usage);       // '=' mid-data
    error_message([] { decode_auth_field("dXNlcjpwYXN"); }, ErrorKind::Usage);    // truncated
    error_message([] { decode_auth_field("dXNlcjpwYXNz="); }, ErrorKind::Usage);  // stray padding
    error_message([] { decode_auth_field("dXNlcjpw YXNz"); }, ErrorKind::Usage);  // space is not skipped
}

TEST(DecodeAuth, LineBreaksAreIgnoredLikeGo) {
    const auto decoded = decode_auth_field("dXNlcjpw\r\nYXNz");
    EXPECT_EQ(decoded.username, "user");
    EXPECT_EQ(decoded.password, "pass");
}

// ---------------------------------------------------------------------------------------------------------
// Lookup through files; every test runs with its own HOME and without the other variables.

class CredentialFiles : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "dftest-creds-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        m_dir = pattern;
        for (const char* name : {"DOCKER_CONFIG", "HOME", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "PATH"}) {
            const char* value = std::getenv(name);
            m_saved[name] = value ? std::optional<std::string>(value) : std::nullopt;
        }
        ::unsetenv("DOCKER_CONFIG");
        ::unsetenv("REGISTRY_AUTH_FILE");
        ::unsetenv("XDG_RUNTIME_DIR");
        fs::create_directories(home());
        ::setenv("HOME", home().c_str(), 1);
    }

    void TearDown() override {
        for (const auto& [name, value] : m_saved) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
        std::error_code ec;
        fs::remove_all(m_dir, ec);
    }

    fs::path home() const { return m_dir / "home"; }
    fs::path docker_config() const { return home() / ".docker" / "config.json"; }
    fs::path helper_runs_file() const { return m_dir / "helper-runs"; }  // docker-credential-dftest adds a line per run
    std::size_t helper_runs() const {
        std::ifstream in(helper_runs_file());
        std::size_t lines = 0;
        for (std::string line; std::getline(in, line);) ++lines;
        return lines;
    }

    static std::string auths(const std::map<std::string, std::string>& user_pass) {
        json doc = {{"auths", json::object()}};
        for (const auto& [key, value] : user_pass) {
            doc["auths"][key] = {{"auth", base64(value)}};
        }
        return doc.dump();
    }

    // Installs the test helper `docker-credential-dftest` (plus two odd ones) and puts it first on PATH.
    void install_helpers() {
        const fs::path bin = m_dir / "bin";
        const std::string secret = k_secret;
        // The request must arrive without a trailing newline: the `x` sentinel keeps one visible.
        write_file(bin / "docker-credential-dftest",
                   "#!/bin/sh\n"
                   "[ \"$1\" = get ] || { echo \"unsupported action $1\"; exit 2; }\n"
                   "echo run >> '" + helper_runs_file().string() + "'\n"
                   "request=$(cat; printf x)\n"
                   "request=${request%x}\n"
                   "case \"$request\" in\n"
                   "good.example.com) printf '{\"ServerURL\":\"%s\",\"Username\":\"robot\",\"Secret\":\"%s\"}\\n' "
                   "\"$request\" \"" + secret + "-helper\" ;;\n"
                   "token.example.com) printf '{\"Username\":\"<token>\",\"Secret\":\"" + secret + "-identity\"}' ;;\n"
                   "https://index.docker.io/v1/) printf '{\"Username\":\"hubuser\",\"Secret\":\"" + secret + "-hub\"}' ;;\n"
                   "missing.example.com) echo 'credentials not found in native keychain'; exit 1 ;;\n"
                   "broken.example.com) echo 'keychain is locked'; echo 'see   the log' >&2; exit 3 ;;\n"
                   "garbage.example.com) echo 'Secret=" + secret + " oops'; exit 0 ;;\n"
                   "empty.example.com) echo '{}' ;;\n"
                   "leaky.example.com) printf '{\"Username\":\"u\",\"Secret\":\"" + secret + "-leaky\"}'; exit 5 ;;\n"
                   "*) echo \"unexpected request [$request]\"; exit 4 ;;\n"
                   "esac\n");
        // Floods stderr past the pipe buffer before answering: reading must not deadlock.
        write_file(bin / "docker-credential-dfnoisy",
                   "#!/bin/sh\n"
                   "cat >/dev/null\n"
                   "head -c 300000 /dev/zero | tr '\\0' e >&2\n"
                   "printf '{\"Username\":\"noisy\",\"Secret\":\"" + secret + "-noisy\"}'\n");
        // Exits without reading stdin: writing the request must not kill the test with SIGPIPE.
        write_file(bin / "docker-credential-dfquick",
                   "#!/bin/sh\n"
                   "exec 0<&-\n"
                   "echo 'credentials not found in native keychain'\n"
                   "exit 1\n");
        for (const char* name : {"docker-credential-dftest", "docker-credential-dfnoisy", "docker-credential-dfquick"}) {
            fs::permissions(bin / name, fs::perms::owner_all, fs::perm_options::replace);
        }
        const std::string old_path = m_saved["PATH"].value_or("/usr/bin:/bin");
        ::setenv("PATH", (bin.string() + ":" + old_path).c_str(), 1);
    }

    fs::path m_dir;
    std::map<std::string, std::optional<std::string>> m_saved;
};

TEST_F(CredentialFiles, MissingDefaultFilesMeanAnonymous) {
    const CredentialStore store;
    EXPECT_FALSE(store.lookup("registry.example.com", "team/app").has_value());
    const std::vector<std::string> want = {docker_config().string(),
                                           (home() / ".config/containers/auth.json").string()};
    EXPECT_EQ(store.files(), want);
}

TEST_F(CredentialFiles, ExactHostKey) {
    write_file(docker_config(), auths({{"registry.example.com:5000", std::string("alice:") + k_secret}}));
    const auto creds = CredentialStore().lookup("registry.example.com:5000", "team/app");
    ASSERT_TRUE(creds.has_value());
    EXPECT_EQ(creds->username, "alice");
    EXPECT_EQ(creds->password, k_secret);
    EXPECT_EQ(creds->source, docker_config().string() + " (auths \"registry.example.com:5000\")");
    EXPECT_FALSE(CredentialStore().lookup("registry.example.com", "team/app").has_value());
}

TEST_F(CredentialFiles, UrlStyleKeysMatchByHostname) {
    write_file(docker_config(), auths({{"https://registry.example.com/v2/", "bob:pw"},
                                       {"http://plain.example.com", "carol:pw"},
                                       {"other.example.com/v1/", "dave:pw"}}));
    const CredentialStore store;
    EXPECT_EQ(store.lookup("registry.example.com", "a")->username, "bob");
    EXPECT_EQ(store.lookup("plain.example.com", "a")->username, "carol");
    EXPECT_EQ(store.lookup("other.example.com", "a")->username, "dave");
}

TEST_F(CredentialFiles, NamespaceKeyDoesNotLeakToOtherRepositories) {
    write_file(docker_config(), auths({{"registry.example.com/team/app", "scoped:pw"}}));
    const CredentialStore store;
    EXPECT_EQ(store.lookup("registry.example.com", "team/app")->username, "scoped");
    EXPECT_FALSE(store.lookup("registry.example.com", "team/other").has_value());
}

TEST_F(CredentialFiles, DockerHubKeys) {
    const std::vector<std::string> keys = {"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io",
                                           "docker.io", "index.docker.io/v1/", "https://index.docker.io/v1"};
    for (const std::string& key : keys) {
        SCOPED_TRACE(key);
        write_file(docker_config(), auths({{key, "hub:pw"}}));
        const auto creds = CredentialStore().lookup("docker.io", "library/ubuntu");
        ASSERT_TRUE(creds.has_value());
        EXPECT_EQ(creds->username, "hub");
        EXPECT_TRUE(contains(creds->source, "\"" + key + "\"")) << creds->source;
    }
    // docker's own key wins over podman's when both exist.
    write_file(docker_config(), auths({{"docker.io", "podman:pw"}, {"https://index.docker.io/v1/", "docker:pw"}}));
    EXPECT_EQ(CredentialStore().lookup("docker.io", "library/ubuntu")->username, "docker");
}

TEST_F(CredentialFiles, NamespaceKeysInAuthJsonLongestFirst) {
    const fs::path runtime = m_dir / "run";
    ::setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
    const fs::path auth_json = runtime / "containers" / "auth.json";
    write_file(auth_json, auths({{"quay.io/team/app", "app:pw"},
                                 {"quay.io/team", "team:pw"},
                                 {"quay.io", "host:pw"},
                                 {"docker.io/library", "official:pw"},
                                 {"docker.io", "hub:pw"}}));
    const CredentialStore store;
    EXPECT_EQ(store.files().back(), auth_json.string());
    EXPECT_EQ(store.lookup("quay.io", "team/app/sub")->username, "app");
    EXPECT_EQ(store.lookup("quay.io", "team/app")->username, "app");
    EXPECT_EQ(store.lookup("quay.io", "team/other")->username, "team");
    EXPECT_EQ(store.lookup("quay.io", "someone/else")->username, "host");
    EXPECT_EQ(store.lookup("docker.io", "library/ubuntu")->username, "official");
    EXPECT_EQ(store.lookup("docker.io", "someone/tool")->username, "hub");
    EXPECT_EQ(store.lookup("quay.io", "team/app")->source, auth_json.string() + " (auths \"quay.io/team/app\")");
}

TEST_F(CredentialFiles, ContainersAuthJsonUnderHomeWithoutRuntimeDir) {
    write_file(home() / ".config/containers/auth.json", auths({{"ghcr.io", "gh:pw"}}));
    EXPECT_EQ(CredentialStore().lookup("ghcr.io", "org/app")->username, "gh");
}

TEST_F(CredentialFiles, SearchOrderDockerConfigThenHomeThenAuthFile) {
    const fs::path custom = m_dir / "custom";
    ::setenv("DOCKER_CONFIG", custom.c_str(), 1);
    const fs::path auth_file = m_dir / "auth.json";
    ::setenv("REGISTRY_AUTH_FILE", auth_file.c_str(), 1);
    ::setenv("XDG_RUNTIME_DIR", (m_dir / "run").c_str(), 1);  // ignored: REGISTRY_AUTH_FILE wins
    write_file(custom / "config.json", auths({{"a.example.com", "from-docker-config:pw"}}));
    write_file(docker_config(), auths({{"a.example.com", "from-home:pw"}, {"b.example.com", "from-home:pw"}}));
    write_file(auth_file, auths({{"a.example.com", "from-auth-file:pw"},
                                 {"b.example.com", "from-auth-file:pw"},
                                 {"c.example.com", "from-auth-file:pw"}}));
    const CredentialStore store;
    const std::vector<std::string> want = {(custom / "config.json").string(), docker_config().string(),
                                           auth_file.string()};
    EXPECT_EQ(store.files(), want);
    EXPECT_EQ(store.lookup("a.example.com", "x")->username, "from-docker-config");
    EXPECT_EQ(store.lookup("b.example.com", "x")->username, "from-home");
    EXPECT_EQ(store.lookup("c.example.com", "x")->username, "from-auth-file");
}

TEST_F(CredentialFiles, EntryFieldsAndTokens) {
    json doc = {{"auths",
                 {{"plain.example.com", {{"username", "u1"}, {"password", "p1"}}},
                  {"both.example.com", {{"auth", base64("fromauth:p2")}, {"username", "ignored"}}},
                  {"idt.example.com", {{"auth", base64("u3:")}, {"identitytoken", "refresh-3"}}},
                  {"rt.example.com", {{"registrytoken", "bearer-4"}}},
                  {"emptyauth.example.com", {{"auth", ""}, {"username", "u5"}, {"password", "p5"}}}}}};
    write_file(docker_config(), doc.dump());
    const CredentialStore store;
    auto plain = store.lookup("plain.example.com", "x");
    EXPECT_EQ(plain->username, "u1");
    EXPECT_EQ(plain->password, "p1");
    EXPECT_EQ(store.lookup("both.example.com", "x")->username, "fromauth");
    auto idt = store.lookup("idt.example.com", "x");
    EXPECT_EQ(idt->username, "u3");
    EXPECT_EQ(idt->password, "");
    EXPECT_EQ(idt->identity_token, "refresh-3");
    auto rt = store.lookup("rt.example.com", "x");
    EXPECT_EQ(rt->registry_token, "bearer-4");
    EXPECT_TRUE(rt->username.empty());
    EXPECT_EQ(store.lookup("emptyauth.example.com", "x")->password, "p5");
}

TEST_F(CredentialFiles, EntryWithNothingUsableIsSkipped) {
    write_file(docker_config(), R"({"auths": {"ghcr.io": {}, "quay.io": {"auth": ""}}})");
    write_file(home() / ".config/containers/auth.json", auths({{"ghcr.io", "later:pw"}}));
    const CredentialStore store;
    EXPECT_EQ(store.lookup("ghcr.io", "x")->username, "later");
    EXPECT_FALSE(store.lookup("quay.io", "x").has_value());
}

TEST_F(CredentialFiles, ExplicitConfigIsUsedAlone) {
    write_file(docker_config(), auths({{"a.example.com", "default:pw"}}));
    const fs::path explicit_file = m_dir / "ci" / "registry.json";
    write_file(explicit_file, auths({{"b.example.com", "explicit:pw"}}));
    const CredentialStore store(explicit_file.string());
    EXPECT_EQ(store.files(), std::vector<std::string>{explicit_file.string()});
    EXPECT_FALSE(store.lookup("a.example.com", "x").has_value());
    const auto creds = store.lookup("b.example.com", "x");
    EXPECT_EQ(creds->username, "explicit");
    EXPECT_TRUE(contains(creds->source, explicit_file.string()));
}

TEST_F(CredentialFiles, MissingExplicitFileIsUsageError) {
    const std::string missing = (m_dir / "nope.json").string();
    const CredentialStore store(missing);
    const std::string message = error_message([&] { store.lookup("a.example.com", "x"); }, ErrorKind::Usage);
    EXPECT_TRUE(contains(message, missing)) << message;
    EXPECT_TRUE(contains(message, "--registry-config")) << message;
}

TEST_F(CredentialFiles, MissingRegistryAuthFileIsUsageError) {
    const std::string missing = (m_dir / "nope-auth.json").string();
    ::setenv("REGISTRY_AUTH_FILE", missing.c_str(), 1);
    const CredentialStore store;
    const std::string message = error_message([&] { store.lookup("a.example.com", "x"); }, ErrorKind::Usage);
    EXPECT_TRUE(contains(message, missing)) << message;
    EXPECT_TRUE(contains(message, "REGISTRY_AUTH_FILE")) << message;
}

TEST_F(CredentialFiles, MalformedJsonIsUsageErrorNamingFile) {
    write_file(docker_config(), std::string(R"({"auths": {"a.example.com": {"auth": ")") + k_secret + "\" ");
    const std::string message = error_message([] { CredentialStore().lookup("a.example.com", "x"); },
                                              ErrorKind::Usage);
    EXPECT_TRUE(contains(message, docker_config().string())) << message;
}

TEST_F(CredentialFiles, WrongShapesAreUsageErrors) {
    for (const std::string& content : {std::string(R"([1, 2])"), std::string(R"({"auths": []})"),
                                       std::string(R"({"auths": {"a.example.com": {"password": 7}}})"),
                                       std::string(R"({"credHelpers": {"a.example.com": 1}})"),
                                       std::string(R"({"credsStore": {}})")}) {
        SCOPED_TRACE(content);
        write_file(docker_config(), content);
        const std::string message = error_message([] { CredentialStore().lookup("a.example.com", "x"); },
                                                  ErrorKind::Usage);
        EXPECT_TRUE(contains(message, docker_config().string())) << message;
    }
}

TEST_F(CredentialFiles, EmptyFileIsTolerated) {
    write_file(docker_config(), "\n");
    EXPECT_FALSE(CredentialStore().lookup("a.example.com", "x").has_value());
}

TEST_F(CredentialFiles, UndecodableAuthNamesFileAndKeyButNotValue) {
    write_file(docker_config(), auths({{"a.example.com", std::string("no-colon-") + k_secret}}));
    const std::string message = error_message([] { CredentialStore().lookup("a.example.com", "x"); },
                                              ErrorKind::Usage);
    EXPECT_TRUE(contains(message, docker_config().string())) << message;
    EXPECT_TRUE(contains(message, "a.example.com")) << message;
    EXPECT_TRUE(contains(message, "Invalid auth configuration file")) << message;
    EXPECT_FALSE(contains(message, base64(std::string("no-colon-") + k_secret))) << message;
}

// ---------------------------------------------------------------------------------------------------------
// Credential helpers

TEST_F(CredentialFiles, HelperAnswersNotFoundAndFails) {
    install_helpers();
    const auto good = run_credential_helper("dftest", "good.example.com");
    ASSERT_TRUE(good.has_value());
    EXPECT_EQ(good->username, "robot");
    EXPECT_EQ(good->password, std::string(k_secret) + "-helper");
    EXPECT_TRUE(good->identity_token.empty());
    EXPECT_EQ(good->source, "docker-credential-dftest");

    EXPECT_FALSE(run_credential_helper("dftest", "missing.example.com").has_value());

    const std::string message = error_message([] { run_credential_helper("dftest", "broken.example.com"); },
                                              ErrorKind::Auth);
    EXPECT_TRUE(contains(message, "docker-credential-dftest")) << message;
    EXPECT_TRUE(contains(message, "keychain is locked")) << message;
    EXPECT_TRUE(contains(message, "see the log")) << message;  // stderr too, whitespace collapsed
    EXPECT_TRUE(contains(message, "exit 3")) << message;
}

TEST_F(CredentialFiles, HelperTokenUsernameMeansIdentityToken) {
    install_helpers();
    const auto creds = run_credential_helper("dftest", "token.example.com");
    ASSERT_TRUE(creds.has_value());
    EXPECT_TRUE(creds->username.empty());
    EXPECT_TRUE(creds->password.empty());
    EXPECT_EQ(creds->identity_token, std::string(k_secret) + "-identity");
}

TEST_F(CredentialFiles, HelperEmptyAnswerIsNoCredentials) {
    install_helpers();
    EXPECT_FALSE(run_credential_helper("dftest", "empty.example.com").has_value());
}

TEST_F(CredentialFiles, FailingHelperThatPrintedJsonIsNotQuoted) {
    install_helpers();
    const std::string message = error_message([] { run_credential_helper("dftest", "leaky.example.com"); },
                                              ErrorKind::Auth);
    EXPECT_FALSE(contains(message, k_secret)) << message;
    EXPECT_TRUE(contains(message, "exit 5")) << message;
}

TEST_F(CredentialFiles, HelperNonJsonOutputIsNotEchoed) {
    install_helpers();
    const std::string message = error_message([] { run_credential_helper("dftest", "garbage.example.com"); },
                                              ErrorKind::Auth);
    EXPECT_TRUE(contains(message, "not JSON")) << message;
}

TEST_F(CredentialFiles, HelperNotOnPath) {
    install_helpers();
    const std::string direct = error_message([] { run_credential_helper("dfabsent", "a.example.com"); },
                                             ErrorKind::Auth);
    EXPECT_TRUE(contains(direct, "credential helper docker-credential-dfabsent not found on PATH")) << direct;

    write_file(docker_config(), R"({"credHelpers": {"a.example.com": "dfabsent"}})");
    const std::string via_file = error_message([] { CredentialStore().lookup("a.example.com", "x"); },
                                               ErrorKind::Auth);
    EXPECT_TRUE(contains(via_file, "credential helper docker-credential-dfabsent not found on PATH (named in " +
                                       docker_config().string() + ")"))
        << via_file;
}

TEST_F(CredentialFiles, HelperWithStderrFloodAndEarlyExit) {
    install_helpers();
    const auto noisy = run_credential_helper("dfnoisy", "a.example.com");
    ASSERT_TRUE(noisy.has_value());
    EXPECT_EQ(noisy->username, "noisy");
    for (int i = 0; i < 20; ++i) {
        EXPECT_FALSE(run_credential_helper("dfquick", "a.example.com").has_value());
    }
}

TEST_F(CredentialFiles, CredHelpersWinsOverAuths) {
    install_helpers();
    json doc = {{"credHelpers", {{"good.example.com", "dftest"}, {"missing.example.com", "dftest"}}},
                {"auths",
                 {{"good.example.com", {{"auth", base64("fromfile:pw")}}},
                  {"missing.example.com", {{"auth", base64("fallback:pw")}}}}}};
    write_file(docker_config(), doc.dump());
    const CredentialStore store;
    const auto good = store.lookup("good.example.com", "x");
    EXPECT_EQ(good->username, "robot");
    EXPECT_EQ(good->source, docker_config().string() + " (credHelpers: docker-credential-dftest)");
    // The helper has nothing for this host, so the auths entry answers.
    EXPECT_EQ(store.lookup("missing.example.com", "x")->username, "fallback");
}

TEST_F(CredentialFiles, CredsStoreFallsThroughOnNotFound) {
    install_helpers();
    json doc = {{"credsStore", "dftest"},
                {"auths", {{"missing.example.com", {{"auth", base64("fallback:pw")}}}, {"good.example.com", json::object()}}}};
    write_file(docker_config(), doc.dump());
    const CredentialStore store;
    const auto good = store.lookup("good.example.com", "x");
    EXPECT_EQ(good->username, "robot");
    EXPECT_EQ(good->source, docker_config().string() + " (credsStore: docker-credential-dftest)");
    const auto missing = store.lookup("missing.example.com", "x");
    EXPECT_EQ(missing->username, "fallback");
    EXPECT_EQ(missing->source, docker_config().string() + " (auths \"missing.example.com\")");

    const std::string message = error_message([&] { store.lookup("broken.example.com", "x"); }, ErrorKind::Auth);
    EXPECT_TRUE(contains(message, "docker-credential-dftest")) << message;
    EXPECT_TRUE(contains(message, "keychain is locked")) << message;
    EXPECT_TRUE(contains(message, docker_config().string())) << message;
}

// Issue 7 (found in review): the helper ran once per repository and the file was read for each lookup.
TEST_F(CredentialFiles, OneStoreAsksEachHelperOncePerServerAndReadsEachFileOnce) {
    install_helpers();
    json doc = {{"credHelpers", {{"good.example.com", "dftest"}, {"missing.example.com", "dftest"},
                                 {"broken.example.com", "dftest"}}},
                {"auths", {{"missing.example.com", {{"auth", base64("fallback:pw")}}}}}};
    write_file(docker_config(), doc.dump());
    const CredentialStore store;
    EXPECT_EQ(store.lookup("good.example.com", "team/a").value_or(Credentials{}).username, "robot");
    EXPECT_EQ(store.lookup("good.example.com", "team/b").value_or(Credentials{}).username, "robot");
    EXPECT_EQ(helper_runs(), 1u) << "two repositories of one server";
    // "Not found" is an answer too.
    EXPECT_EQ(store.lookup("missing.example.com", "team/a").value_or(Credentials{}).username, "fallback");
    EXPECT_EQ(store.lookup("missing.example.com", "team/b").value_or(Credentials{}).username, "fallback");
    EXPECT_EQ(helper_runs(), 2u);
    // So is a failure: the same error again, without running the helper again.
    for (int i = 0; i < 2; ++i) {
        const std::string message = error_message([&] { store.lookup("broken.example.com", "x"); }, ErrorKind::Auth);
        EXPECT_TRUE(contains(message, "keychain is locked")) << message;
    }
    EXPECT_EQ(helper_runs(), 3u);
    // The file was read once: the store does not see it change (a new store does).
    write_file(docker_config(), "{}");
    const auto again = store.lookup("good.example.com", "team/c");
    ASSERT_TRUE(again.has_value()) << "the file was read again";
    EXPECT_EQ(again->username, "robot");
    EXPECT_FALSE(CredentialStore().lookup("good.example.com", "team/c").has_value());
}

TEST_F(CredentialFiles, ThreadsAskingAtOnceWaitForOneHelperRun) {
    install_helpers();
    write_file(docker_config(), R"({"credsStore": "dftest"})");
    const CredentialStore store;
    std::vector<std::thread> threads;
    std::atomic<int> answered{0};
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            auto creds = store.lookup("good.example.com", "team/app-" + std::to_string(i));
            if (creds && creds->username == "robot") ++answered;
        });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(answered.load(), 8);
    EXPECT_EQ(helper_runs(), 1u);
}

TEST_F(CredentialFiles, DockerHubHelperIsAskedForIndexUrl) {
    install_helpers();
    write_file(docker_config(), R"({"credHelpers": {"https://index.docker.io/v1/": "dftest"}})");
    EXPECT_EQ(CredentialStore().lookup("docker.io", "library/ubuntu")->username, "hubuser");
    write_file(docker_config(), R"({"credsStore": "dftest"})");
    EXPECT_EQ(CredentialStore().lookup("docker.io", "library/ubuntu")->username, "hubuser");
}

// Issue 6 #15-#19: credential files go through the shared bounded reader and strict parser: a FIFO, a device,
// a directory, deep nesting, a number overflow or a duplicate key is a usage error naming the file (never a
// hang, an unbounded read, a crash, exit 3, or "anonymous").
TEST_F(CredentialFiles, HostileFilesAreUsageErrorsNamingTheFile) {
    const fs::path fifo = m_dir / "fifo.json";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const fs::path folder = m_dir / "folder.json";
    fs::create_directories(folder);
    const fs::path deep = m_dir / "deep.json";
    write_file(deep, std::string(100000, '[') + std::string(100000, ']'));
    const fs::path overflow = m_dir / "overflow.json";
    write_file(overflow, R"({"auths": {}, "n": 1e400})");
    const fs::path duplicate = m_dir / "duplicate.json";
    write_file(duplicate, std::string(R"({"auths": {"a.example.com": {"auth": ")") + base64("u:" + std::string(k_secret)) +
                              R"("}, "a.example.com": {}}})");
    const std::vector<std::pair<fs::path, std::string>> cases = {
        {fifo, "is a FIFO"},
        {"/dev/zero", "is a device"},
        {folder, "is a directory"},
        {deep, "nested deeper than"},
        {overflow, "number overflow"},
        {duplicate, "duplicate key \"auths.a.example.com\""},
    };
    for (const auto& [path, expected] : cases) {
        SCOPED_TRACE(path.string());
        const CredentialStore store(path.string());
        const std::string message = error_message([&] { store.lookup("a.example.com", "x"); }, ErrorKind::Usage);
        EXPECT_TRUE(contains(message, "registry credentials file " + path.string())) << message;
        EXPECT_TRUE(contains(message, expected)) << message;
    }
}
