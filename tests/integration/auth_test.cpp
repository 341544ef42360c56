// Registry authentication end to end: htpasswd basic auth with config.json credentials and with a credential
// helper, and the bearer-token flow against a registry configured for token auth. Secrets never printed.
#include "support/buildah.hpp"
#include "support/counting_proxy.hpp"
#include "support/proxied_token_registry.hpp"
#include "support/registry_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_material.hpp"
#include "support/token_server.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <sstream>

namespace digestflow::testsupport {
namespace {

const std::string user = "ci-bot";
const std::string password = "Xy9-very-secret-pw";
const std::string wrong_password = "Wr0ng-secret-guess";

// A docker config folder whose config.json holds `content`.
std::string config_dir(const TempDir& work, const std::string& name, const std::string& content) {
    std::string dir = work.file(name);
    std::filesystem::create_directories(dir);
    write_text_file(dir + "/config.json", content);
    return dir;
}

std::string auths_config(const std::string& host, const std::string& secret) {
    return R"({"auths": {")" + host + R"(": {"auth": ")" + base64_text(user + ":" + secret) + R"("}}})";
}

void expect_no_secret(const RunResult& run) {
    for (const auto& secret : {password, wrong_password, base64_text(user + ":" + password), base64_text(user + ":" + wrong_password)}) {
        EXPECT_EQ(run.stdout_text.find(secret), std::string::npos) << "secret printed on stdout";
        EXPECT_EQ(run.stderr_text.find(secret), std::string::npos) << "secret printed on stderr";
    }
}

// A folder holding docker-credential-dftest, which answers for `host` and appends a line to `runs_file` each
// time it runs (so tests can count helper runs).
std::string helper_bin(const TempDir& work, const std::string& host, const std::string& runs_file = "/dev/null") {
    std::string bin = work.file("bin");
    std::filesystem::create_directories(bin);
    std::string helper = bin + "/docker-credential-dftest";
    write_text_file(helper, "#!/bin/sh\n"
                            "[ \"$1\" = get ] || exit 3\n"
                            "echo run >> '" + runs_file + "'\n"
                            "read -r server\n"
                            "if [ \"$server\" = \"" + host + "\" ]; then\n"
                            "  printf '{\"Username\":\"" + user + "\",\"Secret\":\"" + password + "\"}'\n"
                            "else echo 'credentials not found in native keychain'; exit 1; fi\n");
    std::filesystem::permissions(helper, std::filesystem::perms::owner_all);
    return bin;
}

size_t line_count(const std::string& path) {
    if (!std::filesystem::exists(path)) return 0;
    std::string text = read_text_file(path);
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class BasicAuth : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        registry = new Registry(RegistryOptions().with_user(user, password));
        Buildah buildah;
        buildah.build_scratch_image("app");
        digest = buildah.push("app", registry->host() + "/team/app:1.0", RemoteOptions{false}.with_creds(user, password));
    }
    static void TearDownTestSuite() { delete registry; }
    std::string image() const { return registry->host() + "/team/app:1.0"; }

