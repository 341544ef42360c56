// Registry authentication end to end: htpasswd basic auth with config.json credentials and with a credential
// helper, and the bearer-token flow against a registry configured for token auth. Secrets never printed.
#include "support/buildah.hpp"
#include "support/registry_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_material.hpp"
#include "support/token_server.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

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
    std::string bin = work.file("bin");
    std::filesystem::create_directories(bin);
    std::string helper = bin + "/docker-credential-dftest";
    write_text_file(helper, "#!/bin/sh\n"
                            "[ \"$1\" = get ] || exit 3\n"
                            "read -r server\n"
                            "if [ \"$server\" = \"" + registry->host() + "\" ]; then\n"
                            "  printf '{\"Username\":\"" + user + "\",\"Secret\":\"" + password + "\"}'\n"
                            "else echo 'credentials not found in native keychain'; exit 1; fi\n");
    std::filesystem::permissions(helper, std::filesystem::perms::owner_all);
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
    tokens->reset_counters();
    auto run = run_tool("verify-digest", {"--artifact", work.file("a.json"), "--ref", image(), "--content", "--json"},
                        {{"DOCKER_CONFIG", dir}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["digest"], digest);
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

TEST_F(TokenAuth, WrongPasswordIsExit4AndNotPrinted) {
    auto dir = config_dir(work, "docker", auths_config(registry->host(), wrong_password));
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json")},
                        {{"DOCKER_CONFIG", dir}});
    EXPECT_EQ(run.exit_code, 4) << run.describe();
    EXPECT_NE(run.stderr_text.find("token server"), std::string::npos) << run.stderr_text;
    expect_no_secret(run);
}

}  // namespace
}  // namespace digestflow::testsupport
