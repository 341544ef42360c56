// Proves each piece of the integration test support library against the real programs.

#include "support/buildah.hpp"
#include "support/jwt.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/tls_material.hpp"
#include "support/token_server.hpp"

#include <Poco/Net/HTTPBasicCredentials.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>

namespace digestflow::testsupport {
namespace {

using nlohmann::json;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class Stopwatch {
  public:
    // Time since the previous lap, e.g. "0.42 s".
    std::string lap() {
        auto now = std::chrono::steady_clock::now();
        std::ostringstream text;
        text << std::chrono::duration<double>(now - m_last).count() << " s";
        m_last = now;
        return text.str();
    }

  private:
    std::chrono::steady_clock::time_point m_last = std::chrono::steady_clock::now();
};

// Shared material is built on first use and kept for the rest of the process. ctest runs every test in
// its own process (gtest_discover_tests), so eager SetUpTestSuite work would be paid once per test.
class FixtureSmokeTest : public ::testing::Test {
  protected:
    static void TearDownTestSuite() {
        s_buildah.reset();
        s_tls.reset();
        s_image_id.clear();
        s_index_built = false;
    }

    static TlsMaterial& tls() {
        if (!s_tls) {
            Stopwatch watch;
            s_tls = std::make_unique<TlsMaterial>();
            std::cerr << "[ setup    ] tls material: " << watch.lap() << "\n";
        }
        return *s_tls;
    }
    static Buildah& buildah() {
        if (!s_buildah) {
            s_buildah = std::make_unique<Buildah>();
        }
        return *s_buildah;
    }
    // The image ID of localhost/smoke:latest.
    static const std::string& image_id() {
        if (s_image_id.empty()) {
            Stopwatch watch;
            s_image_id = buildah().build_scratch_image("smoke");
            std::cerr << "[ setup    ] scratch image: " << watch.lap() << "\n";
        }
        return s_image_id;
    }
    // The local name of that image.
    static std::string image() {
        image_id();
        return "smoke";
    }
    // The local manifest list "smoke-list" (linux/amd64 + linux/arm64).
    static std::string index_list() {
        if (!s_index_built) {
            Stopwatch watch;
            buildah().build_index("smoke-list");
            s_index_built = true;
            std::cerr << "[ setup    ] two-platform index: " << watch.lap() << "\n";
        }
        return "smoke-list";
    }