    static Registry* registry;
    static std::string digest;
    TempDir work{"digestflow-auth"};
};
Registry* BasicAuth::registry = nullptr;
std::string BasicAuth::digest;

TEST_F(BasicAuth, ConfigJsonCredentialsWork) {
    auto dir = config_dir(work, "docker", auths_config(registry->host(), password));
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json"), "--json"},
                        {{"DOCKER_CONFIG", dir}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["image"]["digest"], digest);
    expect_no_secret(run);
}

TEST_F(BasicAuth, RegistryConfigFlagNamesTheFile) {
    auto dir = config_dir(work, "elsewhere", auths_config("http://" + registry->host(), password));
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json"),
                                           "--registry-config", dir + "/config.json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
}

TEST_F(BasicAuth, CredentialHelperWorks) {
    std::string bin = helper_bin(work, registry->host());
    auto dir = config_dir(work, "docker", R"({"credHelpers": {")" + registry->host() + R"(": "dftest"}})");
    std::string path = bin + ":" + std::getenv("PATH");
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json")},
                   {{"DOCKER_CONFIG", dir}, {"PATH", path}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    run = run_tool("verify-digest", {"--artifact", work.file("a.json"), "--ref", image(), "--content"},
                   {{"DOCKER_CONFIG", dir}, {"PATH", path}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    expect_no_secret(run);
}

// Issue 7 (found in review): the helper ran once per repository, 4 times for 3 destinations on one registry.
TEST_F(BasicAuth, CredentialHelperRunsOncePerRegistry) {
    std::string runs = work.file("helper-runs");
    std::string path = helper_bin(work, registry->host(), runs) + ":" + std::getenv("PATH");
    auto dir = config_dir(work, "docker", R"({"credHelpers": {")" + registry->host() + R"(": "dftest"}})");
    std::string from = registry->host() + "/team/app@" + digest;
    auto run = run_tool("retag", {"--source", from, "--to", registry->host() + "/team/helper-a:1", "--to",
                                  registry->host() + "/team/helper-b:1", "--to", registry->host() + "/team/helper-c:1"},
                        {{"DOCKER_CONFIG", dir}, {"PATH", path}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(line_count(runs), 1u) << "helper runs for 3 destination repositories on one registry";
    expect_no_secret(run);
}

// Parallel workers asking at once wait for the one helper run.
TEST_F(BasicAuth, CredentialHelperRunsOnceForAParallelList) {
    std::string runs = work.file("helper-runs");
    std::string path = helper_bin(work, registry->host(), runs) + ":" + std::getenv("PATH");
    auto dir = config_dir(work, "docker", R"({"credHelpers": {")" + registry->host() + R"(": "dftest"}})");
    std::string list;
    for (int i = 0; i < 6; ++i)
        list += R"({"source": ")" + registry->host() + "/team/app@" + digest + R"(", "to": ")" + registry->host() +
                "/team/helper-list-" + std::to_string(i) + ":1.0\"}\n";
    write_text_file(work.file("list.jsonl"), list);
    auto run = run_tool("retag", {"--from-list", work.file("list.jsonl"), "-j", "4"},
                        {{"DOCKER_CONFIG", dir}, {"PATH", path}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_NE(run.stdout_text.find("6 promoted, 0 failed"), std::string::npos) << run.stdout_text;
    EXPECT_EQ(line_count(runs), 1u) << "helper runs for 6 promotions on one registry with -j 4";
    expect_no_secret(run);
}

TEST_F(BasicAuth, WrongPasswordIsExit4AndNotPrinted) {
    auto dir = config_dir(work, "docker", auths_config(registry->host(), wrong_password));
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json"), "--json"},
                        {{"DOCKER_CONFIG", dir}});
    EXPECT_EQ(run.exit_code, 4) << run.describe();
    EXPECT_NE(run.stderr_text.find(dir + "/config.json"), std::string::npos) << "names where the credentials came from";
    expect_no_secret(run);
}

TEST_F(BasicAuth, NoCredentialsIsExit4) {
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json")});
    EXPECT_EQ(run.exit_code, 4) << run.describe();
    EXPECT_NE(run.stderr_text.find("anonymous"), std::string::npos) << run.stderr_text;
}

class TokenAuth : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        tls = new TlsMaterial();
        tokens = new TokenServer(*tls, TokenServerOptions().with_user(user, password));
        registry = new Registry(RegistryOptions().with_token_auth(tokens->registry_auth()));
        Buildah buildah;
        buildah.build_scratch_image("app");
        digest = buildah.push("app", registry->host() + "/team/app:1.0", RemoteOptions{false}.with_creds(user, password));
    }
    static void TearDownTestSuite() {
        delete registry;
        delete tokens;
        delete tls;
    }
    std::string image() const { return registry->host() + "/team/app:1.0"; }

    static TlsMaterial* tls;
    static TokenServer* tokens;
    static Registry* registry;
    static std::string digest;
    TempDir work{"digestflow-token"};
};
TlsMaterial* TokenAuth::tls = nullptr;
TokenServer* TokenAuth::tokens = nullptr;
Registry* TokenAuth::registry = nullptr;
std::string TokenAuth::digest;

TEST_F(TokenAuth, BearerFlowWithOneTokenPerScopePerProcess) {
    auto dir = config_dir(work, "docker", auths_config(registry->host(), password));
    ASSERT_EQ(run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json")},
                       {{"DOCKER_CONFIG", dir}}).exit_code, 0);
    // --ref alone: one HEAD, one pull token.
    tokens->reset_counters();
    auto ref_only = run_tool("verify-digest", {"--artifact", work.file("a.json"), "--ref", image(), "--json"},
                             {{"DOCKER_CONFIG", dir}});
    ASSERT_EQ(ref_only.exit_code, 0) << ref_only.describe();
    EXPECT_EQ(tokens->request_count(), 1u);
    RecordProperty("ref_requests", json_output(ref_only)["requests"].get<int>());
    tokens->reset_counters();
    auto run = run_tool("verify-digest", {"--artifact", work.file("a.json"), "--ref", image(), "--content", "--json"},
                        {{"DOCKER_CONFIG", dir}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["digest"], digest);
    RecordProperty("requests", json_output(run)["requests"].get<int>());
    // HEAD, manifest GET and two blob GETs share one pull token.
    ASSERT_EQ(tokens->request_count(), 1u);
    auto record = tokens->requests().front();
    EXPECT_EQ(record.user, user);
    EXPECT_EQ(record.scopes, std::vector<std::string>{"repository:team/app:pull"});
    expect_no_secret(run);
}

// Parallel workers all meet the registry's first 401 before anyone knows the challenge: each must still
// authenticate, and the token server is asked once per scope set. Over TLS, so no plain-HTTP fallback spaces
// the workers out.
TEST_F(TokenAuth, ParallelWorkersAllAuthenticate) {
    Registry secure(RegistryOptions().with_tls(*tls).with_token_auth(tokens->registry_auth()));
    Buildah buildah;
    buildah.build_scratch_image("app");
    std::string pushed = buildah.push("app", secure.host() + "/team/app:1.0", secure.client_options().with_creds(user, password));
    auto dir = config_dir(work, "docker", auths_config(secure.host(), password));
    std::string list;
    for (int i = 0; i < 4; ++i)
        list += R"({"source": ")" + secure.host() + "/team/app@" + pushed + R"(", "to": ")" + secure.host() +
                "/team/copy-" + std::to_string(i) + ":1.0\"}\n";
    write_text_file(work.file("list.jsonl"), list);
    tokens->reset_counters();
    auto run = run_tool("retag", {"--from-list", work.file("list.jsonl"), "-j", "4", "--ca-file", tls->ca_cert()},
                        {{"DOCKER_CONFIG", dir}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_NE(run.stdout_text.find("4 promoted, 0 failed"), std::string::npos) << run.stdout_text;
    std::set<std::string> distinct;
    for (const auto& record : tokens->requests()) {
        std::string key;
        for (const auto& scope : record.scopes) key += scope + " ";
        EXPECT_TRUE(distinct.insert(key).second) << "asked twice for " << key;
    }
    expect_no_secret(run);
}

std::string scopes_text(const std::vector<TokenRequestRecord>& records) {
    std::string text;
    for (const auto& record : records) {
        text += "\n  token request:";
        for (const auto& scope : record.scopes) text += " " + scope;
    }
    return text;
}

// Issue 7 (found in review): each destination repository got a pull token for its lookups and a pull,push
// token for its writes (10 token requests here). One token asked for pull,push and the mount sources' pull
// serves the lookups, the mounts and the PUTs of a destination.
TEST_F(TokenAuth, OneTokenPerDestinationRepository) {
    std::string runs = work.file("helper-runs");
    std::string path = helper_bin(work, registry->host(), runs) + ":" + std::getenv("PATH");
    auto dir = config_dir(work, "docker", R"({"credHelpers": {")" + registry->host() + R"(": "dftest"}})");
    tokens->reset_counters();
    auto run = run_tool("retag", {"--source", registry->host() + "/team/app@" + digest, "--to",
                                  registry->host() + "/team/token-a:1", "--to", registry->host() + "/team/token-b:1",
                                  "--to", registry->host() + "/team/token-c:1", "--json"},
                        {{"DOCKER_CONFIG", dir}, {"PATH", path}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    // One per destination repository: the first destination's (pull,push, and pull on the source and the
    // other destinations it may mount from) also serves the source's GET, which comes after the guard.
    EXPECT_EQ(tokens->request_count(), 3u) << scopes_text(tokens->requests());
    EXPECT_EQ(line_count(runs), 1u) << "credential helper runs";
    RecordProperty("helper_runs", static_cast<int>(line_count(runs)));
    // For the report (--gtest_output=xml): the run's HTTP requests, token requests included.
    RecordProperty("requests", json_output(run)["requests"].get<int>());
    RecordProperty("token_requests", static_cast<int>(tokens->request_count()));
    expect_no_secret(run);
}

TEST_F(TokenAuth, SameRepositoryTagNeedsOneToken) {
    auto dir = config_dir(work, "docker", auths_config(registry->host(), password));
    tokens->reset_counters();
    auto run = run_tool("retag", {"--source", registry->host() + "/team/app@" + digest, "--tag", "same-repo", "--json"},
                        {{"DOCKER_CONFIG", dir}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    RecordProperty("requests", json_output(run)["requests"].get<int>());
    RecordProperty("token_requests", static_cast<int>(tokens->request_count()));
    ASSERT_EQ(tokens->request_count(), 1u) << scopes_text(tokens->requests());
    EXPECT_EQ(tokens->requests().front().scopes, std::vector<std::string>{"repository:team/app:pull,push"});
}

size_t faulted(const CountingProxy& proxy) {
    auto requests = proxy.requests();
    return static_cast<size_t>(std::count_if(requests.begin(), requests.end(), [](const RequestLine& r) { return r.faulted; }));
}

// What a token server grants is its own choice. One that refuses the wider pull,push request outright, or
// hands out a token the registry then refuses, still gets asked for just the pull a lookup needs.
TEST(TokenAuthNarrowing, ARefusedWiderTokenGivesWayToTheNeededScope) {
    ProxiedTokenRegistry fixture(TokenServerOptions().with_user(user, password));
    auto& [tls, tokens, token_proxy, registry] = fixture;
    Buildah buildah;
    buildah.build_scratch_image("app");
    std::string pushed = buildah.push("app", registry.host() + "/team/app:1.0", RemoteOptions{false}.with_creds(user, password));
    TempDir work("digestflow-token-narrow");
    std::map<std::string, std::string> env{{"DOCKER_CONFIG", config_dir(work, "docker", auths_config(registry.host(), password))}};
    const std::string from = registry.host() + "/team/app@" + pushed;
    const std::vector<std::string> again{"--source", from, "--to", registry.host() + "/team/held:1", "--json"};
    ASSERT_EQ(run_tool("retag", again, env).exit_code, 0);  // the destination holds the digest from now on

    auto asks_for_push = [](const RequestLine& request) {
        return request.path.find("/token") != std::string::npos && request.path.find("push") != std::string::npos;
    };
    token_proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (!asks_for_push(request)) return std::nullopt;
        return std::string("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    });
    token_proxy.reset();
    auto run = run_tool("retag", again, env);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["destinations"][0]["action"], "unchanged");
    EXPECT_EQ(faulted(token_proxy), 1u) << "the wider request was made, and refused, once";
    // A write still needs push: refused, and said so.
    run = run_tool("retag", {"--source", from, "--to", registry.host() + "/team/fresh:1"}, env);
    EXPECT_EQ(run.exit_code, 4) << run.describe();
    EXPECT_NE(run.stderr_text.find("refused"), std::string::npos) << run.describe();

    const std::string useless = R"({"token": "not-a-token-the-registry-takes", "expires_in": 300})";
    token_proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (!asks_for_push(request)) return std::nullopt;
        return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(useless.size()) + "\r\n\r\n" + useless;
    });
    token_proxy.reset();
    run = run_tool("retag", again, env);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["destinations"][0]["action"], "unchanged");
    EXPECT_EQ(faulted(token_proxy), 1u) << "the useless token was handed out once";
    expect_no_secret(run);

    // A registry answering 403 to the wider token: the lookup is tried again with the narrow one. The guard's
    // HEAD is the run's first request: anonymous, it gets the registry's 401 (the challenge); the second
    // HEAD carries the wider token and gets the 403.
    token_proxy.set_fault({});
    CountingProxy front(registry.host());
    env["DOCKER_CONFIG"] = config_dir(work, "front", auths_config(front.host(), password));
    std::atomic<int> heads{0};
    front.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "HEAD" || request.path.find("/team/held/manifests/") == std::string::npos ||
            heads++ != 1)
            return std::nullopt;
        return std::string("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    });
    run = run_tool("retag", {"--source", front.host() + "/team/app@" + pushed, "--to", front.host() + "/team/held:1", "--json"}, env);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["destinations"][0]["action"], "unchanged");
    EXPECT_EQ(front.count("HEAD", "/team/held/manifests/"), 3u) << "anonymous, wider token (403), narrow token";
    EXPECT_EQ(faulted(front), 1u);
}

TEST_F(TokenAuth, WrongPasswordIsExit4AndNotPrinted) {
    auto dir = config_dir(work, "docker", auths_config(registry->host(), wrong_password));
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json")},
                        {{"DOCKER_CONFIG", dir}});
    EXPECT_EQ(run.exit_code, 4) << run.describe();
    EXPECT_NE(run.stderr_text.find("token server"), std::string::npos) << run.stderr_text;
    expect_no_secret(run);
}

// A token that expires during a copy: the registry answers a small blob's PUT (its bytes held in memory)
// with 401 and a challenge. A new token is fetched and the same bytes sent again; the copy completes.
TEST_F(TokenAuth, ASmallBlobPutRefusedWith401IsSentAgainWithANewToken) {
    Registry destination(RegistryOptions().with_token_auth(tokens->registry_auth()));
    CountingProxy proxy(destination.host());
    const auto auth = tokens->registry_auth();
    std::atomic<int> refused{0};
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "PUT" || request.path.find("/blobs/uploads/") == std::string::npos || refused++ > 0)
            return std::nullopt;
        return "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"" + auth.realm + "\",service=\"" +
               auth.service + "\",scope=\"repository:team/renewed:pull,push\"\r\nContent-Length: 0\r\n\r\n";
    });
    auto dir = config_dir(work, "docker", R"({"auths": {")" + registry->host() + R"(": {"auth": ")" +
                                              base64_text(user + ":" + password) + R"("}, ")" + proxy.host() +
                                              R"(": {"auth": ")" + base64_text(user + ":" + password) + R"("}}})");
    auto run = run_tool("retag", {"--source", registry->host() + "/team/app@" + digest, "--to",
                                  proxy.host() + "/team/renewed:1", "--json"},
                        {{"DOCKER_CONFIG", dir}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(refused.load(), 3) << "one refused PUT, then each blob's PUT";
    EXPECT_EQ(proxy.count("PUT", "/blobs/uploads/"), 3u) << "the refused PUT was sent again, not the copy restarted";
    EXPECT_EQ(proxy.count("POST", "/blobs/uploads/"), 2u) << "no new upload session";
    expect_no_secret(run);
}

}  // namespace
}  // namespace digestflow::testsupport
