// The ledger's Git store against real git: a bare repository on disk (no network), clones of it, the operation
// called through the digestflow library and through `record --git`. git itself (run_command) is the judge: what landed on the bare
// repository's branch, its reflog, the clones' state.

#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/operations/ledger_git.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace digestflow::testsupport {
namespace {

using digestflow::operations::append_line_in_git;
using digestflow::operations::GitLedgerOptions;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

std::string git(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_checked(argv).stdout_text;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line + "\n");
    return lines;
}

// A deployment line chained onto `tip`; `n` makes each digest distinct so the test can count what landed.
std::string deploy_line(const ledger::Tip& tip, int n) {
    ledger::Entry entry;
    entry.kind = ledger::EntryKind::Deploy;
    entry.prev = tip.prev;
    entry.at = "2026-12-02T06:00:00Z";
    entry.environment = "production";
    entry.repository = "registry.example/app";
    char hex[65];
    std::snprintf(hex, sizeof hex, "%064x", n);
    entry.digest = std::string("sha256:") + hex;
    entry.by = "ledger_git_test";
    return ledger::serialize_line(entry);
}

std::function<std::string(const ledger::Tip&)> deploy(int n) {
    return [n](const ledger::Tip& tip) { return deploy_line(tip, n); };
}

// Four writers pushing back to back saturate the remote, and a writer that just landed starts its next entry
// at once while the losers wait: the unluckiest append needed 10 to 12 pushes over runs (measured with 100
// allowed). 30 keeps the stress test from sitting at the edge of the bound; DIGESTFLOW_GIT_BACKOFF_MS and
// DIGESTFLOW_GIT_ATTEMPTS override, for measuring.
GitLedgerOptions stress_options() {
    GitLedgerOptions options;
    options.attempts = 30;
    if (const char* ms = std::getenv("DIGESTFLOW_GIT_BACKOFF_MS"))
        options.backoff = std::chrono::milliseconds(std::atoi(ms));
    if (const char* n = std::getenv("DIGESTFLOW_GIT_ATTEMPTS"))
        options.attempts = std::atoi(n);
    return options;
}

class LedgerGitTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        // No user or system configuration: the clones have no identity (as on a CI runner), hooks are ours.
        s_config = new TempDir("ledger-git-config");
        write_text_file(s_config->file("gitconfig"), "");
        ::setenv("GIT_CONFIG_GLOBAL", s_config->file("gitconfig").c_str(), 1);
        ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
        ::setenv("USER", "ledger-tester", 1);
    }
    static void TearDownTestSuite() {
        delete s_config;
        s_config = nullptr;
    }

    void SetUp() override {
        m_bare = m_dir.file("bare.git");
        git({"init", "-q", "--bare", "-b", "main", m_bare});
        git({"-C", m_bare, "config", "core.logAllRefUpdates", "true"});
        const std::string seed = m_dir.file("seed");
        git({"clone", "-q", m_bare, seed});
        write_text_file(seed + "/README", "the deployment ledger\n");
        git({"-C", seed, "add", "README"});
        git({"-C", seed, "-c", "user.name=seed", "-c", "user.email=seed@example", "commit", "-q", "-m", "init"});
        git({"-C", seed, "push", "-q", "origin", "main"});
    }

    std::string clone(const std::string& name) {
        const std::string path = m_dir.file(name);
        git({"clone", "-q", m_bare, path});
        return path;
    }
    std::string bare_tip() { return trimmed(git({"-C", m_bare, "rev-parse", "main"})); }
    std::string bare_ledger() { return git({"-C", m_bare, "show", "main:ledger.jsonl"}); }

    // Every line's prev is the hash of the line before it (genesis for the first); returns the line count.
    static std::size_t expect_one_chain(const std::string& ledger) {
        std::string prev(ledger::genesis_prev);
        std::size_t number = 0;
        for (const std::string& line : split_lines(ledger)) {
            ++number;
            const ledger::Entry entry = ledger::parse_line(line, "line " + std::to_string(number));
            EXPECT_EQ(entry.prev, prev) << "line " << number << " is not chained onto the line before it";
            prev = ledger::line_hash(line);
        }
        return number;
    }

    // Each value the bare repository's branch took descends from the one before: no forced update, ever.
    void expect_only_fast_forwards(std::size_t expected_updates) {
        const std::vector<std::string> reflog =
            split_lines(git({"-C", m_bare, "reflog", "show", "--format=%H %gs", "refs/heads/main"}));
        EXPECT_EQ(reflog.size(), expected_updates) << "one reflog entry per landed push (plus the seed)";
        for (std::size_t i = 0; i + 1 < reflog.size(); ++i) {  // newest first
            const std::string newer = reflog[i].substr(0, 40);
            const std::string older = reflog[i + 1].substr(0, 40);
            EXPECT_FALSE(contains(reflog[i], "forced")) << reflog[i];
            const RunResult ancestor = run_command({"git", "-C", m_bare, "merge-base", "--is-ancestor", older, newer});
            EXPECT_EQ(ancestor.exit_code, 0) << older << " -> " << newer << " is not a fast-forward";
        }
    }

    // Runs `appends` appends in a child process on `clone` (forked: processes, as CI jobs are); the child's
    // error, if any, goes to a file the parent reports.
    pid_t spawn_appender(const std::string& clone_dir, int first_n, int appends, const GitLedgerOptions& options) {
        const std::string error_file = clone_dir + "-" + std::to_string(first_n) + ".err";
        m_error_files.push_back(error_file);
        const pid_t pid = ::fork();
        if (pid != 0)
            return pid;
        int status = 0;
        try {
            std::ofstream attempts(error_file + ".attempts");
            for (int i = 0; i < appends; ++i)
                attempts << append_line_in_git(clone_dir + "/ledger.jsonl",
                                               "record: production <- " + std::to_string(first_n + i),
                                               deploy(first_n + i), options)
                                .attempts
                         << "\n";
        } catch (const std::exception& e) {
            std::ofstream(error_file) << e.what() << "\n";
            status = 1;
        }
        std::fflush(nullptr);
        ::_exit(status);
    }
    void wait_for(const std::vector<pid_t>& children) {
        for (const pid_t pid : children) {
            int status = 0;
            ASSERT_EQ(::waitpid(pid, &status, 0), pid);
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "an appender failed";
        }
        int pushes = 0, most = 0, appends = 0;
        for (const std::string& file : m_error_files) {
            std::ifstream counts(file + ".attempts");
            for (int n = 0; counts >> n; ++appends) {
                pushes += n;
                most = std::max(most, n);
            }
            std::ifstream in(file);
            std::string error;
            std::getline(in, error);
            EXPECT_TRUE(error.empty()) << file << ": " << error;
        }
        std::cout << "[ measure ] " << appends << " appends took " << pushes << " pushes, at most " << most
                  << " for one\n";
    }

    static inline TempDir* s_config = nullptr;
    TempDir m_dir{"ledger-git"};
    std::string m_bare;
    std::vector<std::string> m_error_files;
};

TEST_F(LedgerGitTest, OneAppendLandsWithSubjectAndTrailer) {
    const std::string a = clone("a");
    const auto result = append_line_in_git(a + "/ledger.jsonl", "record: production <- registry.example/app@sha256:1",
                                           deploy(1));
    EXPECT_EQ(result.attempts, 1);
    EXPECT_EQ(result.branch, "main");
    EXPECT_EQ(result.appended.hash, ledger::line_hash(result.appended.line));
    EXPECT_EQ(result.commit, bare_tip());
    EXPECT_EQ(bare_ledger(), result.appended.line);
    EXPECT_EQ(trimmed(git({"-C", m_bare, "log", "-1", "--format=%s", "main"})),
              "record: production <- registry.example/app@sha256:1");
    EXPECT_EQ(trimmed(git({"-C", m_bare, "log", "-1", "--format=%(trailers:key=Digestflow-Entry,valueonly)", "main"})),
              result.appended.hash);
    // No identity configured: the actor's, in a domain that cannot be mistaken for a real mailbox.
    EXPECT_EQ(trimmed(git({"-C", m_bare, "log", "-1", "--format=%an <%ae>", "main"})),
              "ledger-tester <ledger-tester@digestflow.invalid>");
    EXPECT_EQ(git({"-C", a, "status", "--porcelain"}), "");

    // A second append from another clone chains onto the first.
    const std::string b = clone("b");
    const auto second = append_line_in_git(b + "/ledger.jsonl", "record: production <- 2", deploy(2));
    EXPECT_EQ(expect_one_chain(bare_ledger()), 2u);
    EXPECT_EQ(second.commit, bare_tip());
}

