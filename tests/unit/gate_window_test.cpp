// Weekly windows in a named time zone, compared in local wall-clock time across DST changes.
#include "digestflow/error.hpp"
#include "digestflow/gate/evaluation.hpp"
#include "digestflow/gate/window.hpp"
#include "digestflow/ledger/timestamp.hpp"

#include <gtest/gtest.h>

using namespace digestflow;
using namespace digestflow::gate;

namespace {

std::int64_t at(const char* rfc3339) { return *ledger::parse_rfc3339(rfc3339); }

bool in_window(const std::string& range, const std::string& zone, const char* when) {
    std::string problem;
    const auto parsed = parse_weekly_range(range, problem);
    EXPECT_TRUE(parsed.has_value()) << problem;
    return parsed && parsed->contains(local_time_in(zone, at(when)).minute_of_week);
}

TEST(GateWindow, FridayEveningToMondayMorningInBerlinAcrossDst) {
    const std::string friday = "Fri 15:00-Mon 06:00";
    // 2026-03-29 01:00Z Berlin moves from CET (+1) to CEST (+2).
    EXPECT_FALSE(in_window(friday, "Europe/Berlin", "2026-03-27T13:59:00Z"));  // Fri 14:59 CET
    EXPECT_TRUE(in_window(friday, "Europe/Berlin", "2026-03-27T14:00:00Z"));   // Fri 15:00 CET
    EXPECT_TRUE(in_window(friday, "Europe/Berlin", "2026-03-30T03:59:00Z"));   // Mon 05:59 CEST
    EXPECT_FALSE(in_window(friday, "Europe/Berlin", "2026-03-30T04:00:00Z"));  // Mon 06:00 CEST, 05:00 in CET terms
    // 2026-10-25 01:00Z back to CET: Friday 15:00 is 13:00Z before it and 14:00Z after it.
    EXPECT_TRUE(in_window(friday, "Europe/Berlin", "2026-10-23T13:00:00Z"));   // Fri 15:00 CEST
    EXPECT_FALSE(in_window(friday, "Europe/Berlin", "2026-10-30T13:30:00Z"));  // Fri 14:30 CET
    EXPECT_TRUE(in_window(friday, "Europe/Berlin", "2026-10-30T14:00:00Z"));   // Fri 15:00 CET
    EXPECT_TRUE(in_window(friday, "Europe/Berlin", "2026-10-25T01:30:00Z"));   // Sun, inside the repeated hour
}

TEST(GateWindow, OtherForms) {
    EXPECT_TRUE(in_window("Sat-Sun", "UTC", "2026-12-05T00:00:00Z"));   // Saturday 00:00
    EXPECT_TRUE(in_window("Sat-Sun", "UTC", "2026-12-06T23:59:00Z"));   // Sunday 23:59
    EXPECT_FALSE(in_window("Sat-Sun", "UTC", "2026-12-07T00:00:00Z"));  // Monday
    EXPECT_TRUE(in_window("22:00-06:00", "UTC", "2026-12-02T23:00:00Z"));
    EXPECT_FALSE(in_window("22:00-06:00", "UTC", "2026-12-02T12:00:00Z"));
    EXPECT_TRUE(in_window("Mon 09:00-Fri 17:00", "America/New_York", "2026-12-02T15:00:00Z"));  // Wed 10:00 EST
    for (const char* bad : {"", "Fri", "Fri 15:00", "Fri 25:00-Mon 06:00", "Fri 15:00-06:00", "Frx 15:00-Mon 06:00", "15-16"}) {
        std::string problem;
        EXPECT_FALSE(parse_weekly_range(bad, problem).has_value()) << bad;
    }
    EXPECT_THROW(local_time_in("No/Such_Zone", 0), Error);
}

TEST(GateWindow, RuleSaysWhereAndWhen) {
    Rule deny;
    deny.type = Rule::Type::Window;
    deny.deny = {"Fri 15:00-Mon 06:00"};
    deny.timezone = "Europe/Berlin";
    GateInputs inputs;
    inputs.now = at("2026-03-27T14:30:00Z");
    const RuleResult inside = evaluate_window(deny, inputs);
    EXPECT_FALSE(inside.pass);
    EXPECT_EQ(inside.reason, "inside the denied window Fri 15:00-Mon 06:00 (Fri 2026-03-27 15:30 CET)");
    Rule allow = deny;
    allow.deny.clear();
    allow.allow = {"Mon 08:00-Thu 18:00"};
    EXPECT_FALSE(evaluate_window(allow, inputs).pass);
    inputs.now = at("2026-03-25T10:00:00Z");
    EXPECT_TRUE(evaluate_window(allow, inputs).pass);
}

}  // namespace
