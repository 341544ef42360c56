// unified_diff against the real judge: GNU `diff -u` run on the same two texts, over generated edits
// (repeated lines, CRLF, missing final newline, empty files, large files) and a few hand-written cases.
#include "digestflow/gitops/unified_diff.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace digestflow::gitops {
namespace {

class UnifiedDiff : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = std::filesystem::temp_directory_path() / ("unified-diff-" + std::to_string(::getpid()));
        std::filesystem::create_directories(m_dir);
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }

    // What /usr/bin/diff -u prints for the two texts (header without timestamps, via --label).
    std::string gnu_diff(const std::string& old_text, const std::string& new_text) {
        const auto a = (m_dir / "old").string(), b = (m_dir / "new").string();
        std::ofstream(a, std::ios::binary) << old_text;
        std::ofstream(b, std::ios::binary) << new_text;
        const std::string command = "/usr/bin/diff -u --label OLD --label NEW '" + a + "' '" + b + "'";
        FILE* pipe = ::popen(command.c_str(), "r");
        EXPECT_NE(pipe, nullptr);
        std::string out;
        std::array<char, 4096> chunk{};
        std::size_t n = 0;
        while ((n = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0) out.append(chunk.data(), n);
        const int status = ::pclose(pipe);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) <= 1) << status;
        return out;
    }

    void expect_same_as_gnu(const std::string& old_text, const std::string& new_text, const std::string& what) {
        const std::string expected = gnu_diff(old_text, new_text);
        const std::string actual = unified_diff(old_text, new_text, "OLD", "NEW");
        ASSERT_EQ(actual, expected) << what << "\n--- old text:\n" << old_text << "\n--- new text:\n" << new_text;
    }

    std::filesystem::path m_dir;
};

TEST_F(UnifiedDiff, EqualTextsGiveNothing) {
    EXPECT_EQ(unified_diff("", "", "a", "b"), "");
    EXPECT_EQ(unified_diff("x\n", "x\n", "a", "b"), "");
    EXPECT_EQ(unified_diff("x", "x", "a", "b"), "");
}

TEST_F(UnifiedDiff, OneImageLineChanged) {
    const std::string old_text = "a\nb\nc\nimage: app:1.0\nd\ne\nf\ng\n";
    const std::string new_text = "a\nb\nc\nimage: app@sha256:00\nd\ne\nf\ng\n";
    EXPECT_EQ(unified_diff(old_text, new_text, "deploy.yaml", "deploy.yaml"),
              "--- deploy.yaml\n+++ deploy.yaml\n@@ -1,7 +1,7 @@\n a\n b\n c\n-image: app:1.0\n+image: app@sha256:00\n"
              " d\n e\n f\n");
}

TEST_F(UnifiedDiff, EmptyAndSingleLineRanges) {
    EXPECT_EQ(unified_diff("", "x\n", "o", "n"), "--- o\n+++ n\n@@ -0,0 +1 @@\n+x\n");
    EXPECT_EQ(unified_diff("x\n", "", "o", "n"), "--- o\n+++ n\n@@ -1 +0,0 @@\n-x\n");
    EXPECT_EQ(unified_diff("x", "x\n", "o", "n"), "--- o\n+++ n\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n");
}

TEST_F(UnifiedDiff, CrlfLinesKeepTheirEndings) {
    EXPECT_EQ(unified_diff("a\r\nb\r\n", "a\r\nc\r\n", "o", "n"), "--- o\n+++ n\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n");
}

TEST_F(UnifiedDiff, HandCasesMatchGnuDiff) {
    expect_same_as_gnu("a\na\nb\n", "a\nb\n", "repeated line deleted");
    expect_same_as_gnu("a\nb\nc\n", "a\nb\nc", "final newline removed");
    expect_same_as_gnu("a\nb\nc", "a\nB\nc", "no final newline on either side");
    expect_same_as_gnu("x\r\ny\r\n", "x\ny\n", "CRLF to LF");
    expect_same_as_gnu("", "a\nb", "empty to text without newline");
    expect_same_as_gnu("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n",
                       "1\n2\nX\n4\n5\n6\n7\n8\n9\nY\n11\n12\n13\n14\n15\n16\n", "two hunks merged at a gap of 6");
    expect_same_as_gnu("1\n2\nc\n4\n5\n6\n7\n8\n9\n10\nd\n12\n13\n14\n15\n16\n",
                       "1\n2\nX\n4\n5\n6\n7\n8\n9\n10\nY\n12\n13\n14\n15\n16\n", "two hunks apart at a gap of 7");
}