TEST_F(LedgerGitTest, FourClonesTwentyFiveEachAllLandInOneChain) {
    std::vector<std::string> clones;
    for (int i = 0; i < 4; ++i)
        clones.push_back(clone("c" + std::to_string(i)));
    const auto start = std::chrono::steady_clock::now();
    std::vector<pid_t> children;
    for (int i = 0; i < 4; ++i)
        children.push_back(spawn_appender(clones[i], 1000 * (i + 1), 25, stress_options()));
    wait_for(children);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "[ measure ] 4 clones x 25 appends --git: " << seconds << " s\n";
    RecordProperty("seconds_4x25", std::to_string(seconds));

    const std::string ledger = bare_ledger();
    EXPECT_EQ(expect_one_chain(ledger), 100u);
    std::set<std::string> digests;
    for (const std::string& line : split_lines(ledger))
        digests.insert(ledger::parse_line(line, "line").digest);
    EXPECT_EQ(digests.size(), 100u) << "every append landed exactly once";
    expect_only_fast_forwards(101);
}

TEST_F(LedgerGitTest, TwoProcessesInOneCloneTakeTurns) {
    const std::string shared = clone("shared");
    const std::string other = clone("other");
    std::vector<pid_t> children = {spawn_appender(shared, 100, 10, stress_options()),
                                   spawn_appender(shared, 200, 10, stress_options()),
                                   spawn_appender(other, 300, 10, stress_options())};
    wait_for(children);
    EXPECT_EQ(expect_one_chain(bare_ledger()), 30u);
    expect_only_fast_forwards(31);
    EXPECT_EQ(git({"-C", shared, "status", "--porcelain"}), "");
}

TEST_F(LedgerGitTest, RemoteMovedOnDuringThePushIsRechainedAndRetried) {
    // A pre-push hook in clone a lets clone b land an entry first, once: a's first push is then behind.
    const std::string a = clone("a");
    const std::string b = clone("b");
    append_line_in_git(a + "/ledger.jsonl", "first", deploy(1));
    git({"-C", b, "pull", "-q"});
    write_text_file(m_dir.file("other-line"), deploy_line({"", ledger::line_hash(bare_ledger())}, 2));
    write_text_file(a + "/.git/hooks/pre-push",
                    "#!/bin/sh\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
                    "[ -e '" + m_dir.file("hook-ran") + "' ] && exit 0\ntouch '" + m_dir.file("hook-ran") + "'\n"
                    "cd '" + b + "' && cat '" + m_dir.file("other-line") + "' >> ledger.jsonl && git add ledger.jsonl && "
                    "git -c user.name=b -c user.email=b@example commit -q -m other && git push -q origin main\n");
    run_checked({"chmod", "+x", a + "/.git/hooks/pre-push"});

    GitLedgerOptions options;
    options.backoff = std::chrono::milliseconds(10);
    const auto result = append_line_in_git(a + "/ledger.jsonl", "third", deploy(3), options);
    EXPECT_EQ(result.attempts, 2);
    const std::vector<std::string> lines = split_lines(bare_ledger());
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[2], result.appended.line);
    EXPECT_EQ(ledger::parse_line(lines[2], "line 3").prev, ledger::line_hash(lines[1]))
        << "the retried entry is built on the line that landed before it";
    EXPECT_EQ(expect_one_chain(bare_ledger()), 3u);
    expect_only_fast_forwards(4);
}

