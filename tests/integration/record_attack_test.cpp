// record as its users' worst day: hostile flag values and files, run as black boxes (no registry needed).
// Each case here was a defect found by attacking the tool; the test keeps it fixed.
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace digestflow::testsupport {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t count_lines(const std::string& text) {
    std::size_t n = 0;
    for (char c : text) n += c == '\n';
    return n;
}

class RecordAttack : public ::testing::Test {
protected:
    std::string offline_artifact(const std::string& name, char hex) {
        std::string path = work.file(name + ".json");
        auto run = run_tool("capture-digest", {"--image", "127.0.0.1:1/team/app:" + name, "--digest",
                                               "sha256:" + std::string(64, hex), "--offline", "--out", path, "--quiet"});
        EXPECT_EQ(run.exit_code, 0) << run.describe();
        return path;
    }
    RunResult record(std::vector<std::string> args) {
        args.insert(args.end(), {"--ledger", ledger});
        return run_tool("record", args);
    }
    void deploy(const std::string& artifact, std::vector<std::string> more = {}) {
        std::vector<std::string> args{"--artifact", artifact, "--environment", "production"};
        args.insert(args.end(), more.begin(), more.end());
        auto run = record(args);
        ASSERT_EQ(run.exit_code, 0) << run.describe();
    }

    TempDir work{"digestflow-record-attack"};
    std::string ledger = work.file("deployments.jsonl");
};

// rollback-target --out naming the ledger itself (directly, or through a symbolic link) used to replace the
// whole deployment history with the artifact, exit 0.
TEST_F(RecordAttack, RollbackTargetRefusesToWriteItsArtifactOverTheLedger) {
    deploy(offline_artifact("a", 'a'));
    deploy(offline_artifact("b", 'b'));
    const std::string before = read_text_file(ledger);
    std::filesystem::create_symlink(ledger, work.file("link.jsonl"));
    for (const std::string& out : {ledger, work.file("link.jsonl"), work.file(".") + "/deployments.jsonl"}) {
        auto run = record({"rollback-target", "--environment", "production", "--out", out});
        EXPECT_EQ(run.exit_code, 2) << out << "\n" << run.describe();
        EXPECT_TRUE(contains(run.stderr_text, "--out")) << run.describe();
        EXPECT_EQ(count_lines(run.stderr_text), 1u) << run.describe();
        EXPECT_EQ(read_text_file(ledger), before) << "the ledger was overwritten through --out " << out;
    }
}

// record --out naming the ledger used to append the entry and then replace the whole ledger with the
// updated artifact (exit 0); --artifact naming it failed late with a JSON parser's message. Both are refused
// before anything is written, naming the flag.
TEST_F(RecordAttack, RecordRefusesAnArtifactOrOutThatIsTheLedger) {
    const std::string a = offline_artifact("a", 'a');
    deploy(a);
    const std::string before = read_text_file(ledger);
    const std::string artifact_before = read_text_file(a);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--artifact", a, "--environment", "production", "--out", ledger},
             {"--artifact", a, "--environment", "staging", "--out", work.file(".") + "/deployments.jsonl"}}) {
        auto run = record(args);
        EXPECT_EQ(run.exit_code, 2) << run.describe();
        EXPECT_TRUE(contains(run.stderr_text, "is the ledger itself")) << run.describe();
        EXPECT_EQ(count_lines(run.stderr_text), 1u) << run.describe();
        EXPECT_EQ(read_text_file(ledger), before) << run.describe();
        EXPECT_EQ(read_text_file(a), artifact_before) << run.describe();
    }
}

// record --artifact LEDGER (a one-line ledger is a JSON object) says the artifact is the ledger, rather than
// reporting the ledger line as a broken artifact.
TEST_F(RecordAttack, RecordArtifactNamingTheLedgerSaysSo) {
    deploy(offline_artifact("a", 'a'));
    const std::string before = read_text_file(ledger);
    auto run = record({"--artifact", ledger, "--environment", "production"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_TRUE(contains(run.stderr_text, "is the ledger itself")) << run.describe();
    EXPECT_EQ(read_text_file(ledger), before);
}

// The history listing is one line per entry: a note (or tag) with a newline or a terminal escape must not
// split an entry over two lines or reach the terminal raw.
TEST_F(RecordAttack, HistoryTextKeepsEachEntryOnOneLineWhateverTheNoteHolds) {
    deploy(offline_artifact("a", 'a'), {"--note", "first line\nsecond line \x1b[31mred"});
    deploy(offline_artifact("b", 'b'));
    auto run = record({"history"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(count_lines(run.stdout_text), 2u) << run.stdout_text;
    EXPECT_FALSE(contains(run.stdout_text, "\x1b")) << run.stdout_text;
    EXPECT_TRUE(contains(run.stdout_text, "first line\\x0asecond line")) << run.stdout_text;
}

// A ledger written by hand (a valid chain) whose tag holds a newline and a terminal escape: history --at
// answers on one line, with the tag quoted.
TEST_F(RecordAttack, HistoryAtKeepsAHostileTagOnOneLine) {
    std::string prev = "sha256:" + std::string(64, '0');
    std::string line = "{\"v\":1,\"prev\":\"" + prev + "\",\"at\":\"2026-12-02T05:43:30Z\",\"kind\":\"deploy\","
                       "\"environment\":\"production\",\"repository\":\"registry.example.com/team/app\",\"digest\":\"sha256:" +
                       std::string(64, 'a') + "\",\"tag\":\"x\\n\\u001b[31mEVIL\"}\n";
    write_text_file(ledger, line);
    ASSERT_EQ(record({"verify"}).exit_code, 0) << record({"verify"}).describe();
    auto run = record({"history", "--environment", "production", "--at", "2026-12-02T05:43:30Z"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(count_lines(run.stdout_text), 1u) << run.stdout_text;
    EXPECT_FALSE(contains(run.stdout_text, "\x1b")) << run.stdout_text;
}

}  // namespace
}  // namespace digestflow::testsupport
