// RFC 3339 times: what parse_rfc3339 accepts (zones, offsets, fractions floored, leap day, leap second), what
// it refuses, the flag error, and format_rfc3339 back. Expected values come from `date -u -d TIME +%s`.
#include "digestflow/ledger/timestamp.hpp"

#include "digestflow/error.hpp"

#include "labelled_cases.hpp"
#include "ledger_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace digestflow::ledger {
namespace {

DIGESTFLOW_LABELLED_CASES()

using namespace testing_support;

constexpr std::int64_t k_example = 1796190212;  // 2026-12-02T05:43:32Z

struct ValidCase {
    std::string label;
    std::string text;
    std::int64_t seconds;
};

class LedgerTimestampValid : public ::testing::TestWithParam<ValidCase> {};

TEST_P(LedgerTimestampValid, GivesWholeUtcSeconds) {
    EXPECT_EQ(parse_rfc3339(GetParam().text), std::optional<std::int64_t>(GetParam().seconds)) << GetParam().text;
    EXPECT_EQ(parse_time_flag("--at", GetParam().text), GetParam().seconds);
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerTimestampValid,
    ::testing::Values(ValidCase{"epoch", "1970-01-01T00:00:00Z", 0},
                      ValidCase{"upper_z", "2026-12-02T05:43:32Z", k_example},
                      ValidCase{"lower_t_and_z", "2026-12-02t05:43:32z", k_example},
                      ValidCase{"space_separator", "2026-12-02 05:43:32Z", k_example},
                      ValidCase{"plus_offset", "2026-12-02T06:43:32+01:00", k_example},
                      ValidCase{"minus_offset_with_minutes", "2026-12-02T00:13:32-05:30", k_example},
                      ValidCase{"offset_crossing_the_date", "2026-12-03T01:43:32+20:00", k_example},
                      ValidCase{"zero_offsets", "2026-12-02T05:43:32+00:00", k_example},
                      ValidCase{"negative_zero_offset", "2026-12-02T05:43:32-00:00", k_example},
                      ValidCase{"fraction_floored", "2026-12-02T05:43:32.999Z", k_example},
                      ValidCase{"one_digit_fraction", "2026-12-02T05:43:32.1Z", k_example},
                      ValidCase{"long_fraction", "2026-12-02T05:43:32.123456789012Z", k_example},
                      ValidCase{"fraction_and_offset", "2026-12-02T06:43:32.5+01:00", k_example},
                      ValidCase{"leap_day_2024", "2024-02-29T12:00:00Z", 1709208000},
                      ValidCase{"leap_day_2000_divisible_by_400", "2000-02-29T00:00:00Z", 951782400},
                      ValidCase{"leap_second_counts_as_59", "2016-12-31T23:59:60Z", 1483228799},
                      ValidCase{"end_of_century", "1999-12-31T23:59:59Z", 946684799},
                      ValidCase{"after_2038", "2100-03-01T00:00:00Z", 4107542400},
                      ValidCase{"before_the_epoch", "1969-12-31T23:59:59Z", -1}),
    label_of<ValidCase>);

struct InvalidCase {
    std::string label;
    std::string text;
};

class LedgerTimestampInvalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(LedgerTimestampInvalid, IsNotATime) {
    EXPECT_EQ(parse_rfc3339(GetParam().text), std::nullopt) << GetParam().text;
    std::string message = error_of(ErrorKind::Usage, [&] { parse_time_flag("--since", GetParam().text); });
    EXPECT_EQ(message.rfind("--since ", 0), 0u) << message;
    EXPECT_TRUE(contains(message, "RFC 3339")) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerTimestampInvalid,
    ::testing::Values(InvalidCase{"empty", ""}, InvalidCase{"a_word", "yesterday"},
                      InvalidCase{"date_only", "2026-12-02"},
                      InvalidCase{"no_leap_day_2023", "2023-02-29T00:00:00Z"},
                      InvalidCase{"no_leap_day_1900", "1900-02-29T00:00:00Z"},
                      InvalidCase{"april_31", "2026-04-31T00:00:00Z"},
                      InvalidCase{"month_13", "2026-13-01T00:00:00Z"},
                      InvalidCase{"month_0", "2026-00-01T00:00:00Z"},
                      InvalidCase{"day_0", "2026-12-00T00:00:00Z"},
                      InvalidCase{"missing_zone", "2026-12-02T05:43:32"},
                      InvalidCase{"fraction_without_zone", "2026-12-02T05:43:32.5"},
                      InvalidCase{"hour_24", "2026-12-02T24:00:00Z"},
                      InvalidCase{"minute_60", "2026-12-02T05:60:00Z"},
                      InvalidCase{"second_61", "2026-12-02T05:43:61Z"},
                      InvalidCase{"slashes_in_date", "2026/12/02T05:43:32Z"},
                      InvalidCase{"dashes_in_time", "2026-12-02T05-43-32Z"},
                      InvalidCase{"bad_date_time_separator", "2026-12-02X05:43:32Z"},
                      InvalidCase{"one_digit_hour", "2026-12-02T5:43:32Z"},
                      InvalidCase{"one_digit_day", "2026-12-2T05:43:32Z"},
                      InvalidCase{"no_seconds", "2026-12-02T05:43Z"},
                      InvalidCase{"trailing_junk", "2026-12-02T05:43:32Zjunk"},
                      InvalidCase{"trailing_space", "2026-12-02T05:43:32Z "},
                      InvalidCase{"leading_space", " 2026-12-02T05:43:32Z"},
                      InvalidCase{"dot_without_digits", "2026-12-02T05:43:32.Z"},
                      InvalidCase{"comma_fraction", "2026-12-02T05:43:32,5Z"},
                      InvalidCase{"offset_without_colon", "2026-12-02T05:43:32+0100"},
                      InvalidCase{"offset_hours_only", "2026-12-02T05:43:32+01"},
                      InvalidCase{"offset_hour_24", "2026-12-02T05:43:32+24:00"},
                      InvalidCase{"offset_minute_60", "2026-12-02T05:43:32+01:60"},
                      InvalidCase{"offset_then_junk", "2026-12-02T05:43:32+01:00Z"},
                      InvalidCase{"zone_name", "2026-12-02T05:43:32 UTC"},
                      InvalidCase{"nul_inside", std::string("2026-12-02T05:43:32Z\0", 21)}),
    label_of<InvalidCase>);

TEST(LedgerTimestampFlag, QuotesTheTextAndGivesAnExample) {
    std::string message = error_of(ErrorKind::Usage, [] { parse_time_flag("--at", "yesterday"); });
    EXPECT_EQ(message.rfind("--at \"yesterday\"", 0), 0u) << message;
    EXPECT_TRUE(contains(message, "2026-03-03T12:00:00Z")) << message;
}

struct FormatCase {
    std::string label;
    std::int64_t seconds;
    std::string text;
};

class LedgerTimestampFormat : public ::testing::TestWithParam<FormatCase> {};

TEST_P(LedgerTimestampFormat, WritesUtcSecondsThatParseBack) {
    EXPECT_EQ(format_rfc3339(GetParam().seconds), GetParam().text);
    EXPECT_EQ(parse_rfc3339(GetParam().text), std::optional<std::int64_t>(GetParam().seconds));
}

INSTANTIATE_TEST_SUITE_P(Table, LedgerTimestampFormat,
                         ::testing::Values(FormatCase{"epoch", 0, "1970-01-01T00:00:00Z"},
                                           FormatCase{"example", k_example, "2026-12-02T05:43:32Z"},
                                           FormatCase{"leap_day", 1709208000, "2024-02-29T12:00:00Z"},
                                           FormatCase{"end_of_year", 1483228799, "2016-12-31T23:59:59Z"},
                                           FormatCase{"after_2038", 4107542400, "2100-03-01T00:00:00Z"},
                                           FormatCase{"before_the_epoch", -1, "1969-12-31T23:59:59Z"}),
                         label_of<FormatCase>);

// Every day of four years (a leap year and a century among them) at an odd second: the two functions agree.
TEST(LedgerTimestampFormat, RoundTripsOverFourYearsOfDays) {
    const std::int64_t start = 946684799;  // 1999-12-31T23:59:59Z
    for (std::int64_t day = 0; day < 4 * 366; ++day) {
        const std::int64_t seconds = start + day * 86400 + (day * 7919) % 86400;
        const std::string text = format_rfc3339(seconds);
        ASSERT_EQ(parse_rfc3339(text), std::optional<std::int64_t>(seconds)) << text;
    }
}

// Four-digit years both ways: year 0 used to print as "0-01-01T00:00:00Z", and 9999-12-31T23:59:59-23:59 (valid
// RFC 3339) as "10000-01-01T23:58:59Z"; neither is RFC 3339, so --json answers could not be read back.
TEST(LedgerTimestampRange, FormatsYearZeroWithFourDigits) {
    auto seconds = parse_rfc3339("0000-01-01T00:00:00Z");
    ASSERT_TRUE(seconds);
    EXPECT_EQ(format_rfc3339(*seconds), "0000-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(parse_time_flag("--at", "0000-03-01T00:00:00Z")), "0000-03-01T00:00:00Z");
}

TEST(LedgerTimestampRange, AFlagTimePastYear9999InUtcIsAUsageError) {
    EXPECT_EQ(format_rfc3339(parse_time_flag("--at", "9999-12-31T23:59:59Z")), "9999-12-31T23:59:59Z");
    EXPECT_TRUE(contains(error_of(ErrorKind::Usage, [] { parse_time_flag("--at", "9999-12-31T23:59:59-23:59"); }),
                         "9999-12-31T23:59:59-23:59"));
    EXPECT_TRUE(contains(error_of(ErrorKind::Usage, [] { parse_time_flag("--until", "0000-01-01T00:00:00+00:01"); }),
                         "--until"));
}

}  // namespace
}  // namespace digestflow::ledger
