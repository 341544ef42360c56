#include "digestflow/quote.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

namespace digestflow {
namespace {

DIGESTFLOW_LABELLED_CASES()

struct QuoteCase {
    std::string label;
    std::string input;
    std::string expected;
};

class QuoteTest : public testing::TestWithParam<QuoteCase> {};

TEST_P(QuoteTest, QuotesOnOnePrintableLine) { EXPECT_EQ(quote(GetParam().input, 10), GetParam().expected); }

INSTANTIATE_TEST_SUITE_P(
    Cases, QuoteTest,
    testing::Values(QuoteCase{"plain", "abc", "\"abc\""}, QuoteCase{"empty", "", "\"\""},
                    QuoteCase{"control_character", "a\x01" "b", "\"a\\x01b\""},
                    QuoteCase{"newline_and_escape", "a\n\x1b[1m", "\"a\\x0a\\x1b[1m\""},
                    QuoteCase{"delete", "\x7f", "\"\\x7f\""}, QuoteCase{"nul", std::string("a\0b", 3), "\"a\\x00b\""},
                    QuoteCase{"quote_and_backslash", "a\"b\\", "\"a\\\"b\\\\\""},
                    QuoteCase{"utf8_kept", "caf\xc3\xa9", "\"caf\xc3\xa9\""},
                    QuoteCase{"invalid_utf8_escaped", "\xff\xc3", "\"\\xff\\xc3\""},
                    QuoteCase{"overlong_utf8_escaped", "\xe0\x80\xaf", "\"\\xe0\\x80\\xaf\""},
                    QuoteCase{"c1_control_escaped", "a\xc2\x9b" "b", "\"a\\xc2\\x9bb\""},
                    QuoteCase{"nbsp_kept", "a\xc2\xa0" "b", "\"a\xc2\xa0" "b\""},
                    QuoteCase{"utf8_bom_kept", "\xef\xbb\xbfx", "\"\xef\xbb\xbfx\""},
                    QuoteCase{"cut_after_max", "0123456789abc", "\"0123456789...\""},
                    QuoteCase{"exactly_max", "0123456789", "\"0123456789\""}),
    label_of<QuoteCase>);

}  // namespace
}  // namespace digestflow
