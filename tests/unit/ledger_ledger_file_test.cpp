// The ledger file: appends chain onto the last complete line, a refused make_line writes nothing, a torn tail
// or a foreign last line stops appends without changing a byte, the read view splits complete lines from the
// torn tail, repair moves the torn bytes aside, and FIFOs, folders and missing paths are refused at once.
#include "digestflow/ledger/ledger_file.hpp"

#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"

#include "labelled_cases.hpp"
#include "ledger_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <csignal>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace digestflow::ledger {
namespace {

DIGESTFLOW_LABELLED_CASES()

using namespace testing_support;

// make_line for a plain deploy: chains onto the tip it is given.
std::function<std::string(const Tip&)> deploy_on_tip(const std::string& environment, const std::string& name,
                                                     std::vector<Tip>* seen = nullptr) {
    return [=](const Tip& tip) {
        if (seen) seen->push_back(Tip{tip.last_line, tip.prev, {}});
        Entry entry = deploy(environment, digest_named(name), "2026-12-02T05:43:32Z");
        entry.prev = tip.prev;
        return serialize_line(entry);
    };
}

std::vector<std::string> files_in(const fs::path& folder) {
    std::vector<std::string> names;
    for (const auto& item : fs::directory_iterator(folder)) names.push_back(item.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

class LedgerFile : public ::testing::Test {
protected:
    TempDir m_dir;
    std::string m_path = m_dir.file("ledger.jsonl");
};

TEST_F(LedgerFile, AppendCreatesTheFileAndChainsFromGenesis) {
    ASSERT_FALSE(fs::exists(m_path));
    std::vector<Tip> seen;
    Appended first = append_line(m_path, deploy_on_tip("production", "A", &seen));
    Appended second = append_line(m_path, deploy_on_tip("production", "B", &seen));

    // The first entry is built twice: once before the file exists (so a refusal creates nothing), once locked.
    ASSERT_EQ(seen.size(), 3u);
    for (int i : {0, 1}) {
        EXPECT_EQ(seen[i].last_line, "");
        EXPECT_EQ(seen[i].prev, genesis_prev);
    }
    EXPECT_EQ(seen[2].last_line, first.line);
    EXPECT_EQ(seen[2].prev, line_hash(first.line));
    EXPECT_EQ(parse_line(second.line, "x").prev, line_hash(first.line));
    EXPECT_EQ(first.hash, line_hash(first.line));
    EXPECT_EQ(second.hash, line_hash(second.line));
    EXPECT_EQ(read_bytes(m_path), first.line + second.line);
    EXPECT_EQ(files_in(m_dir.path()), std::vector<std::string>{"ledger.jsonl"}) << "nothing else is created";
}

TEST_F(LedgerFile, AppendOnAnEmptyFileStartsAtGenesis) {
    write_bytes(m_path, "");
    std::vector<Tip> seen;
    append_line(m_path, deploy_on_tip("production", "A", &seen));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].prev, genesis_prev);
    EXPECT_EQ(seen[0].last_line, "");
}

TEST_F(LedgerFile, AMakeLineThatThrowsWritesNothing) {
    Appended first = append_line(m_path, deploy_on_tip("production", "A"));
    EXPECT_THROW(append_line(m_path, [](const Tip&) -> std::string { throw_check_failed("held"); }), Error);
    EXPECT_EQ(read_bytes(m_path), first.line);
}

// A refused first entry (e.g. record hold on a mistyped --ledger path, refused because nothing is deployed)
// leaves no empty ledger behind: the next reader still says "no ledger at PATH".
TEST_F(LedgerFile, AMakeLineThatThrowsOnAMissingLedgerLeavesNoFile) {
    EXPECT_THROW(append_line(m_path, [](const Tip&) -> std::string { throw_usage("nothing deployed"); }), Error);
    EXPECT_FALSE(fs::exists(m_path)) << "an empty ledger was left at " << m_path;
}

struct BadLineCase {
    std::string label;
    std::string line;
};

class LedgerFileMakeLine : public ::testing::TestWithParam<BadLineCase> {};

TEST_P(LedgerFileMakeLine, NotOneNewlineTerminatedLineIsAProgrammingErrorAndWritesNothing) {
    TempDir dir;
    const std::string path = dir.file("ledger.jsonl");
    Appended first = append_line(path, deploy_on_tip("production", "A"));
    const std::string bad = GetParam().line;
    EXPECT_THROW(append_line(path, [&](const Tip&) { return bad; }), std::logic_error);
    EXPECT_EQ(read_bytes(path), first.line);
}

INSTANTIATE_TEST_SUITE_P(Table, LedgerFileMakeLine,
                         ::testing::Values(BadLineCase{"empty", ""}, BadLineCase{"no_newline", "{\"v\":1}"},
                                           BadLineCase{"two_lines", "{\"v\":1}\n{\"v\":1}\n"},
                                           BadLineCase{"newline_inside", "{\"v\":\n1}\n"},
                                           BadLineCase{"longer_than_a_line", std::string(max_line_bytes + 1, 'x') + "\n"}),
                         label_of<BadLineCase>);

TEST_F(LedgerFile, ATornTailStopsAppendsWithoutChangingAByte) {
    Appended first = append_line(m_path, deploy_on_tip("production", "A"));
    Entry next = deploy("production", digest_named("B"), "2026-12-02T05:43:33Z");
    next.prev = first.hash;
    const std::string half = serialize_line(next).substr(0, 40);
    write_bytes(m_path, first.line + half);
    const std::string before = read_bytes(m_path);

    bool called = false;
    std::string message = error_of(ErrorKind::Usage, [&] {
        append_line(m_path, [&](const Tip& tip) {
            called = true;
            return deploy_on_tip("production", "C")(tip);
        });
    });
    EXPECT_FALSE(called) << "make_line must not see a torn ledger";
    EXPECT_TRUE(contains(message, "record repair")) << message;
    EXPECT_TRUE(contains(message, m_path)) << message;
    EXPECT_TRUE(contains(message, "40 bytes")) << message;
    EXPECT_TRUE(contains(message, "from byte " + std::to_string(first.line.size()))) << message;
    EXPECT_EQ(read_bytes(m_path), before);
}

TEST_F(LedgerFile, ATornFirstLineStopsAppendsToo) {
    write_bytes(m_path, "{\"v\":1,\"prev\":");
    std::string message = error_of(ErrorKind::Usage, [&] { append_line(m_path, deploy_on_tip("production", "A")); });
    EXPECT_TRUE(contains(message, "record repair")) << message;
    EXPECT_TRUE(contains(message, "from byte 0")) << message;
    EXPECT_EQ(read_bytes(m_path), "{\"v\":1,\"prev\":");
}

struct ForeignTailCase {
    std::string label;
    std::string content;
};

class LedgerFileForeignLastLine : public ::testing::TestWithParam<ForeignTailCase> {};

TEST_P(LedgerFileForeignLastLine, IsNeverChainedOnto) {
    TempDir dir;
    const std::string path = dir.file("ledger.jsonl");
    write_bytes(path, GetParam().content);
    bool called = false;
    std::string message = error_of(ErrorKind::Usage, [&] {
        append_line(path, [&](const Tip& tip) {
            called = true;
            return deploy_on_tip("production", "A")(tip);
        });
    });
    EXPECT_FALSE(called);
    EXPECT_TRUE(contains(message, path)) << message;
    EXPECT_EQ(read_bytes(path), GetParam().content);
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerFileForeignLastLine,
    ::testing::Values(ForeignTailCase{"text", "hello world\n"},
                      ForeignTailCase{"json_not_a_ledger_line", "{\"name\":\"app\"}\n"},
                      ForeignTailCase{"a_good_line_then_a_foreign_one", [] {
                                          return chain_lines({deploy("production", digest_named("A"), "2026-12-02T05:43:32Z")})[0] +
                                                 "# comment\n";
                                      }()},
                      ForeignTailCase{"an_empty_last_line", [] {
                                          return chain_lines({deploy("production", digest_named("A"), "2026-12-02T05:43:32Z")})[0] +
                                                 "\n";
                                      }()},
                      ForeignTailCase{"a_last_line_longer_than_any_entry", std::string(max_line_bytes + 10, 'x') + "\n"}),
    label_of<ForeignTailCase>);

TEST_F(LedgerFile, ViewSplitsCompleteLinesFromTheTornTail) {
    auto lines = chain_lines({deploy("production", digest_named("A"), "2026-12-02T05:43:32Z"),
                              deploy("staging", digest_named("B"), "2026-12-02T05:43:33Z")});
    write_bytes(m_path, joined(lines) + "{\"v\":1,\"pr");
    LedgerView view(m_path);
    EXPECT_EQ(view.path(), m_path);
    EXPECT_EQ(view.complete(), joined(lines));
    ASSERT_TRUE(view.torn().has_value());
    EXPECT_EQ(view.torn()->offset, joined(lines).size());
    EXPECT_EQ(view.torn()->bytes, "{\"v\":1,\"pr");
    EXPECT_TRUE(contains(view.torn_report(), "record repair")) << view.torn_report();
    EXPECT_TRUE(contains(view.torn_report(), "10 bytes")) << view.torn_report();
}

TEST_F(LedgerFile, ViewOfAnUntornLedgerHasNoTornTail) {
    auto lines = chain_lines({deploy("production", digest_named("A"), "2026-12-02T05:43:32Z")});
    write_bytes(m_path, joined(lines));
    LedgerView view(m_path);
    EXPECT_EQ(view.complete(), joined(lines));
    EXPECT_FALSE(view.torn().has_value());
    EXPECT_EQ(view.torn_report(), "");
}

TEST_F(LedgerFile, ViewOfAnEmptyLedgerIsEmpty) {
    write_bytes(m_path, "");
    LedgerView view(m_path);
    EXPECT_EQ(view.complete(), "");
    EXPECT_FALSE(view.torn().has_value());
}

TEST_F(LedgerFile, ViewOfOnlyATornLineHasNoCompleteLines) {
    write_bytes(m_path, "{\"v\":1");
    LedgerView view(m_path);
    EXPECT_EQ(view.complete(), "");
    ASSERT_TRUE(view.torn().has_value());
    EXPECT_EQ(view.torn()->offset, 0u);
    EXPECT_EQ(view.torn()->bytes, "{\"v\":1");
}

TEST_F(LedgerFile, ViewOfAMissingLedgerSaysSo) {
    std::string message = error_of(ErrorKind::Usage, [&] { LedgerView view(m_path); });
    EXPECT_TRUE(contains(message, "no ledger at \"" + m_path + "\"")) << message;
}

TEST_F(LedgerFile, ForEachLineNumbersFromOneAndKeepsTheNewlines) {
    std::vector<std::pair<std::size_t, std::string>> seen;
    for_each_line("a\nbb\n\nccc\n", [&](std::size_t number, std::string_view line) { seen.emplace_back(number, line); });
    const std::vector<std::pair<std::size_t, std::string>> expected{{1, "a\n"}, {2, "bb\n"}, {3, "\n"}, {4, "ccc\n"}};
    EXPECT_EQ(seen, expected);
    seen.clear();
    for_each_line("", [&](std::size_t number, std::string_view line) { seen.emplace_back(number, line); });
    EXPECT_TRUE(seen.empty());
}

TEST_F(LedgerFile, RepairMovesTheTornBytesAsideAndTruncatesToTheLastCompleteLine) {
    Appended first = append_line(m_path, deploy_on_tip("production", "A"));
    Appended second = append_line(m_path, deploy_on_tip("production", "B"));
    std::string torn = "{\"v\":1,\"prev\":\"sha256:0123";
    torn += std::string("\x00\xff binary", 9);  // the torn bytes are kept exactly, whatever they are
    write_bytes(m_path, first.line + second.line + torn);

    std::optional<std::string> aside = repair_torn_tail(m_path);
    ASSERT_TRUE(aside.has_value());
    EXPECT_EQ(aside->rfind(m_path + ".torn-", 0), 0u) << *aside;
    EXPECT_EQ(read_bytes(*aside), torn);
    EXPECT_EQ(read_bytes(m_path), first.line + second.line);

    // The ledger is appendable again, onto the last complete line.
    std::vector<Tip> seen;
    append_line(m_path, deploy_on_tip("production", "C", &seen));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].prev, second.hash);
}

