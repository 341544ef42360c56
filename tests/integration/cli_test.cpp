// The command-line contract of every tool, black box: --help, --version, usage errors and their exit code,
// JSON errors with --json. No registry needed.
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

}  // namespace
}  // namespace digestflow::testsupport
