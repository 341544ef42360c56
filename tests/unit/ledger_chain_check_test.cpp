// record verify's chain check: a valid ledger passes with its head, and each kind of tampering (an edited,
// removed, moved or inserted line, a broken genesis, a deploy through a hold, forged or dropped holds, a
// release of nothing, a foreign or torn line) is reported at the exact line with what happened.
#include "digestflow/ledger/chain_check.hpp"

#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/ledger_file.hpp"
#include "digestflow/ledger/recording.hpp"

#include "labelled_cases.hpp"
#include "ledger_test_support.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace digestflow::ledger {
namespace {

DIGESTFLOW_LABELLED_CASES()

using namespace testing_support;
using Lines = std::vector<std::string>;

const std::string A = digest_named("A");
const std::string B = digest_named("B");
const std::string C = digest_named("C");

Entry hold_line(const std::string& environment, const std::string& digest, const std::string& at) {
    return environment_line(EntryKind::Hold, environment, digest, at);
}
Entry release_line(const std::string& environment, const std::string& at) {
    return environment_line(EntryKind::Release, environment, "", at);
}
Entry with_holds(Entry entry, Holds holds) {
    entry.holds = std::move(holds);
    return entry;
}

// 1 deploy production A, 2 deploy staging B, 3 deploy production B, 4 hold production (at B), 5 deploy
// production B again (the held digest: allowed), 6 release production, 7 deploy production C.
std::vector<Entry> base_entries() {
    return {deploy("production", A, "2026-12-02T10:00:00Z"), deploy("staging", B, "2026-12-02T10:01:00Z"),
            deploy("production", B, "2026-12-02T10:02:00Z"), hold_line("production", B, "2026-12-02T10:03:00Z"),
            deploy("production", B, "2026-12-02T10:04:00Z"), release_line("production", "2026-12-02T10:05:00Z"),
            deploy("production", C, "2026-12-02T10:06:00Z")};
}
const Holds k_production_held{{"production", Hold{B, "2026-12-02T10:03:00Z"}}};

ChainReport check_text(const std::string& content) {
    TempDir dir;
    const std::string path = dir.file("ledger.jsonl");
    write_bytes(path, content);
    LedgerView view(path);
    return check_chain(view, {});
}

TEST(LedgerChainCheck, AValidLedgerVerifiesAndItsHeadIsTheHashOfTheLastLine) {
    const Lines lines = chain_lines(base_entries());
    ChainReport report = check_text(joined(lines));
    EXPECT_FALSE(report.problem.has_value()) << report.problem->line << ": " << report.problem->why;
    EXPECT_EQ(report.lines, 7u);
    EXPECT_EQ(report.head, line_hash(lines.back()));
    EXPECT_EQ(report.signed_lines, 0u);
    EXPECT_EQ(report.checked_signatures, 0u);
}

TEST(LedgerChainCheck, AnEmptyLedgerVerifiesWithTheGenesisHead) {
    ChainReport report = check_text("");
    EXPECT_FALSE(report.problem.has_value());
    EXPECT_EQ(report.lines, 0u);
    EXPECT_EQ(report.head, genesis_prev);
}

// The ledger the writers build (append_line + next_line) verifies: the two sides agree on holds and chaining.
TEST(LedgerChainCheck, ALedgerWrittenByTheWritersVerifies) {
    TempDir dir;
    const std::string path = dir.file("ledger.jsonl");
    auto record = [&](Entry entry) {
        return append_line(path, [&](const Tip& tip) { return next_line(tip, entry, nullptr, path); });
    };
    RecordContext context{"tester", "", "", ""};
    record(deploy("production", A, ""));
    record(deploy("staging", B, ""));
    record(environment_entry(EntryKind::Incident, "production", context));
    record(environment_entry(EntryKind::Hold, "production", context));
    record(environment_entry(EntryKind::Hold, "staging", context));
    record(deploy("production", A, ""));
    record(environment_entry(EntryKind::Release, "production", context));
    Appended last = record(deploy("production", C, ""));

    LedgerView view(path);
    ChainReport report = check_chain(view, {});
    EXPECT_FALSE(report.problem.has_value()) << report.problem->line << ": " << report.problem->why;
    EXPECT_EQ(report.lines, 8u);
    EXPECT_EQ(report.head, last.hash);
}

struct TamperCase {
    std::string label;
    std::function<std::string(const Lines&)> tamper;  // from the base ledger's lines to the file's bytes
    std::size_t line;                                  // where the problem must be reported
    std::string says;
};

class LedgerChainCheckTampered : public ::testing::TestWithParam<TamperCase> {};

TEST_P(LedgerChainCheckTampered, IsReportedAtTheExactLine) {
    const Lines lines = chain_lines(base_entries());
    ChainReport report = check_text(GetParam().tamper(lines));
    ASSERT_TRUE(report.problem.has_value()) << "the tampered ledger verified";
    EXPECT_EQ(report.problem->line, GetParam().line) << report.problem->why;
    EXPECT_TRUE(contains(report.problem->why, GetParam().says)) << report.problem->why;
    EXPECT_EQ(report.problem->why.find('\n'), std::string::npos) << report.problem->why;
}

std::string one_byte_changed(std::string line) {
    auto at = line.find("\"by\":\"tester\"");
    line[at + 8] = '7';  // "tes7er": still a well-formed line
    return line;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerChainCheckTampered,
    ::testing::Values(
        TamperCase{"one_byte_changed_in_line_2",
                   [](const Lines& l) {
                       Lines edited = l;
                       edited[1] = one_byte_changed(edited[1]);
                       return joined(edited);
                   },
                   3, "its prev does not match the hash of line 2: line 2 was changed"},
        TamperCase{"one_byte_changed_in_line_1",
                   [](const Lines& l) {
                       Lines edited = l;
                       edited[0] = one_byte_changed(edited[0]);
                       return joined(edited);
                   },
                   2, "line 1 was changed"},
        TamperCase{"line_3_deleted",
                   [](const Lines& l) {
                       Lines edited = l;
                       edited.erase(edited.begin() + 2);
                       return joined(edited);
                   },
                   3, "its prev does not match the hash of line 2"},
        TamperCase{"lines_2_and_3_swapped",
                   [](const Lines& l) {
                       Lines edited = l;
                       std::swap(edited[1], edited[2]);
                       return joined(edited);
                   },
                   2, "its prev does not match the hash of line 1"},
        TamperCase{"line_2_moved_after_line_5",
                   [](const Lines& l) {
                       Lines edited{l[0], l[2], l[3], l[4], l[1], l[5], l[6]};
                       return joined(edited);
                   },
                   2, "its prev does not match the hash of line 1"},
        TamperCase{"line_2_duplicated",
                   [](const Lines& l) {
                       Lines edited = l;
                       edited.insert(edited.begin() + 2, l[1]);
                       return joined(edited);
                   },
                   3, "its prev is the hash of line 1, not of line 2: lines were inserted or moved"},
        TamperCase{"a_chained_line_inserted_after_line_3",
                   [](const Lines& l) {
                       Lines edited = l;
                       edited.insert(edited.begin() + 3, line_after(l[2], deploy("qa", C, "2026-12-02T10:02:30Z")));
                       return joined(edited);
                   },
                   5, "its prev is the hash of line 3, not of line 4: lines were inserted or moved"},
        TamperCase{"first_line_not_chained_to_genesis",
                   [](const Lines&) {
                       return joined(chain_lines_as_given({deploy("production", A, "2026-12-02T10:00:00Z")},
                                                          digest_named("not genesis")));
                   },
                   1, "genesis"},
        TamperCase{"first_line_removed",
                   [](const Lines& l) { return joined(Lines(l.begin() + 1, l.end())); }, 1, "genesis"},
        TamperCase{"deploy_of_another_digest_into_a_held_environment",
                   [](const Lines& l) {
                       Lines edited(l.begin(), l.begin() + 4);
                       edited.push_back(line_after(edited.back(), with_holds(deploy("production", C, "2026-12-02T10:04:00Z"),
                                                                   k_production_held)));
                       return joined(edited);
                   },
                   5, "to production while it was held at"},
        TamperCase{"holds_forged_without_a_hold_line",
                   [](const Lines& l) {
                       Lines edited(l.begin(), l.begin() + 2);
                       edited.push_back(line_after(edited.back(), with_holds(deploy("production", B, "2026-12-02T10:02:00Z"),
                                                                   {{"production", Hold{A, "2026-12-02T10:02:00Z"}}})));
                       return joined(edited);
                   },
                   3, "\"holds\" names holds that no hold line before it put in force"},
        TamperCase{"holds_dropped_after_a_hold",
                   [](const Lines& l) {
                       Lines edited(l.begin(), l.begin() + 4);
                       edited.push_back(line_after(edited.back(), deploy("production", B, "2026-12-02T10:04:00Z")));
                       return joined(edited);
                   },
                   5, "\"holds\" does not match the holds in force"},
        TamperCase{"holds_time_changed",
                   [](const Lines& l) {
                       Lines edited(l.begin(), l.begin() + 4);
                       edited.push_back(line_after(edited.back(), with_holds(deploy("production", B, "2026-12-02T10:04:00Z"),
                                                                   {{"production", Hold{B, "2026-12-02T09:00:00Z"}}})));
                       return joined(edited);
                   },
                   5, "\"holds\" does not match the holds in force"},
        TamperCase{"hold_line_without_its_holds_member",
                   [](const Lines& l) {
                       Lines edited(l.begin(), l.begin() + 3);
                       edited.push_back(line_after(edited.back(), hold_line("production", B, "2026-12-02T10:03:00Z")));
                       return joined(edited);
                   },
                   4, "\"holds\" does not match"},
        TamperCase{"release_of_an_environment_not_held",
                   [](const Lines& l) {
                       Lines edited(l.begin(), l.begin() + 2);
                       edited.push_back(line_after(edited.back(), release_line("staging", "2026-12-02T10:02:00Z")));
                       return joined(edited);
                   },
                   3, "releases staging, which was not held"},
        TamperCase{"garbage_json_line_at_the_end", [](const Lines& l) { return joined(l) + "{\"v\":1,]\n"; }, 8,
                   "not a JSON object"},
        TamperCase{"plain_text_line_in_the_middle",
                   [](const Lines& l) {
                       Lines edited = l;
                       edited.insert(edited.begin() + 3, "deployed B by hand\n");
                       return joined(edited);
                   },
                   4, "not a JSON object"},
        TamperCase{"an_empty_line",
                   [](const Lines& l) {
                       Lines edited = l;
                       edited.insert(edited.begin() + 1, "\n");
                       return joined(edited);
                   },
                   2, ""},
        TamperCase{"version_2_line",
                   [](const Lines& l) {
                       Lines edited = l;
                       edited[1].replace(0, 7, "{\"v\":2,");
                       return joined(edited);
                   },
                   2, "format v1"},
        TamperCase{"at_not_a_time",
                   [](const Lines& l) {
                       Lines edited(l.begin(), l.begin() + 2);
                       edited.push_back(line_after(edited.back(), deploy("production", B, "yesterday")));
                       return joined(edited);
                   },
                   3, "RFC 3339"},
        TamperCase{"deploy_without_repository",
                   [](const Lines& l) {
                       Lines edited(l.begin(), l.begin() + 2);
                       Entry entry = deploy("production", B, "2026-12-02T10:02:00Z");
                       entry.repository.clear();
                       edited.push_back(line_after(edited.back(), entry));
                       return joined(edited);
                   },
                   3, "\"repository\""},
        TamperCase{"torn_tail", [](const Lines& l) { return joined(l) + l[0].substr(0, 30); }, 8, "torn"}),
    label_of<TamperCase>);

TEST(LedgerChainCheck, ATornTailIsReportedAfterTheCompleteLinesWhichAllVerify) {
    const Lines lines = chain_lines(base_entries());
    ChainReport report = check_text(joined(lines) + "{\"v\":1,\"prev\"");
    ASSERT_TRUE(report.problem.has_value());
    EXPECT_EQ(report.lines, 7u);
    EXPECT_EQ(report.problem->line, 8u);
    EXPECT_TRUE(contains(report.problem->why, "record repair")) << report.problem->why;
    EXPECT_EQ(report.head, line_hash(lines.back())) << "the head is the last complete line's";
}

// A ledger whose line endings were converted to CRLF (git core.autocrlf, an editor) used to be reported as
// "line 1 was changed, or lines were removed or moved": the report names the conversion instead.
TEST(LedgerChainCheck, CrlfLineEndingsAreNamedAsSuch) {
    std::string crlf;
    for (const auto& line : chain_lines(base_entries())) crlf += line.substr(0, line.size() - 1) + "\r\n";
    ChainReport report = check_text(crlf);
    ASSERT_TRUE(report.problem);
    EXPECT_EQ(report.problem->line, 2u);
    EXPECT_TRUE(contains(report.problem->why, "CRLF")) << report.problem->why;
    EXPECT_FALSE(contains(report.problem->why, "was changed")) << report.problem->why;
}

// A line that is no object at all used to read "not a JSON object: not a JSON object: '[' at byte 0".
TEST(LedgerChainCheck, ALineThatIsNoObjectSaysSoOnce) {
    for (const std::string& line : {std::string("[1]\n"), std::string("\n"), std::string("\xEF\xBB\xBF{}\n")}) {
        ChainReport report = check_text(line);
        ASSERT_TRUE(report.problem);
        EXPECT_TRUE(contains(report.problem->why, "not a JSON object")) << report.problem->why;
        EXPECT_FALSE(contains(report.problem->why, "not a JSON object: not a JSON object")) << report.problem->why;
    }
}

TEST(LedgerChainCheck, OnlyTheFirstProblemIsReported) {
    Lines lines = chain_lines(base_entries());
    lines[1] = one_byte_changed(lines[1]);  // breaks line 3
    lines[4] = one_byte_changed(lines[4]);  // breaks line 6
    ChainReport report = check_text(joined(lines));
    ASSERT_TRUE(report.problem.has_value());
    EXPECT_EQ(report.problem->line, 3u);
    EXPECT_EQ(report.lines, 3u) << "reading stops at the first problem";
}

ChainReport check_text_with_anchors(const std::string& content, const std::vector<std::string>& anchors) {
    TempDir dir;
    const std::string path = dir.file("ledger.jsonl");
    write_bytes(path, content);
    LedgerView view(path);
    return check_chain(view, {}, anchors);
}

TEST(LedgerChainCheckAnchors, AnchorsThatAreLinesOfTheLedgerVerify) {
    const Lines lines = chain_lines(base_entries());
    ChainReport report = check_text_with_anchors(joined(lines), {line_hash(lines[0]), line_hash(lines[4]), line_hash(lines[6])});
    EXPECT_FALSE(report.problem.has_value()) << report.problem->line << ": " << report.problem->why;
}

// The chain cannot see its last lines cut off or the last line edited; an anchor kept elsewhere can.
TEST(LedgerChainCheckAnchors, ALedgerCutShortMissesItsAnchor) {
    const Lines lines = chain_lines(base_entries());
    ChainReport report = check_text_with_anchors(joined(Lines(lines.begin(), lines.end() - 1)), {line_hash(lines[6])});
    ASSERT_TRUE(report.problem.has_value());
    EXPECT_EQ(report.problem->line, 6u);
    EXPECT_TRUE(contains(report.problem->why, "entry " + line_hash(lines[6]) + " is not in the ledger")) << report.problem->why;
}

TEST(LedgerChainCheckAnchors, AnEditedLastLineMissesItsAnchor) {
    Lines lines = chain_lines(base_entries());
    const std::string anchor = line_hash(lines[6]);
    lines[6] = one_byte_changed(lines[6]);
    ChainReport plain = check_text_with_anchors(joined(lines), {});
    EXPECT_FALSE(plain.problem.has_value()) << "the chain alone cannot see it";
    ChainReport anchored = check_text_with_anchors(joined(lines), {anchor});
    ASSERT_TRUE(anchored.problem.has_value());
    EXPECT_EQ(anchored.problem->line, 7u);
}

TEST(LedgerChainCheckAnchors, AnEarlierProblemIsReportedFirst) {
    Lines lines = chain_lines(base_entries());
    lines[1] = one_byte_changed(lines[1]);
    ChainReport report = check_text_with_anchors(joined(lines), {digest_named("elsewhere")});
    ASSERT_TRUE(report.problem.has_value());
    EXPECT_EQ(report.problem->line, 3u);
}

}  // namespace
}  // namespace digestflow::ledger