TEST_F(LedgerFile, RepairOfATornOnlyLineLeavesAnEmptyLedger) {
    write_bytes(m_path, "{\"v\":1,\"pr");
    std::optional<std::string> aside = repair_torn_tail(m_path);
    ASSERT_TRUE(aside.has_value());
    EXPECT_EQ(read_bytes(*aside), "{\"v\":1,\"pr");
    EXPECT_EQ(read_bytes(m_path), "");
}

TEST_F(LedgerFile, RepairWithNothingTornChangesNothing) {
    Appended first = append_line(m_path, deploy_on_tip("production", "A"));
    EXPECT_EQ(repair_torn_tail(m_path), std::nullopt);
    EXPECT_EQ(read_bytes(m_path), first.line);
    EXPECT_EQ(files_in(m_dir.path()), std::vector<std::string>{"ledger.jsonl"});
    write_bytes(m_path, "");
    EXPECT_EQ(repair_torn_tail(m_path), std::nullopt);
}

TEST_F(LedgerFile, RepairTwiceKeepsBothTornFiles) {
    Appended first = append_line(m_path, deploy_on_tip("production", "A"));
    write_bytes(m_path, first.line + "one");
    std::optional<std::string> one = repair_torn_tail(m_path);
    write_bytes(m_path, first.line + "two");
    std::optional<std::string> two = repair_torn_tail(m_path);
    ASSERT_TRUE(one && two);
    EXPECT_NE(*one, *two) << "a second repair within the same second must not overwrite the first";
    EXPECT_EQ(read_bytes(*one), "one");
    EXPECT_EQ(read_bytes(*two), "two");
}

