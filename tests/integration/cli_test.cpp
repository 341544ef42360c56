// The command-line contract of every tool, black box: --help, --version, usage errors and their exit code,
// JSON errors with --json (no registry needed), and what goes to stdout (one real registry, content pushed
// through its API).
#include "support/counting_proxy.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <tuple>

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

TEST(CaptureDigestCli, OutThatCannotBeLookedAtIsExit2NamingOut) {
    // std::filesystem::exists threw for these, which came out as exit 3 "unexpected failure".
    TempDir work;
    const std::string loop = work.file("loop");
    ASSERT_EQ(::symlink("loop", loop.c_str()), 0);
    const std::string too_long = work.file(std::string(300, 'a'));
    for (const std::string& out : {loop, too_long}) {
        auto run = run_tool("capture-digest", {"--image", "example.com/a/b:1", "--digest",
                                               "sha256:" + std::string(64, 'c'), "--offline", "--out", out});
        EXPECT_EQ(run.exit_code, 2) << run.describe();
        EXPECT_NE(run.stderr_text.find("--out \"" + out.substr(0, 20)), std::string::npos) << run.describe();
        EXPECT_EQ(run.stderr_text.find("unexpected"), std::string::npos) << run.describe();
    }
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

// ---- Issue 6 #15-#19, #22, #23: hostile inputs, black box. Every one is exit 2 with one line on stderr that
// names the input, and no run hangs (a FIFO with no writer included). No registry is needed: each input is
// refused before any request.

const std::string k_digest = "sha256:" + std::string(64, 'a');

// One stderr line, no control character but its newline.
void expect_one_clean_line(const RunResult& run) {
    ASSERT_FALSE(run.stderr_text.empty()) << run.describe();
    EXPECT_EQ(run.stderr_text.find('\n'), run.stderr_text.size() - 1) << run.describe();
    for (std::size_t i = 0; i + 1 < run.stderr_text.size(); ++i) {
        auto c = static_cast<unsigned char>(run.stderr_text[i]);
        EXPECT_FALSE(c < 0x20 || c == 0x7F) << "raw control character at " << i << ": " << run.describe();
    }
}

struct HostileFile {
    std::string label;
    std::string content;   // empty: a FIFO with no writer
    std::string expected;  // in stderr, besides the file's path
};

// Objects, so that line formats that take a line starting with '{' as JSON read it as JSON too.
std::string deep_json() {
    std::string text;
    for (int i = 0; i < 100000; ++i) text += "{\"a\":";
    return text + "1" + std::string(100000, '}');
}

const std::vector<HostileFile> hostile_files = {
    {"fifo", "", "FIFO"},
    {"deep", deep_json(), "nested deeper than"},
    {"number_overflow", R"({"schemaVersion": 1e400})", "number overflow"},
    {"duplicate_key", R"({"schemaVersion": 1, "schemaVersion": 1})", "duplicate key \"schemaVersion\""},
    {"nul_then_garbage", std::string("{}\0garbage", 10), "NUL byte"},
};

// Each tool and flag that reads a file, with the arguments it needs to get that far.
struct FileInput {
    std::string label;
    std::string tool;
    std::vector<std::string> args;  // "FILE" is replaced by the hostile file's path
};

const std::vector<FileInput> file_inputs = {
    {"verify_artifact", "verify-digest", {"--artifact", "FILE", "--ref", "example.com/a/b:1"}},
    {"retag_artifact", "retag", {"--artifact", "FILE", "--tag", "x"}},
    {"retag_from_list", "retag", {"--from-list", "FILE"}},
    {"capture_existing_out", "capture-digest", {"--image", "example.com/a/b:1", "--digest", k_digest, "--offline", "--out", "FILE"}},
    {"capture_buildx", "capture-digest", {"--image", "example.com/a/b", "--from-buildx-metadata", "FILE", "--offline"}},
    {"capture_jib", "capture-digest", {"--image", "example.com/a/b", "--from-jib", "FILE", "--offline"}},
    {"capture_kaniko", "capture-digest", {"--image", "example.com/a/b", "--from-kaniko-image-refs", "FILE", "--offline"}},
    {"registry_config", "capture-digest", {"--image", "example.com/a/b", "--digest", k_digest, "--offline", "--registry-config", "FILE"}},
};

class HostileInput : public ::testing::TestWithParam<std::tuple<FileInput, HostileFile>> {};

TEST_P(HostileInput, IsExit2NamingTheFile) {
    const auto& [input, file] = GetParam();
    TempDir work;
    const std::string path = work.file("input");
    if (file.content.empty())
        ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    else
        write_text_file(path, file.content);
    std::vector<std::string> args = input.args;
    for (auto& a : args)
        if (a == "FILE") a = path;
    auto run = run_tool(input.tool, args);  // bounded: run_tool kills a run that outlives its timeout
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find(path), std::string::npos) << run.describe();
    EXPECT_NE(run.stderr_text.find(file.expected), std::string::npos) << run.describe();
    expect_one_clean_line(run);
}

