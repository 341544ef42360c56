// Bounded reads of input files with messages that name the flag and the file.
#include "digestflow/error.hpp"
#include "digestflow/text_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace digestflow {
namespace {

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

}  // namespace
}  // namespace digestflow