TEST_F(LedgerFile, RepairOfAMissingLedgerSaysSo) {
    std::string message = error_of(ErrorKind::Usage, [&] { repair_torn_tail(m_path); });
    EXPECT_TRUE(contains(message, "no ledger at")) << message;
}

enum class Call { Append, View, Repair };

struct NotAFileCase {
    std::string label;
    Call call;
    bool fifo;  // else a folder
};

class LedgerFileNotARegularFile : public ::testing::TestWithParam<NotAFileCase> {};

// A FIFO with no writer would block a plain open: the test would hang, not fail slowly (ctest's timeout).
TEST_P(LedgerFileNotARegularFile, IsRefusedAtOnce) {
    TempDir dir;
    const std::string path = dir.file("ledger.jsonl");
    if (GetParam().fifo)
        ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    else
        fs::create_directory(path);
    std::string message = error_of(ErrorKind::Usage, [&] {
        switch (GetParam().call) {
        case Call::Append: append_line(path, deploy_on_tip("production", "A")); break;
        case Call::View: {
            LedgerView view(path);
            break;
        }
        case Call::Repair: repair_torn_tail(path); break;
        }
    });
    EXPECT_TRUE(contains(message, path)) << message;
    EXPECT_EQ(GetParam().fifo ? fs::is_fifo(path) : fs::is_directory(path), true);
}

