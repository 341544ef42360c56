// The command-line contract of every tool, black box: --help, --version, usage errors and their exit code,
// JSON errors with --json (no registry needed), and what goes to stdout (one real registry, content pushed
// through its API).
#include "support/counting_proxy.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

namespace digestflow::testsupport {
namespace {

class EveryTool : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryTool, HelpListsCommonFlagsAndExitCodes) {
    auto run = run_tool(GetParam(), {"--help"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    for (const char* flag : {"--artifact", "--out", "--json", "--quiet", "--registry-config", "--insecure-registry",
                             "--ca-file", "--timeout", "--version"})
        EXPECT_NE(run.stdout_text.find(flag), std::string::npos) << flag;
    EXPECT_NE(run.stdout_text.find("Exit codes"), std::string::npos);
}

TEST_P(EveryTool, VersionPrintsNameAndVersion) {
    auto run = run_tool(GetParam(), {"--version"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(run.stdout_text.rfind(GetParam() + " ", 0), 0u) << run.stdout_text;
}

TEST_P(EveryTool, UnknownFlagIsExit2WithAHint) {
    auto run = run_tool(GetParam(), {"--no-such-flag"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find("--no-such-flag"), std::string::npos);
    EXPECT_NE(run.stderr_text.find("--help"), std::string::npos);
}

TEST_P(EveryTool, UsageErrorsAreJsonWithJson) {
    auto run = run_tool(GetParam(), {"--json", "--no-such-flag"});
    EXPECT_EQ(run.exit_code, 2);
    auto doc = json_output(run);
    EXPECT_EQ(doc["exitCode"], 2);
    EXPECT_EQ(doc["tool"], GetParam());
    EXPECT_TRUE(doc["error"].is_string());
    EXPECT_EQ(doc["requests"], 0) << "no request before the failure";
}

INSTANTIATE_TEST_SUITE_P(Tools, EveryTool, ::testing::Values("capture-digest", "verify-digest", "retag"));

TEST(CaptureDigestCli, NeedsAnImageAndExactlyOneSource) {
    TempDir work;
    EXPECT_EQ(run_tool("capture-digest", {"--resolve"}).exit_code, 2);
    EXPECT_EQ(run_tool("capture-digest", {"--image", "example.com/a/b:1"}).exit_code, 2);
    auto two = run_tool("capture-digest", {"--image", "example.com/a/b:1", "--digest", "sha256:" + std::string(64, 'a'),
                                           "--resolve", "--out", work.file("a.json")});
    EXPECT_EQ(two.exit_code, 2);
    EXPECT_NE(two.stderr_text.find("exactly one"), std::string::npos) << two.stderr_text;
}

TEST(CaptureDigestCli, BadReferenceAndDigestAreExit2NamingTheInput) {
    auto upper = run_tool("capture-digest", {"--image", "example.com/Team/App:1", "--resolve"});
    EXPECT_EQ(upper.exit_code, 2);
    EXPECT_NE(upper.stderr_text.find("lowercase"), std::string::npos) << upper.stderr_text;
    auto digest = run_tool("capture-digest", {"--image", "example.com/a/b:1", "--digest", "sha256:abc", "--offline"});
    EXPECT_EQ(digest.exit_code, 2);
    EXPECT_NE(digest.stderr_text.find("sha256:abc"), std::string::npos) << digest.stderr_text;
}

TEST(CaptureDigestCli, OfflineWritesToStdoutWithOutDash) {
    auto run = run_tool("capture-digest", {"--image", "example.com/a/b:1", "--digest",
                                           "sha256:" + std::string(64, 'b'), "--offline", "--out", "-"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto doc = json_output(run);
    EXPECT_EQ(doc["image"]["repository"], "example.com/a/b");
    EXPECT_EQ(doc["image"]["verified"], false);
}

TEST(CaptureDigestCli, NeverSilentlyReplacesAnotherImagesArtifact) {
    TempDir work;
    std::string path = work.file("image-digest.json");
    auto first = run_tool("capture-digest", {"--image", "example.com/a/b:1", "--digest",
                                             "sha256:" + std::string(64, 'c'), "--offline", "--out", path});
    ASSERT_EQ(first.exit_code, 0) << first.describe();
    std::string before = read_text_file(path);
    auto other = run_tool("capture-digest", {"--image", "example.com/a/b:2", "--digest",
                                             "sha256:" + std::string(64, 'd'), "--offline", "--out", path});
    EXPECT_EQ(other.exit_code, 2) << other.describe();
    EXPECT_NE(other.stderr_text.find("--force"), std::string::npos);
    EXPECT_EQ(read_text_file(path), before);
    auto forced = run_tool("capture-digest", {"--image", "example.com/a/b:2", "--digest",
                                              "sha256:" + std::string(64, 'd'), "--offline", "--out", path, "--force"});
    EXPECT_EQ(forced.exit_code, 0) << forced.describe();
}

TEST(VerifyDigestCli, MalformedArtifactIsExit2NamingTheFile) {
    TempDir work;
    std::string path = work.file("image-digest.json");
    write_text_file(path, R"({"schemaVersion": 1, "image": {"repository": "example.com/a/b", "digest": "sha256:xyz"}, "history": []})");
    auto run = run_tool("verify-digest", {"--artifact", path, "--ref", "example.com/a/b:1"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find(path), std::string::npos) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find("image.digest"), std::string::npos) << run.stderr_text;
}

// stdout is one thing: with --out - it is the artifact alone and the report goes to stderr; with --json it is
// the JSON document, also for an error after requests were made.
class OutputContract : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        registry = new Registry();
        const std::string repo = "team/cli";
        const std::string config_bytes = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
        const std::string layer_bytes = "not really a tarball";
        std::string config = push_blob(registry->host(), repo, config_bytes);
        std::string layer = push_blob(registry->host(), repo, layer_bytes);
        const std::string manifest =
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + config +
            R"(","size":)" + std::to_string(config_bytes.size()) +
            R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + layer +
            R"(","size":)" + std::to_string(layer_bytes.size()) + "}]}";
        digest = push_manifest(registry->host(), repo, "1.0", manifest, "application/vnd.oci.image.manifest.v1+json");
    }
    static void TearDownTestSuite() { delete registry; }

