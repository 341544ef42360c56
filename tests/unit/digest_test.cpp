#include "digestflow/digest.hpp"

#include "digestflow/error.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace digestflow {
namespace {

const std::string hex64 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string hex128 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                           "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

std::string upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

DIGESTFLOW_LABELLED_CASES()

// Which go-digest error a string must produce; the phrase is checked in the message.
enum class Outcome { Valid, Format, Length, Unsupported };

const char* phrase(Outcome outcome) {
    switch (outcome) {
    case Outcome::Format: return "invalid checksum digest format";
    case Outcome::Length: return "invalid checksum digest length";
    case Outcome::Unsupported: return "unsupported digest algorithm";
    case Outcome::Valid: break;
    }
    return "";
}

struct ValidationCase {
    std::string label;
    std::string input;
    Outcome outcome;
};

class DigestValidation : public testing::TestWithParam<ValidationCase> {};

TEST_P(DigestValidation, FollowsGoDigestOrder) {
    const auto& c = GetParam();
    auto error = Digest::validation_error(c.input);
    if (c.outcome == Outcome::Valid) {
        EXPECT_FALSE(error) << *error;
        EXPECT_TRUE(Digest::is_valid(c.input));
        EXPECT_EQ(Digest::parse(c.input).str(), c.input);
        return;
    }
    ASSERT_TRUE(error) << "accepted " << c.input;
    EXPECT_FALSE(Digest::is_valid(c.input));
    EXPECT_NE(error->find(phrase(c.outcome)), std::string::npos) << *error;
    EXPECT_EQ(error->find('\n'), std::string::npos) << "message must be one line: " << *error;
    EXPECT_EQ(error->rfind("invalid digest \"", 0), 0u) << *error;

    auto problem = detail::digest_problem(c.input);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->rfind(phrase(c.outcome), 0), 0u) << *problem;

    try {
        Digest::parse(c.input);
        FAIL() << "parse accepted " << c.input;
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_EQ(std::string(e.what()), *error);
    }
}

const ValidationCase validation_cases[] = {
    {"sha256_lowercase", "sha256:" + hex64, Outcome::Valid},
    {"sha512_lowercase", "sha512:" + hex128, Outcome::Valid},
    {"empty_config_blob", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
     Outcome::Valid},

    // ':' missing, first or last.
    {"empty", "", Outcome::Format},
    {"colon_only", ":", Outcome::Format},
    {"no_colon", "sha256", Outcome::Format},
    {"bare_hex", hex64, Outcome::Format},
    {"colon_first", ":" + hex64, Outcome::Format},
    {"colon_last", "sha256:", Outcome::Format},

    // Known algorithm: length first, then lowercase hex.
    {"sha256_uppercase_hex", "sha256:" + upper(hex64), Outcome::Format},
    {"sha256_one_uppercase", "sha256:" + hex64.substr(0, 63) + "A", Outcome::Format},
    {"sha256_non_hex_letter", "sha256:" + hex64.substr(0, 63) + "g", Outcome::Format},
    {"sha256_short", "sha256:" + hex64.substr(0, 63), Outcome::Length},
    {"sha256_long", "sha256:" + hex64 + "0", Outcome::Length},
    {"sha256_short_with_bad_char", "sha256:d41d8cd98f00b204e9800m98ecf8427e", Outcome::Length},
    {"sha256_sha512_length", "sha256:" + hex128, Outcome::Length},
    {"sha512_sha256_length", "sha512:" + hex64, Outcome::Length},
    {"sha512_uppercase_hex", "sha512:" + upper(hex128), Outcome::Format},
    {"second_colon_counts_in_length", "sha256::" + hex64, Outcome::Length},
    {"second_colon_right_length", "sha256::" + hex64.substr(0, 63), Outcome::Format},
    {"trailing_newline", "sha256:" + hex64 + "\n", Outcome::Length},
    {"newline_in_hex", "sha256:" + hex64.substr(0, 63) + "\n", Outcome::Format},

    // Unknown algorithm: grammar decides between format and unsupported.
    {"sha384", "sha384:" + std::string(96, 'a'), Outcome::Unsupported},
    {"md5", "md5:d41d8cd98f00b204e9800998ecf8427e", Outcome::Unsupported},
    {"blake3_not_available", "blake3:" + hex64, Outcome::Unsupported},
    {"compound_algorithm", "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", Outcome::Unsupported},
    {"every_separator", "a+b.c_d-e:x", Outcome::Unsupported},
    {"encoded_with_equals", "foo:YWJj==", Outcome::Unsupported},
    {"short_unknown", "md5:a", Outcome::Unsupported},
    {"uppercase_algorithm", "SHA256:" + hex64, Outcome::Format},
    {"algorithm_leading_separator", "-sha256:" + hex64, Outcome::Format},
    {"algorithm_trailing_separator", "sha256.:" + hex64, Outcome::Format},
    {"algorithm_double_separator", "sha__256:" + hex64, Outcome::Format},
    {"algorithm_space", "sha 256:" + hex64, Outcome::Format},
    {"unknown_with_colon_in_encoded", "md5:abc:def", Outcome::Format},
    {"unknown_with_slash_in_encoded", "foo:ab/cd", Outcome::Format},
};

