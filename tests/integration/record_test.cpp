// record against real files and a real registry: concurrent writer processes, a writer killed mid-append,
// tampered ledgers, and the whole deploy -> history -> rollback-target -> retag -> hold workflow, with
// verify-digest and skopeo as the judges of what the rollback artifact names.
#include "support/process.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace digestflow::testsupport {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string tool_path(const std::string& tool) { return std::string(DIGESTFLOW_TOOLS_DIR) + "/" + tool + "/" + tool; }

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    write_text_file(path, text);
}

// sha256 of `text` by sha256sum: the chain's hash, computed independently of the library.
std::string sha256sum(const std::string& text) {
    auto run = run_checked({"sha256sum"}, RunOptions{.env = {}, .stdin_text = text});
    return "sha256:" + run.stdout_text.substr(0, 64);
}

std::string evp_sha256(const std::string& text) {
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(text.data(), text.size(), hash, &size, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned int i = 0; i < size; ++i) {
        out += hex[hash[i] >> 4];
        out += hex[hash[i] & 15];
    }
    return out;
}

class Record : public ::testing::Test {
protected:
    // An offline artifact for a made-up digest (the ledger never asks the registry).
    std::string offline_artifact(const std::string& name) {
        std::string path = work.file(name + ".json");
        std::string digest = sha256sum(name).substr(7);
        auto run = run_tool("capture-digest", {"--image", "127.0.0.1:1/team/app:" + name, "--digest", "sha256:" + digest,
                                               "--offline", "--out", path, "--quiet"});
        EXPECT_EQ(run.exit_code, 0) << run.describe();
        return path;
    }
    RunResult record(const std::vector<std::string>& args) {
        std::vector<std::string> all = args;
        all.insert(all.end(), {"--ledger", ledger});
        return run_tool("record", all);
    }
    void deploy(const std::string& artifact, const std::string& environment = "production") {
        auto run = record({"--artifact", artifact, "--environment", environment});
        ASSERT_EQ(run.exit_code, 0) << run.describe();
    }
    std::string digest_of(const std::string& artifact) {
        return nlohmann::json::parse(read_text_file(artifact))["image"]["digest"];
    }

    TempDir work{"digestflow-record"};
    std::string ledger = work.file("deployments.jsonl");
};

TEST_F(Record, EightWriterProcessesAppendingFiveHundredEachLoseNothing) {
    std::vector<std::unique_ptr<BackgroundProcess>> writers;
    for (int w = 0; w < 8; ++w) {
        std::string artifact = offline_artifact("writer-" + std::to_string(w));
        std::string script = "for i in $(seq 500); do \"$0\" --artifact \"$1\" --environment \"env-$2\" --ledger \"$3\" "
                             "--out \"$1.out\" --quiet || exit 1; done";
        writers.push_back(std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"sh", "-c", script, tool_path("record"), artifact, std::to_string(w), ledger},
            std::map<std::string, std::string>{}, work.file("writer-" + std::to_string(w) + ".log")));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    for (auto& writer : writers) {
        while (writer->running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ASSERT_FALSE(writer->running()) << "a writer did not finish in 5 minutes";
        EXPECT_EQ(writer->exit_code(), 0) << read_text_file(work.file("writer-0.log"));
    }
    auto lines = lines_of(ledger);
    ASSERT_EQ(lines.size(), 4000u);
    // Each line chains onto the one before it: checked here with OpenSSL directly, and by record verify.
    std::string prev = "sha256:" + std::string(64, '0');
    for (std::size_t i = 0; i < lines.size(); ++i) {
        ASSERT_EQ(nlohmann::json::parse(lines[i])["prev"], prev) << "line " << i + 1;
        prev = evp_sha256(lines[i] + "\n");
    }
    auto verify = record({"verify", "--json"});
    ASSERT_EQ(verify.exit_code, 0) << verify.describe();
    EXPECT_EQ(json_output(verify)["lines"], 4000);
    auto history = record({"history", "--json"});
    ASSERT_EQ(history.exit_code, 0) << history.describe();
    std::map<std::string, int> per_environment;
    const auto listed = json_output(history);
    for (const auto& entry : listed["entries"]) per_environment[entry["environment"]]++;
    ASSERT_EQ(per_environment.size(), 8u);
    for (const auto& [environment, count] : per_environment) EXPECT_EQ(count, 500) << environment;
}