    std::string image() const { return registry->host() + "/team/cli:1.0"; }
    std::string captured() const {
        std::string path = work.file("image-digest.json");
        auto run = run_tool("capture-digest", {"--image", image(), "--digest", digest, "--out", path});
        EXPECT_EQ(run.exit_code, 0) << run.describe();
        return path;
    }

    static Registry* registry;
    static std::string digest;
    TempDir work{"digestflow-cli"};
};
Registry* OutputContract::registry = nullptr;
std::string OutputContract::digest;

TEST_F(OutputContract, CaptureOutDashPrintsTheArtifactAlone) {
    auto run = run_tool("capture-digest", {"--image", image(), "--digest", digest, "--out", "-"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["image"]["digest"], digest);
    EXPECT_NE(run.stderr_text.find("captured " + registry->host() + "/team/cli@" + digest), std::string::npos)
        << run.stderr_text;
}

TEST_F(OutputContract, VerifyOutDashPrintsTheArtifactAlone) {
    std::string path = captured();
    const std::string before = read_text_file(path);
    auto run = run_tool("verify-digest", {"--artifact", path, "--ref", image(), "--out", "-"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto doc = json_output(run);
    ASSERT_EQ(doc["history"].size(), 2u) << run.stdout_text;
    EXPECT_EQ(doc["history"][1]["step"], "verify");
    EXPECT_NE(run.stderr_text.find("match    " + image() + " resolves to " + digest), std::string::npos)
        << run.stderr_text;
    EXPECT_EQ(read_text_file(path), before) << "--out - leaves --artifact alone";
}

TEST_F(OutputContract, RetagOutDashPrintsTheArtifactAlone) {
    std::string path = captured();
    auto run = run_tool("retag", {"--artifact", path, "--tag", "2.0", "--out", "-"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto doc = json_output(run);
    ASSERT_EQ(doc["history"].size(), 2u) << run.stdout_text;
    EXPECT_EQ(doc["history"][1]["step"], "retag");
    EXPECT_NE(run.stderr_text.find("promoted " + registry->host() + "/team/cli@" + digest), std::string::npos)
        << run.stderr_text;
}

TEST_F(OutputContract, QuietOutDashPrintsNoReport) {
    std::string path = captured();
    auto run = run_tool("verify-digest", {"--artifact", path, "--ref", image(), "--out", "-", "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_TRUE(json_output(run).contains("history"));
    EXPECT_EQ(run.stderr_text, "");
}

TEST_F(OutputContract, ErrorJsonCountsTheRequestsMadeBeforeTheFailure) {
    // The digest is absent from the repository: capture asks the registry, then refuses (exit 2). The proxy
    // counts what arrived.
    CountingProxy proxy(registry->host());
    const std::string absent = "sha256:" + std::string(64, 'e');
    auto run = run_tool("capture-digest", {"--image", proxy.host() + "/team/cli:1.0", "--digest", absent, "--out",
                                           work.file("absent.json"), "--json"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    auto doc = json_output(run);
    EXPECT_TRUE(doc["error"].is_string());
    ASSERT_GE(proxy.requests().size(), 1u);
    EXPECT_EQ(doc["requests"], proxy.requests().size()) << run.stdout_text;
}

}  // namespace
}  // namespace digestflow::testsupport