INSTANTIATE_TEST_SUITE_P(Table, LedgerFileNotARegularFile,
                         ::testing::Values(NotAFileCase{"append_fifo", Call::Append, true},
                                           NotAFileCase{"view_fifo", Call::View, true},
                                           NotAFileCase{"repair_fifo", Call::Repair, true},
                                           NotAFileCase{"append_folder", Call::Append, false},
                                           NotAFileCase{"view_folder", Call::View, false},
                                           NotAFileCase{"repair_folder", Call::Repair, false}),
                         label_of<NotAFileCase>);

TEST_F(LedgerFile, FindLastOnTheTipFindsTheNewestMatchingLine) {
    std::vector<Appended> written;
    for (const auto& [environment, name] : std::vector<std::pair<std::string, std::string>>{
             {"production", "A"}, {"staging", "B"}, {"production", "C"}, {"staging", "D"}, {"qa", "E"}})
        written.push_back(append_line(m_path, deploy_on_tip(environment, name)));

    std::optional<std::string> staging, production, first, none;
    std::size_t calls = 0;
    append_line(m_path, [&](const Tip& tip) {
        staging = tip.find_last([](std::string_view line) { return line.find("\"staging\"") != std::string_view::npos; });
        production = tip.find_last([](std::string_view line) { return line.find("\"production\"") != std::string_view::npos; });
        first = tip.find_last([&](std::string_view line) { return line == written[0].line; });
        none = tip.find_last([&](std::string_view) {
            ++calls;
            return false;
        });
        return deploy_on_tip("qa", "F")(tip);
    });
    EXPECT_EQ(staging, written[3].line);
    EXPECT_EQ(production, written[2].line);
    EXPECT_EQ(first, written[0].line);
    EXPECT_EQ(none, std::nullopt);
    EXPECT_EQ(calls, written.size()) << "every complete line is offered once, the new one is not";
}