TEST_F(Record, AWriterKilledMidAppendLeavesATornLineEveryReaderReportsUntilRepair) {
    auto a = offline_artifact("a");
    auto b = offline_artifact("b");
    deploy(a);
    deploy(b);
    const std::string before = read_text_file(ledger);
    const std::string marker = work.file("half-written");
    BackgroundProcess writer({tool_path("record"), "--artifact", a, "--environment", "production", "--ledger", ledger},
                             {{"DIGESTFLOW_TEST_PAUSE_MID_APPEND", marker}}, work.file("writer.log"));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!std::filesystem::exists(marker) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(std::filesystem::exists(marker)) << read_text_file(work.file("writer.log"));
    ASSERT_EQ(::kill(writer.pid(), SIGKILL), 0);
    while (writer.running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(writer.exit_code(), 128 + SIGKILL);

    const std::string torn_file = read_text_file(ledger);
    ASSERT_GT(torn_file.size(), before.size());
    ASSERT_EQ(torn_file.substr(0, before.size()), before);
    const std::string torn = torn_file.substr(before.size());
    EXPECT_EQ(torn.find('\n'), std::string::npos);

    // Readers: the complete lines, and the torn one reported.
    auto history = record({"history"});
    EXPECT_EQ(history.exit_code, 0) << history.describe();
    EXPECT_TRUE(contains(history.stderr_text, "torn line")) << history.describe();
    EXPECT_TRUE(contains(history.stdout_text, "[line 2]")) << history.describe();
    auto at = record({"history", "--environment", "production", "--at", "2999-01-01T00:00:00Z", "--json"});
    EXPECT_TRUE(contains(at.stderr_text, "torn line")) << at.describe();
    EXPECT_TRUE(json_output(at).contains("torn"));
    auto verify = record({"verify"});
    EXPECT_EQ(verify.exit_code, 1) << verify.describe();
    EXPECT_TRUE(contains(verify.stdout_text, "line 3: torn")) << verify.describe();
    // Writers refuse to chain onto it; the file is untouched.
    auto append = record({"--artifact", b, "--environment", "production"});
    EXPECT_EQ(append.exit_code, 2) << append.describe();
    EXPECT_TRUE(contains(append.stderr_text, "record repair")) << append.describe();
    EXPECT_EQ(read_text_file(ledger), torn_file);

    // Repair moves the bytes aside, whole; then the chain verifies and appends go on.
    auto repair = record({"repair", "--json"});
    ASSERT_EQ(repair.exit_code, 0) << repair.describe();
    std::string aside = json_output(repair)["tornBytesIn"];
    EXPECT_EQ(read_text_file(aside), torn);
    EXPECT_EQ(read_text_file(ledger), before);
    EXPECT_EQ(record({"verify"}).exit_code, 0);
    deploy(b);
    EXPECT_EQ(record({"verify"}).exit_code, 0);
    auto again = record({"repair"});
    EXPECT_EQ(again.exit_code, 0);
    EXPECT_TRUE(contains(again.stdout_text, "nothing changed")) << again.describe();
}

TEST_F(Record, VerifyNamesTheLineWhereAnEditedDeletedOrSwappedLineBreaksTheChain) {
    for (const char* name : {"a", "b", "c", "d", "e"}) deploy(offline_artifact(name));
    ASSERT_EQ(record({"verify"}).exit_code, 0);
    const auto good = lines_of(ledger);
    struct Case {
        std::string name;
        std::function<std::vector<std::string>(std::vector<std::string>)> tamper;
        std::string expected;
    };
    std::vector<Case> cases{
        {"one byte of line 2 changed",
         [](auto lines) {
             auto at = lines[1].find("\"by\":\"") + 6;
             lines[1][at] = lines[1][at] == 'x' ? 'y' : 'x';
             return lines;
         },
         "line 3: its prev does not match the hash of line 2"},
        {"line 3 deleted", [](auto lines) { lines.erase(lines.begin() + 2); return lines; },
         "line 3: its prev does not match the hash of line 2"},
        {"lines 2 and 3 swapped", [](auto lines) { std::swap(lines[1], lines[2]); return lines; },
         "line 2: its prev does not match the hash of line 1"},
        {"line 2 given twice", [](auto lines) { lines.insert(lines.begin() + 2, lines[1]); return lines; },
         "line 3: its prev is the hash of line 1, not of line 2: lines were inserted or moved"},
        {"last line edited (nothing after it)",
         [](auto lines) {
             lines[4].replace(lines[4].find("production"), 10, "productioN");
             return lines;
         },
         ""},
    };
    for (const auto& c : cases) {
        write_lines(ledger, c.tamper(good));
        auto verify = record({"verify"});
        if (c.expected.empty()) {
            // Only an anchor outside the file (an entry hash kept elsewhere, or signatures) catches an edited
            // last line.
            EXPECT_EQ(verify.exit_code, 0) << c.name << ": " << verify.describe();
            auto anchored = record({"verify", "--entry", sha256sum(good[4] + "\n")});
            EXPECT_EQ(anchored.exit_code, 1) << c.name << ": " << anchored.describe();
            EXPECT_TRUE(contains(anchored.stdout_text, "is not in the ledger")) << anchored.describe();
            continue;
        }
        EXPECT_EQ(verify.exit_code, 1) << c.name << ": " << verify.describe();
        EXPECT_TRUE(contains(verify.stdout_text, c.expected)) << c.name << ": " << verify.describe();
    }
}

TEST_F(Record, VerifyWithTheArtifactsEntriesCatchesALedgerCutShort) {
    auto a = offline_artifact("a");
    auto b = offline_artifact("b");
    deploy(a);
    deploy(b);
    auto whole = record({"verify", "--artifact", b, "--artifact-entries"});
    EXPECT_EQ(whole.exit_code, 0) << whole.describe();
    auto lines = lines_of(ledger);
    lines.pop_back();
    write_lines(ledger, lines);
    EXPECT_EQ(record({"verify"}).exit_code, 0) << "a cut chain is still a chain";
    auto cut = record({"verify", "--artifact", b, "--artifact-entries"});
    EXPECT_EQ(cut.exit_code, 1) << cut.describe();
    EXPECT_TRUE(contains(cut.stdout_text, "is not in the ledger")) << cut.describe();
}

TEST_F(Record, SignedEntriesVerifyWithTheirKeyAndFailWithAnother) {
    for (const char* name : {"bot", "other"}) {
        run_checked({"openssl", "genpkey", "-algorithm", "ed25519", "-out", work.file(std::string(name) + ".pem")});
        run_checked({"openssl", "pkey", "-in", work.file(std::string(name) + ".pem"), "-pubout", "-out",
                     work.file(std::string(name) + ".pub")});
    }
    auto a = offline_artifact("a");
    auto signed_run = record({"--artifact", a, "--environment", "production", "--sign-key", work.file("bot.pem")});
    ASSERT_EQ(signed_run.exit_code, 0) << signed_run.describe();
    EXPECT_FALSE(contains(signed_run.stdout_text + signed_run.stderr_text, "PRIVATE KEY"));
    ASSERT_EQ(record({"hold", "--environment", "production", "--reason", "r", "--sign-key", work.file("bot.pem")}).exit_code, 0);
    auto line = nlohmann::json::parse(lines_of(ledger)[0]);
    ASSERT_TRUE(line.contains("sig"));
    EXPECT_EQ(line["sig"]["alg"], "ed25519");

    auto good = record({"verify", "--verify-key", work.file("bot.pub"), "--json"});
    EXPECT_EQ(good.exit_code, 0) << good.describe();
    EXPECT_EQ(json_output(good)["checkedSignatures"], 2);
    auto other = record({"verify", "--verify-key", work.file("other.pub")});
    EXPECT_EQ(other.exit_code, 1) << other.describe();
    EXPECT_TRUE(contains(other.stdout_text, "line 1: signature")) << other.describe();
    auto unchecked = record({"verify"});
    EXPECT_EQ(unchecked.exit_code, 0);
    EXPECT_TRUE(contains(unchecked.stdout_text, "2 signed entries not checked")) << unchecked.describe();

    // An unsigned entry in a ledger whose entries must be signed is named.
    deploy(a);
    auto unsigned_line = record({"verify", "--verify-key", work.file("bot.pub")});
    EXPECT_EQ(unsigned_line.exit_code, 1);
    EXPECT_TRUE(contains(unsigned_line.stdout_text, "line 3: not signed")) << unsigned_line.describe();
    // A private key given as a public one (and the reverse) is a usage error that shows no key material.
    auto swapped = record({"verify", "--verify-key", work.file("bot.pem")});
    EXPECT_EQ(swapped.exit_code, 2) << swapped.describe();
    EXPECT_FALSE(contains(swapped.stderr_text, "BEGIN")) << swapped.describe();
}

TEST_F(Record, HistoryAtAnswersOnTheBoundaries) {
    auto a = offline_artifact("a");
    auto b = offline_artifact("b");
    deploy(a);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // entries carry whole seconds
    deploy(b);
    auto lines = lines_of(ledger);
    std::string first_at = nlohmann::json::parse(lines[0])["at"];
    std::string second_at = nlohmann::json::parse(lines[1])["at"];
    ASSERT_NE(first_at, second_at);
    auto at = [&](const std::string& time) { return record({"history", "--environment", "production", "--at", time, "--json"}); };

    auto exactly_first = at(first_at);
    ASSERT_EQ(exactly_first.exit_code, 0) << exactly_first.describe();
    EXPECT_EQ(json_output(exactly_first)["running"]["digest"], digest_of(a));
    auto exactly_second = at(second_at);
    EXPECT_EQ(json_output(exactly_second)["running"]["digest"], digest_of(b));
    auto before = at("2000-01-01T00:00:00Z");
    EXPECT_EQ(before.exit_code, 1) << before.describe();
    EXPECT_TRUE(json_output(before)["running"].is_null());
    auto after = at("2999-01-01T00:00:00+02:00");
    EXPECT_EQ(json_output(after)["running"]["digest"], digest_of(b));
    EXPECT_EQ(json_output(after)["running"]["line"], 2);
    auto other = record({"history", "--environment", "staging", "--at", second_at});
    EXPECT_EQ(other.exit_code, 1) << other.describe();
    auto bad = at("last tuesday");
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_TRUE(contains(bad.stderr_text, "RFC 3339")) << bad.describe();
}

TEST_F(Record, UsageErrorsAreOneLineWithExitTwo) {
    auto a = offline_artifact("a");
    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    std::vector<Case> cases{
        {{"--artifact", a}, "give --environment"},
        {{"--artifact", a, "--environment", "prod env"}, "--environment"},
        {{"history", "--environment", "production", "--at", "2026-13-01T00:00:00Z"}, "RFC 3339"},
        {{"rollback-target", "--environment", "production"}, "give --out"},
        {{"rollback-target", "--environment", "production", "--out", "x", "--steps", "0"}, "--steps"},
        {{"incident", "--environment", "production"}, "give --note"},
        {{"hold", "--environment", "production"}, "give --reason"},
        {{"frobnicate"}, "unknown command"},
    };
    for (const auto& c : cases) {
        auto run = record(c.args);
        EXPECT_EQ(run.exit_code, 2) << run.describe();
        EXPECT_TRUE(contains(run.stderr_text, c.expected)) << run.describe();
        EXPECT_EQ(std::count(run.stderr_text.begin(), run.stderr_text.end(), '\n'), 1) << run.describe();
    }
    auto missing = run_tool("record", {"history", "--ledger", work.file("nope.jsonl")});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_TRUE(contains(missing.stderr_text, "no ledger at")) << missing.describe();
    for (const char* command : {"history", "verify", "rollback-target", "incident", "hold", "release", "repair"}) {
        auto help = run_tool("record", {command, "--help"});
        EXPECT_EQ(help.exit_code, 0) << command;
        EXPECT_TRUE(contains(help.stdout_text, std::string("record ") + command)) << help.describe();
    }
    EXPECT_FALSE(std::filesystem::exists(ledger)) << "a refused command created the ledger";
}

// The workflow a release engineer runs, against a real registry: the rollback artifact is a real artifact.
class RecordWorkflow : public Record {
protected:
    static void SetUpTestSuite() { registry = new Registry(); }
    static void TearDownTestSuite() { delete registry; }
    std::string captured(const std::string& tag, const std::string& content) {
        std::string ref = registry->host() + "/team/web:" + tag;
        push_oci_image(registry->host(), "team/web", tag, {content});
        std::string path = work.file(tag + ".json");
        auto run = run_tool("capture-digest", {"--image", ref, "--resolve", "--out", path, "--quiet"});
        EXPECT_EQ(run.exit_code, 0) << run.describe();
        return path;
    }
    static Registry* registry;
};
Registry* RecordWorkflow::registry = nullptr;

TEST_F(RecordWorkflow, DeployRollBackRetagHoldRelease) {
    auto a = captured("build-1", "one");
    auto b = captured("build-2", "two");
    auto c = captured("build-3", "three");
    for (const auto& artifact : {a, b, c}) deploy(artifact);
    auto recorded = nlohmann::json::parse(read_text_file(c))["history"].back();
    EXPECT_EQ(recorded["step"], "record");
    EXPECT_EQ(recorded["entry"], sha256sum(lines_of(ledger).back() + "\n"));

    // Roll back one step: B, written as an artifact the other tools take.
    const std::string rollback = work.file("rollback.json");
    auto target = record({"rollback-target", "--environment", "production", "--out", rollback, "--workload",
                          "deployment/web", "--container", "web", "--json"});
    ASSERT_EQ(target.exit_code, 0) << target.describe();
    EXPECT_EQ(digest_of(rollback), digest_of(b));
    EXPECT_EQ(json_output(target)["kubectl"],
              "kubectl set image deployment/web web=" + registry->host() + "/team/web@" + digest_of(b));
    EXPECT_EQ(schema_problem(rollback), "");
    auto retag = run_tool("retag", {"--artifact", rollback, "--tag", "production"});
    ASSERT_EQ(retag.exit_code, 0) << retag.describe();
    EXPECT_EQ(served_digest(registry->host() + "/team/web:production", RemoteOptions{false}), digest_of(b));
    auto verify = run_tool("verify-digest", {"--artifact", rollback, "--ref", registry->host() + "/team/web:production"});
    EXPECT_EQ(verify.exit_code, 0) << verify.describe();
    deploy(rollback);
    auto rolled = nlohmann::json::parse(lines_of(ledger).back());
    EXPECT_EQ(rolled["rollbackOf"], digest_of(c));

    // The rollback is not a step: two steps back from C is A.
    auto two = record({"rollback-target", "--environment", "production", "--out", work.file("two.json"), "--steps", "2"});
    ASSERT_EQ(two.exit_code, 0) << two.describe();
    EXPECT_EQ(digest_of(work.file("two.json")), digest_of(a));

    // Hold: another digest is refused and nothing is written; the held one is fine; release allows.
    ASSERT_EQ(record({"hold", "--environment", "production", "--reason", "INC-7 rollback"}).exit_code, 0);
    const std::string held = read_text_file(ledger);
    auto refused = record({"--artifact", c, "--environment", "production"});
    EXPECT_EQ(refused.exit_code, 1) << refused.describe();
    EXPECT_TRUE(contains(refused.stderr_text, "production is held at " + digest_of(b))) << refused.describe();
    EXPECT_TRUE(contains(refused.stderr_text, "record release")) << refused.describe();
    EXPECT_EQ(read_text_file(ledger), held);
    auto same = record({"--artifact", rollback, "--environment", "production"});
    EXPECT_EQ(same.exit_code, 0) << same.describe();
    auto staging = record({"--artifact", c, "--environment", "staging"});
    EXPECT_EQ(staging.exit_code, 0) << "a hold is per environment: " << staging.describe();
    ASSERT_EQ(record({"release", "--environment", "production"}).exit_code, 0);
    EXPECT_EQ(record({"--artifact", c, "--environment", "production"}).exit_code, 0);

    // An incident on C: rollback-target passes over it.
    ASSERT_EQ(record({"incident", "--environment", "production", "--note", "INC-8"}).exit_code, 0);
    auto skip = record({"rollback-target", "--environment", "production", "--out", work.file("skip.json"), "--json"});
    ASSERT_EQ(skip.exit_code, 0) << skip.describe();
    EXPECT_EQ(digest_of(work.file("skip.json")), digest_of(b));
    EXPECT_EQ(record({"verify"}).exit_code, 0);
    auto history = record({"history", "--environment", "production", "--digest", digest_of(c), "--json"});
    // C's deployment, the two rollbacks from it (the rollback artifact was recorded twice), C again, the incident.
    EXPECT_EQ(json_output(history)["entries"].size(), 5u) << history.describe();
}

}  // namespace
}  // namespace digestflow::testsupport
