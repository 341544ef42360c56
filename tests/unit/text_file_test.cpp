// Bounded reads of input files with messages that name the flag and the file.
#include "digestflow/error.hpp"
#include "digestflow/text_file.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <functional>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

namespace digestflow {
namespace {

DIGESTFLOW_LABELLED_CASES()

class TextFile : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = std::filesystem::temp_directory_path() / ("text-file-" + std::to_string(::getpid()));
        std::filesystem::create_directories(m_dir);
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }
    std::string write(const std::string& name, const std::string& content) {
        auto path = (m_dir / name).string();
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }
    std::filesystem::path m_dir;
};

TEST_F(TextFile, ReadsTheWholeFileByteForByte) {
    std::string content = "sha256:abc\n\0binary\r\n";
    content += std::string(200000, 'x');
    EXPECT_EQ(read_text_file(write("a", content), "--from-digest-file"), content);
}

TEST_F(TextFile, MissingFileNamesTheFlagAndThePath) {
    auto path = (m_dir / "missing.txt").string();
    try {
        read_text_file(path, "--from-jib");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_NE(std::string(e.what()).find("--from-jib " + path), std::string::npos) << e.what();
    }
}

TEST_F(TextFile, LargerThanTheBoundIsRefused) {
    auto path = write("big", std::string(1025, 'x'));
    EXPECT_NO_THROW(read_text_file(write("ok", std::string(1024, 'x')), "--x", 1024));
    EXPECT_THROW(read_text_file(path, "--x", 1024), Error);
}

std::string message_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
}

// Issue 6 #18: a FIFO with no writer is refused at once, never waited on (the open is non-blocking); the same
// for devices (#19: /dev/zero would grow without end) and directories (which open, then fail to read).
TEST_F(TextFile, OnlyRegularFilesAreRead) {
    const std::string fifo = (m_dir / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string message = message_of([&] { read_text_file(fifo, "--from-list"); });
    EXPECT_EQ(message.rfind("--from-list " + fifo + ": is a FIFO", 0), 0u) << message;
    message = message_of([&] { read_text_file("/dev/zero", "--registry-config"); });
    EXPECT_EQ(message.rfind("--registry-config /dev/zero: is a device, not a regular file", 0), 0u) << message;
    message = message_of([&] { read_text_file(m_dir.string(), "--from-jib"); });
    EXPECT_EQ(message.rfind("--from-jib " + m_dir.string() + ": is a directory", 0), 0u) << message;
    message = message_of([&] { read_text_file("", "--from-jib"); });
    EXPECT_NE(message.find("--from-jib is empty"), std::string::npos) << message;
}

TEST_F(TextFile, HintsAndStdin) {
    InputFileOptions options;
    options.hint = " (check --artifact)";
    options.missing_hint = " (run capture-digest first)";
    std::string message = message_of([&] { read_text_file((m_dir / "none").string(), "", options); });
    EXPECT_EQ(message, (m_dir / "none").string() + ": cannot open: No such file or directory (run capture-digest first)");
    // "-" is a file name unless stdin is allowed.
    message = message_of([&] { read_text_file("-", "--from-jib"); });
    EXPECT_EQ(message.rfind("--from-jib -: cannot open", 0), 0u) << message;
}

struct DecodeCase {
    std::string label;
    std::string bytes;
    std::string text;  // expected; empty with `error` set = refused
    std::string error;
};

class DecodeText : public testing::TestWithParam<DecodeCase> {};

TEST_P(DecodeText, Decodes) {
    const auto& c = GetParam();
    if (c.error.empty()) {
        EXPECT_EQ(decode_text(c.bytes, "f"), c.text);
        return;
    }
    std::string message = message_of([&] { decode_text(c.bytes, "f"); });
    EXPECT_EQ(message.rfind("f: ", 0), 0u) << message;
    EXPECT_NE(message.find(c.error), std::string::npos) << message;
}

// Issue 6 (capture b): a UTF-8 BOM is dropped; UTF-16 with a BOM (PowerShell 5.1's `>`) becomes UTF-8.
INSTANTIATE_TEST_SUITE_P(Cases, DecodeText,
                         testing::Values(DecodeCase{"plain", "sha256:a\n", "sha256:a\n", ""},
                                         DecodeCase{"utf8_bom", "\xEF\xBB\xBFsha256:a\n", "sha256:a\n", ""},
                                         DecodeCase{"utf16le_bom", std::string("\xFF\xFEh\0i\0\r\0\n\0", 10), "hi\r\n", ""},
                                         DecodeCase{"utf16be_bom", std::string("\xFE\xFF\0h\0i", 6), "hi", ""},
                                         DecodeCase{"utf16le_non_ascii", std::string("\xFF\xFE\xE9\0\xAC\x20", 6),
                                                    "\xC3\xA9\xE2\x82\xAC", ""},
                                         DecodeCase{"utf16le_surrogate_pair", std::string("\xFF\xFE\x3D\xD8\x00\xDE", 6),
                                                    "\xF0\x9F\x98\x80", ""},
                                         DecodeCase{"utf16le_odd_length", std::string("\xFF\xFEh", 3), "", "odd number of bytes"},
                                         DecodeCase{"utf16le_lone_surrogate", std::string("\xFF\xFE\x00\xDE", 4), "",
                                                    "unpaired surrogate"}),
                         label_of<DecodeCase>);

TEST_F(TextFile, ReadingDecodes) {
    EXPECT_EQ(read_text_file(write("bom", "\xEF\xBB\xBFsha256:a\n"), "--from-digest-file"), "sha256:a\n");
    EXPECT_EQ(read_text_file(write("u16", std::string("\xFF\xFEo\0k\0", 6)), "--from-push-output"), "ok");
}

}  // namespace
}  // namespace digestflow