TEST_F(LedgerFile, FindLastOnAnEmptyLedgerFindsNothing) {
    std::optional<std::string> found = "unset";
    append_line(m_path, [&](const Tip& tip) {
        found = tip.find_last([](std::string_view) { return true; });
        return deploy_on_tip("production", "A")(tip);
    });
    EXPECT_EQ(found, std::nullopt);
}

TEST_F(LedgerFile, FindLastReadsLinesLongerThanItsReadChunk) {
    // Lines of ~20 KiB cross the backward reader's 16 KiB chunks.
    std::vector<Appended> written;
    for (const std::string name : {"A", "B", "C"}) {
        written.push_back(append_line(m_path, [&](const Tip& tip) {
            Entry entry = deploy(name == "B" ? "staging" : "production", digest_named(name), "2026-12-02T05:43:32Z");
            entry.prev = tip.prev;
            entry.tag = std::string(20000, name[0]);
            return serialize_line(entry);
        }));
    }
    std::optional<std::string> staging;
    std::vector<Tip> seen;
    append_line(m_path, [&](const Tip& tip) {
        seen.push_back(Tip{tip.last_line, tip.prev, {}});
        staging = tip.find_last([](std::string_view line) { return line.find("\"staging\"") != std::string_view::npos; });
        return deploy_on_tip("production", "D")(tip);
    });
    EXPECT_EQ(staging, written[1].line);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].last_line, written[2].line);
    EXPECT_EQ(seen[0].prev, written[2].hash);
}

// The backward search reads in 256 KiB chunks: lines crossing chunk edges, and a match far behind the tip.
TEST_F(LedgerFile, FindLastSearchesBackThroughSeveralChunks) {
    std::vector<Appended> written;
    for (int i = 0; i < 40; ++i) {
        written.push_back(append_line(m_path, [&](const Tip& tip) {
            Entry entry = deploy(i == 0 ? "staging" : "production", digest_named(std::to_string(i)), "2026-12-02T05:43:32Z");
            entry.prev = tip.prev;
            entry.tag = std::string(static_cast<std::size_t>(9000 + 977 * (i % 13)), 'a' + static_cast<char>(i % 26));
            return serialize_line(entry);
        }));
    }
    ASSERT_GT(fs::file_size(m_path), 2u * 256 * 1024);
    std::optional<std::string> staging, tenth;
    std::size_t offered = 0;
    append_line(m_path, [&](const Tip& tip) {
        staging = tip.find_last([&](std::string_view line) {
            ++offered;
            return line.find("\"staging\"") != std::string_view::npos;
        });
        tenth = tip.find_last([&](std::string_view line) { return line == written[10].line; });
        return deploy_on_tip("production", "last")(tip);
    });
    EXPECT_EQ(staging, written[0].line);
    EXPECT_EQ(tenth, written[10].line);
    EXPECT_EQ(offered, written.size()) << "each line offered once, whole";
}