  private:
    static inline std::unique_ptr<TlsMaterial> s_tls;
    static inline std::unique_ptr<Buildah> s_buildah;
    static inline std::string s_image_id;
    static inline bool s_index_built = false;
};

TEST(ProcessTest, RunCommandCapturesStdoutStderrStdinEnvAndWorkingDir) {
    RunOptions options;
    options.env = {{"SMOKE_VALUE", "forty-two"}};
    options.stdin_text = "from stdin\n";
    options.working_dir = "/tmp";
    RunResult result =
        run_command({"sh", "-c", "cat; echo \"$SMOKE_VALUE\"; pwd; echo oops >&2; exit 3"}, options);
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_EQ(result.stdout_text, "from stdin\nforty-two\n/tmp\n");
    EXPECT_EQ(result.stderr_text, "oops\n");
}

TEST(ProcessTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
    RunOptions options;
    options.stdin_text = std::string(1 << 20, 'x'); // larger than any pipe buffer
    RunResult result = run_command({"sh", "-c", "cat; head -c 1000000 /dev/zero >&2"}, options);
    ASSERT_TRUE(result.ok()) << result.describe();
    EXPECT_EQ(result.stdout_text.size(), 1u << 20);
    EXPECT_EQ(result.stderr_text.size(), 1000000u);
}

TEST(ProcessTest, TimeoutKillsTheProcessAndThrows) {
    RunOptions options;
    options.timeout_seconds = 1;
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(run_command({"sleep", "30"}, options), std::runtime_error);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ProcessTest, MissingProgramThrows) {
    EXPECT_THROW(run_command({"digestflow-no-such-program"}), std::runtime_error);
}

TEST(ProcessTest, BackgroundProcessIsStoppedOnDestruction) {
    pid_t pid = 0;
    {
        BackgroundProcess sleeper({"sleep", "60"}, {}, "/dev/null");
        pid = sleeper.pid();
        EXPECT_TRUE(sleeper.running());
    }
    EXPECT_EQ(::kill(pid, 0), -1);
    EXPECT_EQ(errno, ESRCH);
}

TEST(TokenScopeTest, NameKeepsHostPortColonsAndActionsComeAfterTheLastColon) {
    auto scope = parse_scope("repository:127.0.0.1:5000/team/app:pull,push");
    ASSERT_TRUE(scope);
    EXPECT_EQ(scope->type, "repository");
    EXPECT_EQ(scope->name, "127.0.0.1:5000/team/app");
    EXPECT_EQ(scope->actions, (std::vector<std::string>{"pull", "push"}));
    EXPECT_FALSE(parse_scope("repository:team/app"));
}

TEST_F(FixtureSmokeTest, PlainRegistryServesThePushedDigestAndLogsRequests) {
    Registry registry;
    std::string digest = buildah().push(image(), registry.host() + "/team/app:v1", registry.client_options());

    std::string raw = raw_manifest(registry.host() + "/team/app:v1", registry.client_options());
    EXPECT_EQ(digest_of_raw(raw), digest);
    EXPECT_EQ(served_digest(registry.host() + "/team/app@" + digest, registry.client_options()), digest);
    // The image-ID trap: buildah's image ID is the config digest, not the manifest digest.
    EXPECT_NE(image_id(), digest);
    EXPECT_EQ(json::parse(raw)["config"]["digest"], image_id());
    EXPECT_EQ(registry.count_requests("PUT", "/v2/team/app/manifests/v1"), 1u);
    EXPECT_GE(registry.count_requests("GET", "/v2/team/app/manifests/v1"), 1u);
}

TEST_F(FixtureSmokeTest, SaltBuildsADifferentImage) {
    Registry registry;
    ScratchImage salted;
    salted.salt = "another build";
    std::string salted_id = buildah().build_scratch_image("salted", salted);
    EXPECT_NE(salted_id, image_id());
    std::string digest =
        buildah().push("salted", registry.host() + "/team/app:salted", registry.client_options());
    std::string plain =
        buildah().push(image(), registry.host() + "/team/app:plain", registry.client_options());
    EXPECT_NE(digest, plain);
}

TEST_F(FixtureSmokeTest, HtpasswdRegistryRefusesAnonymousAndAcceptsCredentials) {
    Registry registry(RegistryOptions().with_user("alice", "s3cret"));
    RemoteOptions anonymous = registry.client_options();
    RemoteOptions alice = anonymous.with_creds("alice", "s3cret");

    std::string digest = buildah().push(image(), registry.host() + "/team/app:v1", alice);
    EXPECT_EQ(served_digest(registry.host() + "/team/app:v1", alice), digest);

    RunResult refused = skopeo_inspect_raw(registry.host() + "/team/app:v1", anonymous);
    EXPECT_FALSE(refused.ok());
    EXPECT_TRUE(contains(refused.stderr_text, "authentication required") ||
                contains(refused.stderr_text, "401"))
        << refused.stderr_text;
    EXPECT_FALSE(
        skopeo_inspect_raw(registry.host() + "/team/app:v1", anonymous.with_creds("alice", "wrong")).ok());

    registry.add_user("bob", "hunter2"); // picked up while running
    EXPECT_EQ(served_digest(registry.host() + "/team/app:v1", anonymous.with_creds("bob", "hunter2")),
              digest);
}

TEST_F(FixtureSmokeTest, TlsRegistryIsTrustedOnlyWithTheCa) {
    Registry registry(RegistryOptions().with_tls(tls()));
    EXPECT_EQ(registry.url().rfind("https://", 0), 0u);
    EXPECT_TRUE(http_answers(registry.url() + "/v2/", tls().ca_cert()));

    std::string digest = buildah().push(image(), registry.host() + "/team/app:v1", registry.client_options());
    EXPECT_EQ(served_digest(registry.host() + "/team/app:v1", registry.client_options()), digest);

    RemoteOptions system_roots; // tls_verify=true, no cert dir
    RunResult refused = skopeo_inspect_raw(registry.host() + "/team/app:v1", system_roots);
    EXPECT_FALSE(refused.ok());
    EXPECT_TRUE(contains(refused.stderr_text, "certificate")) << refused.stderr_text;
}

TEST_F(FixtureSmokeTest, TokenRegistryWorksThroughTheTokenServer) {
    TokenServer tokens(tls(), TokenServerOptions().with_user("alice", "s3cret"));
    Registry registry(RegistryOptions().with_token_auth(tokens.registry_auth()));
    RemoteOptions alice = registry.client_options().with_creds("alice", "s3cret");

    std::string digest = buildah().push(image(), registry.host() + "/team/app:v1", alice);
    EXPECT_EQ(served_digest(registry.host() + "/team/app:v1", alice), digest);
    EXPECT_GT(tokens.request_count(), 0u);
    auto scopes = tokens.requested_scopes();
    EXPECT_NE(std::find(scopes.begin(), scopes.end(), "repository:team/app:pull,push"), scopes.end())
        << "scopes: " << ::testing::PrintToString(scopes);

    size_t before = tokens.request_count();
    RunResult refused = skopeo_inspect_raw(registry.host() + "/team/app:v1",
                                           registry.client_options().with_creds("alice", "nope"));
    EXPECT_FALSE(refused.ok());
    EXPECT_GT(tokens.request_count(), before);
    EXPECT_EQ(tokens.requests().back().status, 401);
    EXPECT_FALSE(skopeo_inspect_raw(registry.host() + "/team/app:v1", registry.client_options()).ok());
}

TEST_F(FixtureSmokeTest, TokenServerIssuesTheJwtTheRegistryExpects) {
    TokenServerOptions options;
    options.with_user("reader", "pw", {"pull"});
    options.anonymous_pull_repos = {"public/app"};
    TokenServer tokens(tls(), options);

    auto get = [&](const std::string& path, const std::string& user, const std::string& password,
                   json& body) {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(tokens.port()));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path,
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        if (!user.empty()) {
            Poco::Net::HTTPBasicCredentials(user, password).authenticate(request);
        }
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::ostringstream text;
        text << session.receiveResponse(response).rdbuf();
        body = json::parse(text.str());
        return static_cast<int>(response.getStatus());
    };