INSTANTIATE_TEST_SUITE_P(Inputs, HostileInput, ::testing::Combine(::testing::ValuesIn(file_inputs), ::testing::ValuesIn(hostile_files)),
                         [](const auto& param_info) {
                             return std::get<0>(param_info.param).label + "_" + std::get<1>(param_info.param).label;
                         });

// #19: a credentials "file" that is a device or a directory is refused at the start, never read.
TEST(CredentialFilesCli, DevicesAndDirectoriesAreExit2) {
    TempDir work;
    for (const std::string& path : {std::string("/dev/zero"), work.path()}) {
        auto run = run_tool("verify-digest", {"--artifact", work.file("none.json"), "--ref", "example.com/a/b:1",
                                              "--registry-config", path});
        EXPECT_EQ(run.exit_code, 2) << run.describe();
        EXPECT_NE(run.stderr_text.find("--registry-config " + path), std::string::npos) << run.describe();
        expect_one_clean_line(run);
    }
}

struct BadFlag {
    std::string label;
    std::string tool;
    std::vector<std::string> args;
    std::string expected;
};

// #22: every flag value is checked as given, before any work (these runs make no request at all).
const std::vector<BadFlag> bad_flags = {
    {"timeout_word", "capture-digest", {"--image", "example.com/a/b", "--digest", k_digest, "--offline", "--timeout", "abc"}, "--timeout \"abc\""},
    {"timeout_zero", "capture-digest", {"--image", "example.com/a/b", "--digest", k_digest, "--offline", "--timeout", "0"}, "--timeout \"0\""},
    {"timeout_retag_list", "retag", {"--from-list", "/nonexistent/list", "--timeout", "abc"}, "--timeout"},
    {"registry_config_empty", "capture-digest", {"--image", "example.com/a/b", "--digest", k_digest, "--offline", "--registry-config", ""}, "--registry-config is empty"},
    {"registry_config_missing", "verify-digest", {"--artifact", "/nonexistent/a.json", "--ref", "example.com/a/b:1", "--registry-config", "/nonexistent/config.json"}, "does not exist"},
    {"digest_leading_space", "capture-digest", {"--image", "example.com/a/b", "--digest", " " + k_digest, "--offline"}, "--digest \" sha256:"},
    {"digest_trailing_newline", "capture-digest", {"--image", "example.com/a/b", "--digest", k_digest + "\n", "--offline"}, "\\x0a\": the value starts or ends with whitespace"},
    {"jobs_before_work", "retag", {"--from-list", "/nonexistent/list", "-j", "0"}, "-j/--jobs \"0\""},
    // #23: control characters from the command line are escaped in the message.
    {"tag_control_character", "retag", {"--source", "example.com/a/b@" + k_digest, "--tag", "a\x01z"}, "tag \"a\\x01z\" is not valid"},
    {"image_escape_sequence", "capture-digest", {"--image", "example.com/a/b\x1b[2J", "--digest", k_digest, "--offline"}, "\\x1b[2J"},
    {"unknown_flag_control", "verify-digest", {"--x\x07y"}, "unknown flag \"--x\\x07y\""},
};

class BadFlagCli : public ::testing::TestWithParam<BadFlag> {};

TEST_P(BadFlagCli, IsExit2NamingTheFlag) {
    const auto& c = GetParam();
    auto run = run_tool(c.tool, c.args);
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find(c.expected), std::string::npos) << run.describe();
    expect_one_clean_line(run);
}

INSTANTIATE_TEST_SUITE_P(Flags, BadFlagCli, ::testing::ValuesIn(bad_flags),
                         [](const auto& param_info) { return param_info.param.label; });