// A first entry whose write fails (a full disk; here the file size limit, which fails the same write) used to
// leave an empty ledger file behind: nothing of a failed append may remain.
TEST_F(LedgerFile, AFailedFirstWriteLeavesNoEmptyLedger) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG, as it fails with ENOSPC on a full disk
        rlimit limit{10, 10};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        try {
            append_line(m_path, deploy_on_tip("production", "A"));
        } catch (const Error& error) {
            ::_exit(error.kind() == ErrorKind::Usage ? 0 : 2);
        } catch (...) {
            ::_exit(3);
        }
        ::_exit(1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the write did not fail; 2/3: not a usage error";
    EXPECT_FALSE(fs::exists(m_path)) << "a failed first append left a ledger file";
}

TEST_F(LedgerFile, AFailedLaterWriteLeavesTheLedgerAsItWas) {
    append_line(m_path, deploy_on_tip("production", "A"));
    const std::string before = read_bytes(m_path);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit{static_cast<rlim_t>(before.size() + 10), static_cast<rlim_t>(before.size() + 10)};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        try {
            append_line(m_path, deploy_on_tip("production", "B"));
        } catch (const Error&) {
            ::_exit(0);
        }
        ::_exit(1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(read_bytes(m_path), before);
}

TEST_F(LedgerFile, AppendIntoAMissingFolderNamesTheFolder) {
    const std::string path = m_dir.file("no-such-folder/ledger.jsonl");
    std::string message = error_of(ErrorKind::Usage, [&] { append_line(path, deploy_on_tip("production", "A")); });
    EXPECT_TRUE(contains(message, "folder does not exist")) << message;
    EXPECT_FALSE(fs::exists(m_dir.file("no-such-folder")));
}

struct NotALedgerCase {
    std::string label;
    std::string content;
};

class LedgerFileRepairNotALedger : public ::testing::TestWithParam<NotALedgerCase> {};

TEST_P(LedgerFileRepairNotALedger, IsLeftAlone) {
    TempDir dir;
    const std::string path = dir.file("notes.txt");
    write_bytes(path, GetParam().content);
    error_of(ErrorKind::Usage, [&] { repair_torn_tail(path); });
    EXPECT_EQ(read_bytes(path), GetParam().content);
    EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"notes.txt"}) << "no .torn file either";
}

INSTANTIATE_TEST_SUITE_P(Table, LedgerFileRepairNotALedger,
                         ::testing::Values(NotALedgerCase{"text_without_newline", "some notes"},
                                           NotALedgerCase{"text_lines_then_a_partial_one", "line one\nline two\npart"},
                                           NotALedgerCase{"json_object_without_v", "{\"name\":\"app\""}),
                         label_of<NotALedgerCase>);

struct BackwardCase {
    std::string label;
    std::string complete;
    std::string stop_at;  // the line (with its newline) to stop at
    std::size_t number;
};

class LedgerFileFindLineBackward : public ::testing::TestWithParam<BackwardCase> {};

TEST_P(LedgerFileFindLineBackward, ReturnsTheNumberOfTheNewestLineItStopsAt) {
    std::vector<std::string> offered;
    std::size_t number = find_line_backward(GetParam().complete, [&](std::string_view line) {
        offered.emplace_back(line);
        return line == GetParam().stop_at;
    });
    EXPECT_EQ(number, GetParam().number);
    if (number == 0) {
        const auto lines = std::count(GetParam().complete.begin(), GetParam().complete.end(), '\n');
        EXPECT_EQ(offered.size(), static_cast<std::size_t>(lines)) << "every line offered when none stops it";
    }
}

INSTANTIATE_TEST_SUITE_P(Table, LedgerFileFindLineBackward,
                         ::testing::Values(BackwardCase{"last_line", "a\nb\nc\n", "c\n", 3},
                                           BackwardCase{"first_line", "a\nb\nc\n", "a\n", 1},
                                           BackwardCase{"the_newest_of_two", "x\nb\nx\nc\n", "x\n", 3},
                                           BackwardCase{"an_empty_line", "a\n\nc\n", "\n", 2},
                                           BackwardCase{"none", "a\nb\n", "z\n", 0},
                                           BackwardCase{"empty_ledger", "", "a\n", 0}),
                         label_of<BackwardCase>);

}  // namespace
}  // namespace digestflow::ledger