TEST_F(LedgerGitTest, AttemptsRunOutWithoutForceAndLeaveTheCloneAtTheRemoteTip) {
    const std::string a = clone("a");
    const std::string b = clone("b");
    // Before every push of a, b lands an empty commit: a is always behind.
    write_text_file(a + "/.git/hooks/pre-push",
                    "#!/bin/sh\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
                    "cd '" + b + "' && git pull -q && git -c user.name=b -c user.email=b@example commit -q "
                    "--allow-empty -m other && git push -q origin main\n");
    run_checked({"chmod", "+x", a + "/.git/hooks/pre-push"});
    GitLedgerOptions options;
    options.attempts = 3;
    options.backoff = std::chrono::milliseconds(10);
    try {
        append_line_in_git(a + "/ledger.jsonl", "never lands", deploy(1), options);
        FAIL() << "expected the attempts to run out";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Registry) << e.what();
        EXPECT_TRUE(contains(e.what(), "after 3 push(es)")) << e.what();
        EXPECT_TRUE(contains(e.what(), "nothing was force-pushed")) << e.what();
    }
    EXPECT_EQ(trimmed(git({"-C", a, "rev-parse", "HEAD"})), bare_tip()) << "no dangling local commit";
    EXPECT_EQ(git({"-C", a, "status", "--porcelain"}), "");
    EXPECT_EQ(run_command({"git", "-C", m_bare, "cat-file", "-e", "main:ledger.jsonl"}).exit_code, 128)
        << "no entry landed";
    expect_only_fast_forwards(4);
}

TEST_F(LedgerGitTest, HookRefusalIsARegistryErrorQuotingTheHookAndLeavesTheCloneClean) {
    const std::string a = clone("a");
    append_line_in_git(a + "/ledger.jsonl", "first", deploy(1));
    const std::string before_tip = bare_tip();
    const std::string before_ledger = read_text_file(a + "/ledger.jsonl");
    write_text_file(m_bare + "/hooks/pre-receive", "#!/bin/sh\necho 'production ledger is frozen by policy' >&2\nexit 1\n");
    run_checked({"chmod", "+x", m_bare + "/hooks/pre-receive"});
    try {
        append_line_in_git(a + "/ledger.jsonl", "refused", deploy(2));
        FAIL() << "expected the push to be refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Registry) << e.what();
        EXPECT_TRUE(contains(e.what(), "production ledger is frozen by policy")) << e.what();
        EXPECT_TRUE(contains(e.what(), "pre-receive hook declined")) << e.what();
        EXPECT_FALSE(contains(e.what(), "\n")) << e.what();
    }
    EXPECT_EQ(bare_tip(), before_tip);
    EXPECT_EQ(trimmed(git({"-C", a, "rev-parse", "HEAD"})), before_tip) << "the refused commit is dropped";
    EXPECT_EQ(git({"-C", a, "status", "--porcelain"}), "");
    EXPECT_EQ(read_text_file(a + "/ledger.jsonl"), before_ledger);
}

TEST_F(LedgerGitTest, UncommittedChangeInTheLedgerIsAUsageErrorAndNothingIsCommitted) {
    const std::string a = clone("a");
    append_line_in_git(a + "/ledger.jsonl", "first", deploy(1));
    const std::string before_tip = bare_tip();
    const std::string edited = read_text_file(a + "/ledger.jsonl") + "{\"hand\":\"edit\"}\n";
    write_text_file(a + "/ledger.jsonl", edited);
    try {
        append_line_in_git(a + "/ledger.jsonl", "second", deploy(2));
        FAIL() << "expected a usage error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
        EXPECT_TRUE(contains(e.what(), "ledger.jsonl")) << e.what();
        EXPECT_TRUE(contains(e.what(), "not committed")) << e.what();
    }
    EXPECT_EQ(bare_tip(), before_tip);
    EXPECT_EQ(trimmed(git({"-C", a, "rev-parse", "HEAD"})), before_tip);
    EXPECT_EQ(read_text_file(a + "/ledger.jsonl"), edited) << "the user's change is left alone";
}

TEST_F(LedgerGitTest, SecretInTheRemoteUrlNeverShows) {
    const std::string a = clone("a");
    const std::string url = "http://user:secret@127.0.0.1:1/ledger.git";  // port 1: refused at once
    for (const bool named : {true, false}) {
        GitLedgerOptions options;
        if (named)
            git({"-C", a, "remote", "set-url", "origin", url});
        else
            options.remote = url;
        try {
            append_line_in_git(a + "/ledger.jsonl", "x", deploy(1), options);
            FAIL() << "expected the fetch to fail";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Registry) << e.what();
            EXPECT_FALSE(contains(e.what(), "secret")) << e.what();
            EXPECT_TRUE(contains(e.what(), "127.0.0.1")) << e.what();
        }
    }
    EXPECT_EQ(git({"-C", a, "status", "--porcelain"}), "");
}