    json body;
    ASSERT_EQ(get("/token?service=digestflow-test-registry&scope=repository:team/app:pull,push", "reader",
                  "pw", body),
              200);
    EXPECT_EQ(body["expires_in"], 300);
    EXPECT_EQ(body["token"], body["access_token"]);
    std::string token = body["token"];
    ASSERT_EQ(std::count(token.begin(), token.end(), '.'), 2);
    json header = json::parse(base64url_decode(token.substr(0, token.find('.'))));
    EXPECT_EQ(header["alg"], "RS256");
    EXPECT_EQ(header["x5c"].size(), 1u);
    size_t payload_start = token.find('.') + 1;
    json claims =
        json::parse(base64url_decode(token.substr(payload_start, token.rfind('.') - payload_start)));
    EXPECT_EQ(claims["aud"], "digestflow-test-registry");
    EXPECT_EQ(claims["sub"], "reader");
    EXPECT_EQ(claims["access"],
              json::parse(R"([{"type":"repository","name":"team/app","actions":["pull"]}])"));

    EXPECT_EQ(
        get("/token?service=digestflow-test-registry&scope=repository:team/app:pull", "reader", "bad", body),
        401);
    ASSERT_EQ(get("/token?service=digestflow-test-registry&scope=repository:public/app:pull", "", "", body),
              200);
    EXPECT_EQ(tokens.requests().back().granted.size(), 1u);
    EXPECT_EQ(tokens.request_count(), 3u);
}

TEST_F(FixtureSmokeTest, TwoPlatformIndexHasTwoManifests) {
    Registry registry;
    std::string digest =
        buildah().push_index(index_list(), registry.host() + "/team/multi:v1", registry.client_options());
    std::string raw = raw_manifest(registry.host() + "/team/multi:v1", registry.client_options());
    EXPECT_EQ(digest_of_raw(raw), digest);
    json index = json::parse(raw);
    EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
    ASSERT_EQ(index["manifests"].size(), 2u);
    std::vector<std::string> architectures;
    for (const auto& child : index["manifests"]) {
        architectures.push_back(child["platform"]["architecture"]);
    }
    std::sort(architectures.begin(), architectures.end());
    EXPECT_EQ(architectures, (std::vector<std::string>{"amd64", "arm64"}));
}

} // namespace
} // namespace digestflow::testsupport
