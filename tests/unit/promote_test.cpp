// The parts of a promotion that need no registry: the history entry (complete and partial), the names a
// promotion holds, and the lock registry that keeps two promotions of a run off one name.
#include "digestflow/error.hpp"
#include "digestflow/operations/promote.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace digestflow::operations {
namespace {

DIGESTFLOW_LABELLED_CASES()

const Digest digest = Digest::parse("sha256:" + std::string(64, 'a'));
const Digest earlier = Digest::parse("sha256:" + std::string(64, 'b'));

DestinationOutcome outcome(const std::string& reference, const std::string& action, bool written,
                           std::optional<Digest> previous = std::nullopt) {
    DestinationOutcome d{Reference::parse(reference), action, std::move(previous)};
    d.written = written;
    return d;
}

struct HistoryCase {
    std::string label;
    std::vector<DestinationOutcome> destinations;
    std::optional<std::string> error;
    std::optional<std::string> expected;  // the entry without "by" and "at"; nullopt: no entry
};

class HistoryEntry : public ::testing::TestWithParam<HistoryCase> {};

TEST_P(HistoryEntry, RecordsWhatWasWritten) {
    const auto& c = GetParam();
    PromoteResult result{digest, "application/vnd.oci.image.manifest.v1+json", c.destinations, {}};
    result.error = c.error;
    auto entry = promotion_history_entry(result);
    ASSERT_EQ(entry.has_value(), c.expected.has_value());
    if (!entry) return;
    EXPECT_EQ((*entry)["by"].is_string(), true);
    entry->erase("by");
    EXPECT_EQ(entry->dump(), *c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HistoryEntry,
    ::testing::Values(
        HistoryCase{"complete",
                    {outcome("r.example.com/a:1", "moved", true, earlier), outcome("r.example.com/a:2", "tagged", true)},
                    std::nullopt,
                    R"({"step":"retag","to":["r.example.com/a:1","r.example.com/a:2"],"previous":{"r.example.com/a:1":")" +
                        earlier.str() + R"("}})"},
        HistoryCase{"partial_keeps_the_moved_tags_previous",
                    {outcome("r.example.com/a:1", "moved", true, earlier), outcome("r.example.com/a:2", "tagged", false)},
                    "pushing manifest failed",
                    R"({"step":"retag","to":["r.example.com/a:1"],"previous":{"r.example.com/a:1":")" + earlier.str() +
                        R"("},"error":"pushing manifest failed","notWritten":["r.example.com/a:2"]})"},
        HistoryCase{"nothing_written", {outcome("r.example.com/a:1", "moved", false, earlier)}, "refused", std::nullopt},
        HistoryCase{"unchanged_counts_as_written", {outcome("r.example.com/a:1", "unchanged", true)}, std::nullopt,
                    R"({"step":"retag","to":["r.example.com/a:1"]})"}),
    label_of<HistoryCase>);

TEST(PromotionLockedNames, TagsAndTheFallbackTagsOfOtherRepositories) {
    PromoteRequest request{Reference::parse("r.example.com/team/app@" + digest.str()),
                           {Reference::parse("r.example.com/team/app:1"), Reference::parse("m.example.com/app"),
                            Reference::parse("m.example.com/app:1")},
                           false, false};
    EXPECT_EQ(promotion_locked_names(request),
              (std::vector<std::string>{"r.example.com/team/app:1", "m.example.com/app:1"}))
        << "a bare repository is no name to hold";
    request.referrers = true;
    const std::string fallback = "m.example.com/app:sha256-" + std::string(64, 'a');
    EXPECT_EQ(promotion_locked_names(request),
              (std::vector<std::string>{"r.example.com/team/app:1", fallback, "m.example.com/app:1", fallback}))
        << "the source repository needs no fallback tag: it has the referrers already";
}

TEST(DestinationLocks, DisjointNamesDoNotWait) {
    DestinationLocks locks;
    auto first = locks.hold({"r/a:1", "r/a:2"});
    auto second = locks.hold({"r/a:3"});
    auto repeated = locks.hold({"r/b:1", "r/b:1"});  // one promotion naming a tag twice holds it once
    SUCCEED();
}

TEST(DestinationLocks, ASharedNameWaitsForTheHolder) {
    DestinationLocks locks;
    std::atomic<bool> second_holds{false};
    std::thread second;
    {
        auto first = locks.hold({"r/a:1", "r/a:sha256-x"});
        second = std::thread([&] {
            auto held = locks.hold({"r/a:sha256-x", "r/b:1"});
            second_holds = true;
        });
        // Give the second holder every chance to (wrongly) get in while the first still holds the name.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_FALSE(second_holds.load());
    }
    second.join();
    EXPECT_TRUE(second_holds.load());
}

}  // namespace
}  // namespace digestflow::operations

namespace digestflow::operations {
namespace {

// A destination named twice, also in two spellings of one reference, is promoted once.
TEST(PromotionDestinations, ANameGivenTwiceIsPromotedOnce) {
    Reference source = Reference::parse("registry.example.com/team/app@sha256:" + std::string(64, 'a'));
    auto destinations = promotion_destinations(source, {"1.0", "1.0", "stable"},
                                               {"docker.io/library/app:2", "app:2", "registry.example.com/team/app:1.0"});
    std::vector<std::string> names;
    for (const auto& d : destinations) names.push_back(d.str());
    EXPECT_EQ(names, (std::vector<std::string>{"registry.example.com/team/app:1.0", "registry.example.com/team/app:stable",
                                               "docker.io/library/app:2"}));
}

}  // namespace
}  // namespace digestflow::operations