TEST_F(LedgerGitTest, ALongTokenInTheRemoteUrlNeverShowsEvenWhereMessagesAreCut) {
    const std::string a = clone("a");
    GitLedgerOptions options;
    options.remote = "http://ci:github_pat_" + std::string(90, 'x') + "@127.0.0.1:1/org/ledger.git";
    try {
        append_line_in_git(a + "/ledger.jsonl", "x", deploy(1), options);
        FAIL() << "expected the fetch to fail";
    } catch (const Error& e) {
        EXPECT_FALSE(contains(e.what(), "xxxxxxxx")) << e.what();
        EXPECT_FALSE(contains(e.what(), "github_pat")) << e.what();
    }
}

TEST_F(LedgerGitTest, ARemoteThatLooksLikeAnOptionIsRefused) {
    const std::string a = clone("a");
    const std::string marker = a + "/../pwned";
    GitLedgerOptions options;
    options.remote = "--upload-pack=touch " + marker + ";";
    try {
        append_line_in_git(a + "/ledger.jsonl", "x", deploy(1), options);
        FAIL() << "expected a usage error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(marker)) << "git ran the remote's text as an option";
}

TEST_F(LedgerGitTest, StagedChangesOfOtherFilesAreRefusedBeforeAnyWrite) {
    const std::string a = clone("a");
    write_text_file(a + "/other.txt", "staged\n");
    git({"-C", a, "add", "other.txt"});
    try {
        append_line_in_git(a + "/ledger.jsonl", "x", deploy(1));
        FAIL() << "expected a usage error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
        EXPECT_TRUE(contains(e.what(), "staged changes")) << e.what();
    }
    EXPECT_EQ(git({"-C", a, "diff", "--cached", "--name-only"}), "other.txt\n") << "the staged change is kept";
}

TEST_F(LedgerGitTest, DetachedHeadAndNoWorkTreeAreUsageErrors) {
    const std::string a = clone("a");
    git({"-C", a, "checkout", "-q", "--detach"});
    try {
        append_line_in_git(a + "/ledger.jsonl", "x", deploy(1));
        FAIL() << "expected a usage error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
        EXPECT_TRUE(contains(e.what(), "detached HEAD")) << e.what();
    }
    try {
        append_line_in_git(m_dir.file("ledger.jsonl"), "x", deploy(1));
        FAIL() << "expected a usage error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
        EXPECT_TRUE(contains(e.what(), "not in a Git work tree")) << e.what();
    }
}

TEST_F(LedgerGitTest, CommitRefusedLocallyLeavesTheLedgerAsItWas) {
    const std::string a = clone("a");
    append_line_in_git(a + "/ledger.jsonl", "first", deploy(1));
    const std::string before = read_text_file(a + "/ledger.jsonl");
    const std::string tip = bare_tip();
    write_text_file(a + "/.git/hooks/pre-commit", "#!/bin/sh\necho 'no commits today' >&2\nexit 1\n");
    run_checked({"chmod", "+x", a + "/.git/hooks/pre-commit"});
    try {
        append_line_in_git(a + "/ledger.jsonl", "second", deploy(2));
        FAIL() << "expected a usage error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
        EXPECT_TRUE(contains(e.what(), "no commits today")) << e.what();
    }
    EXPECT_EQ(read_text_file(a + "/ledger.jsonl"), before);
    EXPECT_EQ(git({"-C", a, "status", "--porcelain"}), "");
    EXPECT_EQ(bare_tip(), tip);
}

TEST_F(LedgerGitTest, UnpushedCommitsAndAnIgnoredLedgerAreRefusedUntouched) {
    const std::string a = clone("a");
    write_text_file(a + "/notes", "mine\n");
    git({"-C", a, "add", "notes"});
    git({"-C", a, "-c", "user.name=u", "-c", "user.email=u@example", "commit", "-q", "-m", "local work"});
    const std::string head = trimmed(git({"-C", a, "rev-parse", "HEAD"}));
    try {
        append_line_in_git(a + "/ledger.jsonl", "x", deploy(1));
        FAIL() << "expected a usage error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
        EXPECT_TRUE(contains(e.what(), "1 commit(s) not on origin/main")) << e.what();
    }
    EXPECT_EQ(trimmed(git({"-C", a, "rev-parse", "HEAD"})), head) << "the user's commit is kept";
    EXPECT_EQ(run_command({"git", "-C", m_bare, "cat-file", "-e", "main:notes"}).exit_code, 128) << "and not pushed";

    const std::string b = clone("b");
    write_text_file(b + "/.git/info/exclude", "*.jsonl\n");
    write_text_file(b + "/ledger.jsonl", "kept\n");
    try {
        append_line_in_git(b + "/ledger.jsonl", "x", deploy(1));
        FAIL() << "expected a usage error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
        EXPECT_TRUE(contains(e.what(), "ignored by Git")) << e.what();
    }
    EXPECT_EQ(read_text_file(b + "/ledger.jsonl"), "kept\n");
}

// The test, through the tool: 4 clones, each a loop of 25 `record --git` processes, at once.
TEST_F(LedgerGitTest, RecordToolFourClonesTwentyFiveEach) {
    std::vector<std::unique_ptr<BackgroundProcess>> writers;
    const auto start = std::chrono::steady_clock::now();
    for (int w = 0; w < 4; ++w) {
        const std::string dir = clone("t" + std::to_string(w));
        const std::string artifact = m_dir.file("artifact-" + std::to_string(w) + ".json");
        char hex[65];
        std::snprintf(hex, sizeof hex, "%064x", 0xa000 + w);
        const RunResult captured =
            run_tool("capture-digest", {"--image", "127.0.0.1:1/team/app:w" + std::to_string(w), "--digest",
                                        std::string("sha256:") + hex, "--offline", "--out", artifact, "--quiet"});
        ASSERT_EQ(captured.exit_code, 0) << captured.describe();
        const std::string script =
            "for i in $(seq 25); do \"$0\" --artifact \"$1\" --out \"$1.out\" --environment production "
            "--ledger \"$2/deployments.jsonl\" --git --json || exit 1; done";
        writers.push_back(std::make_unique<BackgroundProcess>(
            std::vector<std::string>{"sh", "-c", script, std::string(DIGESTFLOW_TOOLS_DIR) + "/record/record",
                                     artifact, dir},
            std::map<std::string, std::string>{{"GIT_CONFIG_GLOBAL", s_config->file("gitconfig")},
                                               {"GIT_CONFIG_NOSYSTEM", "1"}},
            m_dir.file("writer-" + std::to_string(w) + ".log"), m_dir.file("writer-" + std::to_string(w) + ".err")));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    int pushes = 0, most = 0;
    for (int w = 0; w < 4; ++w) {
        while (writers[w]->running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ASSERT_FALSE(writers[w]->running()) << "a writer did not finish in 5 minutes";
        EXPECT_EQ(writers[w]->exit_code(), 0) << read_text_file(m_dir.file("writer-" + std::to_string(w) + ".err"));
        // One --json document per record run, one after the other.
        std::istringstream log(read_text_file(m_dir.file("writer-" + std::to_string(w) + ".log")));
        for (nlohmann::json doc; (log >> std::ws).peek() != EOF;) {
            log >> doc;
            const int attempts = doc["git"]["attempts"];
            pushes += attempts;
            most = std::max(most, attempts);
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "[ measure ] record --git, 4 clones x 25: " << seconds << " s, " << pushes << " pushes, at most "
              << most << " for one\n";

    const std::string ledger = git({"-C", m_bare, "show", "main:deployments.jsonl"});
    EXPECT_EQ(expect_one_chain(ledger), 100u);
    expect_only_fast_forwards(101);
    std::map<std::string, int> per_digest;
    for (const std::string& line : split_lines(ledger))
        per_digest[ledger::parse_line(line, "line").digest]++;
    EXPECT_EQ(per_digest.size(), 4u);
    for (const auto& [digest, count] : per_digest)
        EXPECT_EQ(count, 25) << digest;
    // The commit names the deployment, its trailer the entry.
    const std::string subject = trimmed(git({"-C", m_bare, "log", "-1", "--format=%s", "main"}));
    EXPECT_TRUE(subject.starts_with("record: production <- 127.0.0.1:1/team/app@sha256:")) << subject;
    const std::vector<std::string> lines = split_lines(ledger);
    EXPECT_EQ(trimmed(git({"-C", m_bare, "log", "-1", "--format=%(trailers:key=Digestflow-Entry,valueonly)", "main"})),
              ledger::line_hash(lines.back()));
}

}  // namespace
}  // namespace digestflow::testsupport
