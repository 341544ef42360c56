// The readers: history's filters (environment, digest with platform children and rollbacks, an inclusive time
// window), what ran at a time (boundaries, same-second lines, holds then in force), and the rollback target
// (rollbacks never count, repeats count once, incidents are skipped, too few deployments say how many).
#include "digestflow/ledger/queries.hpp"

#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/timestamp.hpp"

#include "labelled_cases.hpp"
#include "ledger_test_support.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::ledger {
namespace {

DIGESTFLOW_LABELLED_CASES()

using namespace testing_support;

const std::string A = digest_named("A");
const std::string B = digest_named("B");
const std::string C = digest_named("C");
const std::string D = digest_named("D");
const std::string A_amd64 = digest_named("A linux/amd64");

std::string at(const std::string& clock) { return "2026-12-02T" + clock + "Z"; }
std::int64_t seconds(const std::string& clock) { return *parse_rfc3339(at(clock)); }

Entry incident(const std::string& environment, const std::string& digest, const std::string& when) {
    return environment_line(EntryKind::Incident, environment, digest, when);
}
Entry hold(const std::string& environment, const std::string& digest, const std::string& when) {
    return environment_line(EntryKind::Hold, environment, digest, when);
}
Entry release(const std::string& environment, const std::string& when) {
    return environment_line(EntryKind::Release, environment, "", when);
}
Entry rollback(const std::string& environment, const std::string& digest, const std::string& from, const std::string& when) {
    Entry entry = deploy(environment, digest, when);
    entry.rollback_of = from;
    return entry;
}

// A ledger file in its own temp folder, open for reading.
class Ledger {
public:
    explicit Ledger(std::vector<Entry> entries) : m_lines(chain_lines(std::move(entries))) {
        write_bytes(path(), joined(m_lines));
        m_view = std::make_unique<LedgerView>(path());
    }
    explicit Ledger(const std::string& content) {
        write_bytes(path(), content);
        m_view = std::make_unique<LedgerView>(path());
    }
    const LedgerView& view() const { return *m_view; }
    const std::vector<std::string>& lines() const { return m_lines; }
    std::string path() const { return m_dir.file("ledger.jsonl"); }

private:
    TempDir m_dir;
    std::vector<std::string> m_lines;
    std::unique_ptr<LedgerView> m_view;
};

std::vector<std::size_t> numbers(const std::vector<LedgerRecord>& records) {
    std::vector<std::size_t> out;
    for (const auto& record : records) out.push_back(record.line);
    return out;
}

// 1 deploy production A (with a linux/amd64 child), 2 deploy staging B, 3 deploy production B, 4 incident
// production B, 5 rollback deploy production A (from B), 6 hold production A, 7 release production.
std::vector<Entry> history_entries() {
    Entry first = deploy("production", A, at("10:00:00"));
    first.platforms = {PlatformEntry{"linux", "amd64", "", A_amd64, "application/vnd.oci.image.manifest.v1+json", 500}};
    return {first,
            deploy("staging", B, at("10:05:00")),
            deploy("production", B, at("10:10:00")),
            incident("production", B, at("10:15:00")),
            rollback("production", A, B, at("10:20:00")),
            hold("production", A, at("10:25:00")),
            release("production", at("10:30:00"))};
}

struct HistoryCase {
    std::string label;
    HistoryQuery query;
    std::vector<std::size_t> lines;
};

class LedgerQueriesHistory : public ::testing::TestWithParam<HistoryCase> {};

TEST_P(LedgerQueriesHistory, ReturnsTheMatchingLinesInLedgerOrder) {
    Ledger ledger(history_entries());
    std::vector<LedgerRecord> found = history(ledger.view(), GetParam().query);
    EXPECT_EQ(numbers(found), GetParam().lines);
    for (const auto& record : found) {
        ASSERT_GE(record.line, 1u);
        EXPECT_EQ(record.text, ledger.lines()[record.line - 1]);
        EXPECT_EQ(record.hash, line_hash(record.text));
        EXPECT_EQ(serialize_line(record.entry), record.text) << "the entry is the line parsed";
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerQueriesHistory,
    ::testing::Values(
        HistoryCase{"everything", {}, {1, 2, 3, 4, 5, 6, 7}},
        HistoryCase{"one_environment", {"production", "", {}, {}}, {1, 3, 4, 5, 6, 7}},
        HistoryCase{"another_environment", {"staging", "", {}, {}}, {2}},
        HistoryCase{"an_environment_never_used", {"qa", "", {}, {}}, {}},
        HistoryCase{"environment_is_exact_not_a_prefix", {"prod", "", {}, {}}, {}},
        HistoryCase{"digest_includes_holds_and_rollbacks_to_it", {"", A, {}, {}}, {1, 5, 6}},
        HistoryCase{"digest_includes_a_rollback_from_it", {"", B, {}, {}}, {2, 3, 4, 5}},
        HistoryCase{"a_platform_child_digest", {"", A_amd64, {}, {}}, {1}},
        HistoryCase{"a_digest_never_deployed", {"", D, {}, {}}, {}},
        HistoryCase{"environment_and_digest", {"production", B, {}, {}}, {3, 4, 5}},
        HistoryCase{"since_is_inclusive", {"", "", seconds("10:10:00"), {}}, {3, 4, 5, 6, 7}},
        HistoryCase{"until_is_inclusive", {"", "", {}, seconds("10:10:00")}, {1, 2, 3}},
        HistoryCase{"since_equals_until", {"", "", seconds("10:10:00"), seconds("10:10:00")}, {3}},
        HistoryCase{"a_window_between_lines", {"", "", seconds("10:10:01"), seconds("10:14:59")}, {}},
        HistoryCase{"a_window_before_everything", {"", "", {}, seconds("09:59:59")}, {}},
        HistoryCase{"a_window_after_everything", {"", "", seconds("10:30:01"), {}}, {}},
        HistoryCase{"since_given_with_an_offset", {"", "", *parse_rfc3339("2026-12-02T11:25:00+01:00"), {}}, {6, 7}},
        HistoryCase{"every_filter_at_once", {"production", A, seconds("10:10:00"), seconds("10:20:00")}, {5}}),
    label_of<HistoryCase>);

TEST(LedgerQueriesHistory, ALineThatIsNotALedgerLineStopsTheReaderWithItsNumber) {
    std::vector<std::string> lines = chain_lines(history_entries());
    lines.insert(lines.begin() + 1, "{\"note\":\"hand-written\"}\n");
    Ledger ledger(joined(lines));
    std::string message = error_of(ErrorKind::Usage, [&] { history(ledger.view(), {}); });
    EXPECT_TRUE(contains(message, "line 2")) << message;
    EXPECT_TRUE(contains(message, "record verify")) << message;
}

TEST(LedgerQueriesHistory, TheTornTailIsNotRead) {
    std::vector<std::string> lines = chain_lines(history_entries());
    Ledger ledger(joined(lines) + lines[0].substr(0, 50));
    EXPECT_EQ(history(ledger.view(), {}).size(), 7u);
}

// 1 deploy production A 10:00:00, 2 deploy staging X 10:02:00, 3 deploy production B 10:05:00, 4 deploy
// production C 10:05:00 (same second, later in the ledger), 5 hold production C 10:07:00, 6 release production
// 10:09:00, 7 deploy production D 10:10:00.
std::vector<Entry> running_entries() {
    return {deploy("production", A, at("10:00:00")), deploy("staging", digest_named("X"), at("10:02:00")),
            deploy("production", B, at("10:05:00")), deploy("production", C, at("10:05:00")),
            hold("production", C, at("10:07:00")),   release("production", at("10:09:00")),
            deploy("production", D, at("10:10:00"))};
}

struct RunningCase {
    std::string label;
    std::string environment;
    std::optional<std::int64_t> when;
    std::optional<std::size_t> line;  // the deployment's line; nullopt: nothing ran
    std::optional<std::string> held_at;
};

class LedgerQueriesRunningAt : public ::testing::TestWithParam<RunningCase> {};

TEST_P(LedgerQueriesRunningAt, IsTheLastDeploymentAtOrBeforeTheTime) {
    Ledger ledger(running_entries());
    std::optional<RunningAt> found = running_at(ledger.view(), GetParam().environment, GetParam().when);
    ASSERT_EQ(found.has_value(), GetParam().line.has_value());
    if (!found) return;
    EXPECT_EQ(found->deployment.line, *GetParam().line);
    EXPECT_EQ(found->deployment.text, ledger.lines()[*GetParam().line - 1]);
    EXPECT_EQ(found->deployment.entry.kind, EntryKind::Deploy);
    ASSERT_EQ(found->hold.has_value(), GetParam().held_at.has_value());
    if (found->hold) {
        EXPECT_EQ(*found->hold, (Hold{C, at(*GetParam().held_at)}));
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerQueriesRunningAt,
    ::testing::Values(RunningCase{"before_the_first_entry", "production", seconds("09:59:59"), {}, {}},
                      RunningCase{"exactly_at_the_first_entry", "production", seconds("10:00:00"), 1, {}},
                      RunningCase{"a_second_after_it", "production", seconds("10:00:01"), 1, {}},
                      RunningCase{"between_two_entries", "production", seconds("10:04:59"), 1, {}},
                      RunningCase{"two_in_one_second_the_later_in_ledger_order", "production", seconds("10:05:00"), 4, {}},
                      RunningCase{"after_the_same_second", "production", seconds("10:06:00"), 4, {}},
                      RunningCase{"exactly_at_the_hold", "production", seconds("10:07:00"), 4, "10:07:00"},
                      RunningCase{"while_held", "production", seconds("10:08:59"), 4, "10:07:00"},
                      RunningCase{"exactly_at_the_release", "production", seconds("10:09:00"), 4, {}},
                      RunningCase{"exactly_at_the_last_entry", "production", seconds("10:10:00"), 7, {}},
                      RunningCase{"after_the_last_entry", "production", seconds("23:00:00"), 7, {}},
                      RunningCase{"now", "production", std::nullopt, 7, {}},
                      RunningCase{"another_environment_before_its_first", "staging", seconds("10:01:59"), {}, {}},
                      RunningCase{"another_environment_at_its_first", "staging", seconds("10:02:00"), 2, {}},
                      RunningCase{"another_environment_much_later", "staging", seconds("10:10:00"), 2, {}},
                      RunningCase{"an_environment_never_deployed", "qa", std::nullopt, {}, {}}),
    label_of<RunningCase>);

// running_at reads from the end: a line that is not a ledger line, met on the way back to the answer, is still
// named by its number.
TEST(LedgerQueriesRunningAt, ALineThatIsNotALedgerLineIsNamedByItsNumber) {
    std::vector<std::string> lines = chain_lines(running_entries());
    lines.insert(lines.begin() + 5, "{\"note\":\"hand-written\"}\n");
    Ledger ledger(joined(lines));
    std::string message = error_of(ErrorKind::Usage, [&] { running_at(ledger.view(), "production", seconds("10:06:00")); });
    EXPECT_TRUE(contains(message, "line 6:")) << message;
}

TEST(LedgerQueriesRunningAt, ReadingFromTheEndGivesTheRightLineNumbers) {
    std::vector<Entry> entries;
    for (int i = 0; i < 50; ++i)
        entries.push_back(deploy(i % 3 == 0 ? "production" : "staging", digest_named(std::to_string(i)),
                                 format_rfc3339(seconds("10:00:00") + i * 60)));
    Ledger ledger(entries);
    for (int i = 0; i < 50; ++i) {
        const int expected = i - i % 3;  // the last production line at or before line i + 1
        std::optional<RunningAt> found = running_at(ledger.view(), "production", seconds("10:00:00") + i * 60 + 30);
        ASSERT_TRUE(found.has_value()) << i;
        EXPECT_EQ(found->deployment.line, static_cast<std::size_t>(expected + 1)) << i;
        EXPECT_EQ(found->deployment.text, ledger.lines()[static_cast<std::size_t>(expected)]) << i;
    }
}

TEST(LedgerQueriesRunningAt, AHoldNowIsReported) {
    Ledger ledger({deploy("production", A, at("10:00:00")), hold("production", A, at("10:01:00")),
                   deploy("staging", B, at("10:02:00"))});
    std::optional<RunningAt> found = running_at(ledger.view(), "production");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->deployment.line, 1u);
    ASSERT_TRUE(found->hold.has_value());
    EXPECT_EQ(*found->hold, (Hold{A, at("10:01:00")}));
    EXPECT_FALSE(running_at(ledger.view(), "staging")->hold.has_value()) << "the hold is production's only";
}

struct RollbackCase {
    std::string label;
    std::vector<Entry> entries;
    int steps;
    std::size_t target_line;
    std::size_t current_line;
    std::size_t last_forward_line;
    std::vector<std::string> skipped;
};

class LedgerQueriesRollbackTarget : public ::testing::TestWithParam<RollbackCase> {};

TEST_P(LedgerQueriesRollbackTarget, CountsDistinctForwardDeployments) {
    Ledger ledger(GetParam().entries);
    RollbackTarget found = rollback_target(ledger.view(), "production", GetParam().steps);
    EXPECT_EQ(found.target.line, GetParam().target_line);
    EXPECT_EQ(found.target.text, ledger.lines()[GetParam().target_line - 1]);
    EXPECT_EQ(found.target.hash, line_hash(found.target.text));
    EXPECT_EQ(found.current.line, GetParam().current_line);
    EXPECT_EQ(found.last_forward.line, GetParam().last_forward_line);
    EXPECT_EQ(found.skipped, GetParam().skipped);
}

const std::vector<Entry> k_abc{deploy("production", A, at("10:00:00")), deploy("production", B, at("10:01:00")),
                               deploy("production", C, at("10:02:00"))};

std::vector<Entry> plus(std::vector<Entry> entries, const std::vector<Entry>& more) {
    entries.insert(entries.end(), more.begin(), more.end());
    return entries;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerQueriesRollbackTarget,
    ::testing::Values(
        RollbackCase{"abc_one_step_is_b", k_abc, 1, 2, 3, 3, {}},
        RollbackCase{"abc_two_steps_is_a", k_abc, 2, 1, 3, 3, {}},
        RollbackCase{"after_a_rollback_to_b_one_step_is_still_b",
                     plus(k_abc, {rollback("production", B, C, at("10:03:00"))}), 1, 2, 4, 3, {}},
        RollbackCase{"after_a_rollback_to_b_two_steps_is_still_a",
                     plus(k_abc, {rollback("production", B, C, at("10:03:00"))}), 2, 1, 4, 3, {}},
        RollbackCase{"a_digest_deployed_twice_counts_once",
                     {deploy("production", A, at("10:00:00")), deploy("production", B, at("10:01:00")),
                      deploy("production", B, at("10:01:30")), deploy("production", C, at("10:02:00"))},
                     2, 1, 4, 4, {}},
        RollbackCase{"the_newer_of_a_repeated_digest_is_the_target",
                     {deploy("production", A, at("10:00:00")), deploy("production", B, at("10:01:00")),
                      deploy("production", B, at("10:01:30")), deploy("production", C, at("10:02:00"))},
                     1, 3, 4, 4, {}},
        RollbackCase{"an_earlier_run_of_the_current_digest_is_not_a_step",
                     {deploy("production", A, at("10:00:00")), deploy("production", C, at("10:01:00")),
                      deploy("production", B, at("10:01:30")), deploy("production", C, at("10:02:00"))},
                     2, 1, 4, 4, {}},
        RollbackCase{"a_digest_with_an_incident_is_skipped",
                     plus(k_abc, {incident("production", B, at("10:03:00"))}), 1, 1, 3, 3, {B}},
        RollbackCase{"an_incident_elsewhere_does_not_skip",
                     plus(k_abc, {incident("staging", B, at("10:03:00"))}), 1, 2, 3, 3, {}},
        RollbackCase{"other_environments_do_not_count",
                     {deploy("production", A, at("10:00:00")), deploy("staging", D, at("10:00:30")),
                      deploy("production", B, at("10:01:00")), deploy("staging", C, at("10:01:30"))},
                     1, 1, 3, 3, {}},
        RollbackCase{"holds_and_releases_are_not_deployments",
                     plus(k_abc, {hold("production", C, at("10:03:00")), release("production", at("10:04:00"))}), 1, 2,
                     3, 3, {}}),
    label_of<RollbackCase>);

struct NoTargetCase {
    std::string label;
    std::vector<Entry> entries;
    int steps;
    std::vector<std::string> says;
};

class LedgerQueriesNoRollbackTarget : public ::testing::TestWithParam<NoTargetCase> {};

TEST_P(LedgerQueriesNoRollbackTarget, IsACheckFailureSayingWhatTheLedgerHolds) {
    Ledger ledger(GetParam().entries);
    std::string message = error_of(ErrorKind::CheckFailed, [&] { rollback_target(ledger.view(), "production", GetParam().steps); });
    EXPECT_TRUE(contains(message, ledger.path())) << message;
    for (const auto& part : GetParam().says) EXPECT_TRUE(contains(message, part)) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerQueriesNoRollbackTarget,
    ::testing::Values(
        NoTargetCase{"too_many_steps", k_abc, 3, {"production has 2 earlier deployments", "not 3", "--steps"}},
        NoTargetCase{"only_one_deployment", {deploy("production", A, at("10:00:00"))}, 1, {"has no earlier deployment to go back to"}},
        NoTargetCase{"one_earlier_deployment", {deploy("production", A, at("10:00:00")), deploy("production", B, at("10:01:00"))},
                     2, {"has 1 earlier deployment to go back to", "not 2"}},
        NoTargetCase{"everything_earlier_skipped_for_incidents",
                     plus(k_abc, {incident("production", A, at("10:03:00")), incident("production", B, at("10:04:00"))}), 1,
                     {"has no earlier deployment to go back to", "2 skipped for incidents"}},
        NoTargetCase{"no_deployment_to_the_environment", {deploy("staging", A, at("10:00:00"))}, 1,
                     {"no deployment to production"}},
        NoTargetCase{"an_empty_ledger", {}, 1, {"no deployment to production"}}),
    label_of<NoTargetCase>);

struct DeployToCase {
    std::string label;
    Entry entry;
    std::string environment;
    bool expected;
};

class LedgerQueriesIsDeployTo : public ::testing::TestWithParam<DeployToCase> {};

TEST_P(LedgerQueriesIsDeployTo, ReadsKindAndEnvironment) {
    Entry entry = GetParam().entry;
    entry.prev = std::string(genesis_prev);
    EXPECT_EQ(is_deploy_to(serialize_line(entry), GetParam().environment), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerQueriesIsDeployTo,
    ::testing::Values(DeployToCase{"deploy_there", deploy("production", A, at("10:00:00")), "production", true},
                      DeployToCase{"deploy_elsewhere", deploy("staging", A, at("10:00:00")), "production", false},
                      DeployToCase{"a_prefix_is_not_the_environment", deploy("production", A, at("10:00:00")), "prod", false},
                      DeployToCase{"a_hold_there", hold("production", A, at("10:00:00")), "production", false},
                      DeployToCase{"an_incident_there", incident("production", A, at("10:00:00")), "production", false},
                      DeployToCase{"a_rollback_there", rollback("production", A, B, at("10:00:00")), "production", true},
                      // The record tool allows letters, digits and . _ - / : in environment names.
                      DeployToCase{"every_allowed_character", deploy("eu-west.1/prod_blue:2", A, at("10:00:00")),
                                   "eu-west.1/prod_blue:2", true},
                      DeployToCase{"a_longer_name_is_not_the_environment", deploy("production-eu", A, at("10:00:00")),
                                   "production", false}),
    label_of<DeployToCase>);

TEST(LedgerQueriesIsDeployTo, ALineThatIsNotJsonIsNot) {
    EXPECT_FALSE(is_deploy_to("{\"kind\":\"deploy\",\"environment\":\"production\"", "production"));
    EXPECT_FALSE(is_deploy_to("kind deploy environment production\n", "production"));
}

}  // namespace
}  // namespace digestflow::ledger
