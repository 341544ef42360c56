#include "digestflow/operations/git_porcelain.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

namespace digestflow::operations {
namespace {

DIGESTFLOW_LABELLED_CASES()

// The porcelain outputs below are git 2.39.5's, captured against a bare repository (FORMATS.md §6).
struct VerdictCase {
    std::string label;
    std::string out;
    PushVerdict expected;
};

class PushVerdictTest : public testing::TestWithParam<VerdictCase> {};

TEST_P(PushVerdictTest, ReadsTheLineForOurRef) {
    EXPECT_EQ(push_verdict(parse_push_porcelain(GetParam().out), "refs/heads/main"), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PushVerdictTest,
    testing::Values(
        VerdictCase{"fast_forward", "To /tmp/bare.git\n \tHEAD:refs/heads/main\t86903a3..6bb9429\nDone\n",
                    PushVerdict::Landed},
        VerdictCase{"new_branch", "To /tmp/bare.git\n*\tHEAD:refs/heads/main\t[new branch]\nDone\n",
                    PushVerdict::Landed},
        VerdictCase{"fetch_first", "To /tmp/bare.git\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone\n",
                    PushVerdict::Behind},
        VerdictCase{"non_fast_forward",
                    "To /tmp/bare.git\n!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)\nDone\n",
                    PushVerdict::Behind},
        // Another push landed between the remote's advertisement and our update.
        VerdictCase{"lost_the_ref_lock_race",
                    "To /tmp/bare.git\n!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)\nDone\n",
                    PushVerdict::Behind},
        VerdictCase{"crlf_lines", "To x\r\n!\tHEAD:refs/heads/main\t[rejected] (fetch first)\r\nDone\r\n",
                    PushVerdict::Behind},
        VerdictCase{"hook_declined",
                    "To /tmp/bare.git\n!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n",
                    PushVerdict::Refused},
        // "[remote rejected]" is policy even when its reason reads like "behind": retrying cannot help.
        VerdictCase{"remote_rejected_non_fast_forward",
                    "!\tHEAD:refs/heads/main\t[remote rejected] (non-fast-forward)\nDone\n", PushVerdict::Refused},
        VerdictCase{"stale_info", "!\tHEAD:refs/heads/main\t[rejected] (stale info)\nDone\n", PushVerdict::Refused},
        VerdictCase{"remote_failure", "!\tHEAD:refs/heads/main\t[remote failure] (remote failed to report status)\n",
                    PushVerdict::Refused},
        VerdictCase{"forced_is_not_ours", "+\tHEAD:refs/heads/main\t1a2b...3c4d (forced update)\nDone\n",
                    PushVerdict::Refused},
        VerdictCase{"up_to_date", "=\tHEAD:refs/heads/main\t[up to date]\nDone\n", PushVerdict::Refused},
        VerdictCase{"other_ref_only", " \tHEAD:refs/heads/other\t86903a3..6bb9429\nDone\n", PushVerdict::Refused},
        VerdictCase{"no_ref_line", "", PushVerdict::Refused},
        VerdictCase{"garbage", "fatal: the remote end hung up\n", PushVerdict::Refused}),
    label_of<VerdictCase>);

TEST(ParsePushPorcelain, SplitsFlagRefsSummaryAndReason) {
    const auto statuses =
        parse_push_porcelain("To /tmp/b\n!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n");
    ASSERT_EQ(statuses.size(), 1u);
    EXPECT_EQ(statuses[0].flag, '!');
    EXPECT_EQ(statuses[0].from, "HEAD");
    EXPECT_EQ(statuses[0].to, "refs/heads/main");
    EXPECT_EQ(statuses[0].summary, "[remote rejected]");
    EXPECT_EQ(statuses[0].reason, "pre-receive hook declined");
}

TEST(ParsePushPorcelain, SummaryWithoutReason) {
    const auto statuses = parse_push_porcelain(" \trefs/heads/main:refs/heads/main\t86903a3..6bb9429\n");
    ASSERT_EQ(statuses.size(), 1u);
    EXPECT_EQ(statuses[0].from, "refs/heads/main");
    EXPECT_EQ(statuses[0].summary, "86903a3..6bb9429");
    EXPECT_EQ(statuses[0].reason, "");
}

struct TextCase {
    std::string label;
    std::string input;
    std::string expected;
};

class RedactTest : public testing::TestWithParam<TextCase> {};

TEST_P(RedactTest, NoSecretLeft) { EXPECT_EQ(redact_url_credentials(GetParam().input), GetParam().expected); }

INSTANTIATE_TEST_SUITE_P(
    Cases, RedactTest,
    testing::Values(
        TextCase{"user_and_password", "https://user:secret@git.example/ledger.git",
                 "https://***@git.example/ledger.git"},
        TextCase{"token_only", "https://ghp_abc@github.com/o/r", "https://***@github.com/o/r"},
        TextCase{"at_in_password", "https://u:p@ss@host:8443/r", "https://***@host:8443/r"},
        TextCase{"hash_and_question_mark_in_password", "https://u:p#s?s@host/r", "https://***@host/r"},
        TextCase{"quote_in_password", "https://u:p\\\"ss@host/r", "https://***@host/r"},
        TextCase{"quoted_in_message", "fatal: unable to access 'http://u:s@127.0.0.1:1/x.git/': refused",
                 "fatal: unable to access 'http://***@127.0.0.1:1/x.git/': refused"},
        TextCase{"two_urls", "a http://a:b@h1/x and ssh://c:d@h2/y", "a http://***@h1/x and ssh://***@h2/y"},
        TextCase{"no_userinfo", "https://git.example/ledger.git", "https://git.example/ledger.git"},
        TextCase{"at_in_path_kept", "https://host/a@b", "https://host/a@b"},
        TextCase{"scp_like_kept", "git@github.com:o/r.git", "git@github.com:o/r.git"},
        TextCase{"url_at_end", "push to http://u:p@h", "push to http://***@h"},
        TextCase{"no_url", "plain text", "plain text"}),
    label_of<TextCase>);

TEST(RemoteLines, KeepsTheHooksWordsOnly) {
    EXPECT_EQ(remote_lines("remote: ledger is frozen by policy        \nremote: \nTo /tmp/b\n"
                           "error: failed to push some refs to '/tmp/b'\nremote: ask #ops\n"),
              "ledger is frozen by policy / ask #ops");
    EXPECT_EQ(remote_lines("error: failed to push\n"), "");
}

TEST(LastErrorLine, PrefersFatalOrErrorOverHints) {
    EXPECT_EQ(last_error_line("error: failed to push some refs to 'x'\nhint: Updates were rejected\nhint: see\n"),
              "error: failed to push some refs to 'x'");
    EXPECT_EQ(last_error_line("warning: w\n  just words  \n\n"), "just words");
    EXPECT_EQ(last_error_line(""), "");
}

}  // namespace
}  // namespace digestflow::operations