INSTANTIATE_TEST_SUITE_P(Cases, DigestValidation, testing::ValuesIn(validation_cases),
                         label_of<ValidationCase>);

TEST(DigestMessages, NameTheInputAndStayOnOneLine) {
    auto error = Digest::validation_error("sha256:\nABC");
    ASSERT_TRUE(error);
    EXPECT_NE(error->find("\"sha256:\\x0aABC\""), std::string::npos) << *error;
    EXPECT_EQ(error->find('\n'), std::string::npos);

    auto md5 = Digest::validation_error("md5:d41d8cd98f00b204e9800998ecf8427e");
    ASSERT_TRUE(md5);
    EXPECT_NE(md5->find("sha256, sha512"), std::string::npos) << *md5;

    auto length = Digest::validation_error("sha256:abc");
    ASSERT_TRUE(length);
    EXPECT_NE(length->find("64"), std::string::npos) << *length;
    EXPECT_NE(length->find("got 3"), std::string::npos) << *length;
}

TEST(DigestAccessors, SplitAtFirstColon) {
    auto d = Digest::parse("sha256:" + hex64);
    EXPECT_EQ(d.algorithm(), "sha256");
    EXPECT_EQ(d.encoded(), hex64);
    EXPECT_EQ(d, Digest::parse("sha256:" + hex64));
    EXPECT_FALSE(d == Digest::parse("sha512:" + hex128));
}

struct HashCase {
    std::string label;
    std::string algorithm;
    std::string input;
    std::string expected;
};

class DigestHashing : public testing::TestWithParam<HashCase> {};

TEST_P(DigestHashing, KnownVectors) {
    const auto& c = GetParam();
    EXPECT_EQ(Digest::of(c.input, c.algorithm).str(), c.expected);

    DigestHasher hasher(c.algorithm);
    hasher.update(c.input);
    EXPECT_EQ(hasher.finish().str(), c.expected);
}

const HashCase hash_cases[] = {
    {"sha256_empty", "sha256", "", "sha256:" + hex64},
    {"sha256_empty_json", "sha256", "{}",
     "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
    {"sha256_abc", "sha256", "abc",
     "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"sha256_million_a", "sha256", std::string(1000000, 'a'),
     "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {"sha512_empty", "sha512", "", "sha512:" + hex128},
    {"sha512_abc", "sha512", "abc",
     "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
};

INSTANTIATE_TEST_SUITE_P(Vectors, DigestHashing, testing::ValuesIn(hash_cases), label_of<HashCase>);

TEST(DigestHashing, DefaultAlgorithmIsSha256) {
    EXPECT_EQ(Digest::of("").str(), "sha256:" + hex64);
    DigestHasher hasher;
    EXPECT_EQ(hasher.finish().str(), "sha256:" + hex64);
}

TEST(DigestHashing, StreamingInChunksEqualsOneShot) {
    // Deterministic bytes covering every value, including NULs.
    std::string data(300000, '\0');
    std::uint32_t state = 12345;
    for (auto& c : data) {
        state = state * 1103515245u + 12345u;
        c = static_cast<char>(state >> 24);
    }
    for (std::string algorithm : {"sha256", "sha512"}) {
        auto expected = Digest::of(data, algorithm);
        for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{4096},
                                  std::size_t{65536}, data.size()}) {
            DigestHasher hasher(algorithm);
            for (std::size_t offset = 0; offset < data.size(); offset += chunk)
                hasher.update(data.data() + offset, std::min(chunk, data.size() - offset));
            EXPECT_EQ(hasher.finish(), expected) << algorithm << " chunk " << chunk;
        }
    }
}

TEST(DigestHashing, EmptyUpdatesChangeNothing) {
    DigestHasher hasher;
    hasher.update(nullptr, 0);
    hasher.update("{");
    hasher.update("");
    hasher.update("}");
    EXPECT_EQ(hasher.finish().str(),
              "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

TEST(DigestHashing, UnsupportedAlgorithmsAreUsageErrors) {
    for (std::string algorithm : {"md5", "sha384", "SHA256", ""}) {
        try {
            DigestHasher hasher(algorithm);
            FAIL() << "accepted " << algorithm;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Usage);
            EXPECT_NE(std::string(e.what()).find("unsupported digest algorithm"), std::string::npos)
                << e.what();
        }
        EXPECT_THROW(Digest::of("x", algorithm), Error);
    }
}

TEST(DigestHashing, FinishIsOnceOnly) {
    DigestHasher hasher;
    hasher.update("abc");
    hasher.finish();
    EXPECT_THROW(hasher.finish(), std::logic_error);
    EXPECT_THROW(hasher.update("more"), std::logic_error);
}

TEST(DigestHashing, MoveKeepsState) {
    DigestHasher first("sha512");
    first.update("a");
    DigestHasher second = std::move(first);
    second.update("bc");
    EXPECT_EQ(second.finish(), Digest::of("abc", "sha512"));

    DigestHasher third;
    third = DigestHasher("sha256");
    third.update("{}");
    EXPECT_EQ(third.finish().str(),
              "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

}  // namespace
}  // namespace digestflow