std::string random_text(std::mt19937& rng, std::size_t lines, bool crlf, bool final_newline, int alphabet) {
    std::string text;
    std::uniform_int_distribution<int> pick(0, alphabet - 1);
    for (std::size_t i = 0; i < lines; ++i) {
        text += "line " + std::to_string(pick(rng));
        text += crlf ? "\r\n" : "\n";
    }
    if (!final_newline && !text.empty()) text.resize(text.size() - (crlf ? 2 : 1));
    return text;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        std::size_t end = nl == std::string::npos ? text.size() : nl + 1;
        lines.push_back(text.substr(start, end - start));
        start = end;
    }
    return lines;
}

std::string edit(std::mt19937& rng, const std::string& text, int edits, int alphabet) {
    std::vector<std::string> lines = split_lines(text);
    std::uniform_int_distribution<int> kind(0, 5);
    std::uniform_int_distribution<int> value(0, alphabet - 1);
    for (int e = 0; e < edits; ++e) {
        std::uniform_int_distribution<std::size_t> where(0, lines.size());
        const std::size_t at = where(rng);
        const std::string ending = (!lines.empty() && lines[0].size() > 1 && lines[0].ends_with("\r\n")) ? "\r\n" : "\n";
        switch (kind(rng)) {
            case 0:
            case 1: lines.insert(lines.begin() + static_cast<long>(at), "line " + std::to_string(value(rng)) + ending); break;
            case 2:
            case 3:
                if (at < lines.size()) lines.erase(lines.begin() + static_cast<long>(at));
                break;
            case 4:
                if (at < lines.size()) lines[at] = "changed " + std::to_string(value(rng)) + ending;
                break;
            default:  // toggle the final newline, or turn one line into CRLF / LF
                if (!lines.empty()) {
                    std::string& last = lines.back();
                    if (last.ends_with("\n")) last.pop_back();
                    else last += ending;
                }
                break;
        }
    }
    std::string out;
    for (const auto& l : lines) out += l;
    // A line without newline may have been moved off the end; the text stays as written.
    return out;
}

TEST_F(UnifiedDiff, RandomSmallEditsMatchGnuDiff) {
    std::mt19937 rng(20261202);
    for (int round = 0; round < 1500; ++round) {
        const int alphabet = 1 + round % 12;  // few distinct lines: many equally short alignments
        const bool crlf = round % 7 == 3;
        const bool final_newline = round % 5 != 1;
        const std::size_t lines = static_cast<std::size_t>(round % 40);
        const std::string old_text = random_text(rng, lines, crlf, final_newline, alphabet);
        const std::string new_text = edit(rng, old_text, 1 + round % 6, alphabet);
        expect_same_as_gnu(old_text, new_text, "round " + std::to_string(round));
        if (HasFatalFailure()) return;
    }
}

TEST_F(UnifiedDiff, UnrelatedTextsMatchGnuDiff) {
    std::mt19937 rng(7);
    for (int round = 0; round < 300; ++round) {
        const int alphabet = 1 + round % 9;
        const std::string old_text = random_text(rng, static_cast<std::size_t>(round % 30), round % 4 == 0,
                                                 round % 3 != 0, alphabet);
        const std::string new_text = random_text(rng, static_cast<std::size_t>((round * 7) % 30), round % 4 == 0,
                                                 round % 2 != 0, alphabet);
        expect_same_as_gnu(old_text, new_text, "round " + std::to_string(round));
        if (HasFatalFailure()) return;
    }
}

TEST_F(UnifiedDiff, LargeFilesMatchGnuDiff) {
    // Thousands of lines with scattered edits: GNU's discarding of lines and its cost cut-off both come into play.
    std::mt19937 rng(42);
    for (int round = 0; round < 4; ++round) {
        const std::string old_text = random_text(rng, 3000 + 2000 * static_cast<std::size_t>(round), false, true,
                                                 round < 2 ? 50 : 4000);
        const std::string new_text = edit(rng, old_text, 200 + 1500 * round, round < 2 ? 50 : 4000);
        expect_same_as_gnu(old_text, new_text, "large round " + std::to_string(round));
        if (HasFatalFailure()) return;
    }
}

}  // namespace
}  // namespace digestflow::gitops