// #23, last line of defence: a control character in a file path reaches stderr escaped too.
TEST(ErrorOutput, ControlCharactersInPathsAreEscaped) {
    TempDir work;
    auto run = run_tool("verify-digest", {"--artifact", work.file("a\x1b[31mred.json"), "--ref", "example.com/a/b:1"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find("a\\x1b[31mred.json"), std::string::npos) << run.describe();
    expect_one_clean_line(run);
}

// #12: capture-digest --out through a symbolic link keeps the link and updates its target.
TEST(CaptureDigestCli, OutThroughASymlinkUpdatesTheTarget) {
    TempDir work;
    ASSERT_EQ(::mkdir(work.file("shared").c_str(), 0755), 0);
    const std::string link = work.file("image-digest.json");
    ASSERT_EQ(::symlink("shared/real.json", link.c_str()), 0);
    write_text_file(work.file("shared/real.json"), "placeholder\n");
    auto run = run_tool("capture-digest",
                        {"--image", "example.com/a/b:1", "--digest", k_digest, "--offline", "--out", link, "--force"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    struct stat st {};
    ASSERT_EQ(::lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link is kept";
    EXPECT_NE(read_text_file(work.file("shared/real.json")).find(k_digest), std::string::npos);
}


TEST(CiOutputs, GithubActionsGetsOutputsSummaryAndErrorAnnotations) {
    TempDir work;
    const std::string digest = "sha256:" + std::string(64, 'e');
    const std::string output = work.file("github_output"), summary = work.file("summary.md");
    const std::map<std::string, std::string> github{
        {"GITHUB_ACTIONS", "true"}, {"GITHUB_OUTPUT", output}, {"GITHUB_STEP_SUMMARY", summary}};
    auto run = run_tool("capture-digest", {"--image", "example.com/a/b:7", "--digest", digest, "--offline", "--out",
                                           work.file("a.json"), "--dotenv", work.file("build.env")},
                        github);
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    const std::string outputs = read_text_file(output);
    EXPECT_NE(outputs.find("digest=" + digest + "\n"), std::string::npos) << outputs;
    EXPECT_NE(outputs.find("reference=example.com/a/b@" + digest + "\n"), std::string::npos) << outputs;
    EXPECT_NE(outputs.find("tag=7\n"), std::string::npos) << outputs;
    EXPECT_NE(read_text_file(summary).find("`example.com/a/b@" + digest + "`"), std::string::npos);
    EXPECT_EQ(read_text_file(work.file("build.env")),
              "IMAGE_DIGEST=" + digest + "\nIMAGE_REPOSITORY=example.com/a/b\nIMAGE_REFERENCE=example.com/a/b@" + digest +
                  "\nIMAGE_MEDIA_TYPE=\nIMAGE_TAG=7\n");

    auto bad = run_tool("capture-digest", {"--image", "example.com/a/b:7", "--digest", "sha256:abc", "--offline"}, github);
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.stderr_text.find("::error title=capture-digest::"), std::string::npos) << bad.stderr_text;
}

TEST(CiOutputs, UndeliverableOutputsFailTheStepButTheResultIsStillReported) {
    TempDir work;
    auto run = run_tool("capture-digest",
                        {"--image", "example.com/a/b:7", "--digest", "sha256:" + std::string(64, 'f'), "--offline",
                         "--out", work.file("a.json"), "--json"},
                        {{"GITHUB_ACTIONS", "true"}, {"GITHUB_OUTPUT", work.file("missing-dir/out")}});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    auto doc = json_output(run);
    EXPECT_EQ(doc["exitCode"], 2);
    EXPECT_NE(doc["error"].get<std::string>().find("$GITHUB_OUTPUT"), std::string::npos);
    EXPECT_EQ(doc["image"]["repository"], "example.com/a/b");
    auto unset = run_tool("capture-digest", {"--image", "example.com/a/b:7", "--digest", "sha256:" + std::string(64, 'f'),
                                             "--offline", "--out", work.file("b.json")},
                          {{"GITHUB_ACTIONS", "true"}});
    EXPECT_EQ(unset.exit_code, 2);
    EXPECT_NE(unset.stderr_text.find("GITHUB_OUTPUT is not set"), std::string::npos) << unset.stderr_text;
}

}  // namespace
}  // namespace digestflow::testsupport
