// The bounded pipe that carries a blob from a download thread into an upload: order, bounds, errors, abandon.
#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/registry/byte_pipe.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace digestflow::registry {
namespace {

std::string pattern(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    return bytes;
}

TEST(BytePipe, CarriesEveryByteInOrderThroughASmallRing) {
    const std::string input = pattern(3 * 1024 * 1024 + 17);
    BytePipe pipe(64 * 1024 + 3);  // odd capacity: writes and reads wrap around the ring
    std::thread producer([&] {
        for (std::size_t at = 0; at < input.size(); at += 10007)
            ASSERT_TRUE(pipe.write(input.data() + at, std::min<std::size_t>(10007, input.size() - at)));
        pipe.close();
    });
    std::string output;
    char buffer[4099];
    while (std::size_t n = pipe.read(buffer, sizeof buffer)) output.append(buffer, n);
    producer.join();
    EXPECT_EQ(output.size(), input.size());
    EXPECT_EQ(Digest::of(output), Digest::of(input));
}

TEST(BytePipe, TheProducersErrorReachesTheReaderBeforeTheLastByte) {
    BytePipe pipe(16);
    ASSERT_TRUE(pipe.write("abc", 3));
    char buffer[8];
    EXPECT_EQ(pipe.read(buffer, sizeof buffer), 2u) << "the last byte waits for a clean close";
    pipe.close(std::string("source broke off"));
    try {
        pipe.read(buffer, sizeof buffer);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Registry);
        EXPECT_STREQ(e.what(), "source broke off");
    }
}

// A blob that does not hash must never complete an upload: the reader gets the producer's own error (its
// kind kept), and never the byte that would have completed the body.
TEST(BytePipe, AFailedProducerKeepsItsErrorKindAndTheLastByte) {
    BytePipe pipe(16);
    ASSERT_TRUE(pipe.write("abcd", 4));
    char buffer[8];
    std::string got;
    std::thread producer([&] {
        pipe.fail(std::make_exception_ptr(Error(ErrorKind::CheckFailed, "hashed to something else")));
    });
    producer.join();
    try {
        while (std::size_t n = pipe.read(buffer, sizeof buffer)) got.append(buffer, n);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::CheckFailed);
    }
    EXPECT_LT(got.size(), 4u);
}

TEST(BytePipe, TheLastByteComesOnlyWithACleanClose) {
    BytePipe pipe(16);
    std::string got;
    std::thread reader([&] {
        char buffer[8];
        while (std::size_t n = pipe.read(buffer, sizeof buffer)) got.append(buffer, n);
    });
    ASSERT_TRUE(pipe.write("x", 1));
    pipe.close();
    reader.join();
    EXPECT_EQ(got, "x");
}

// A retried download starts over: the reader learns that its bytes are void (PipeRestarted), and reads the
// new attempt's bytes from the start.
TEST(BytePipe, RestartVoidsTheReadersBytesAndCarriesTheNewAttempt) {
    BytePipe pipe(64);
    std::thread producer([&] {
        ASSERT_TRUE(pipe.write("first attempt, broken", 21));
        ASSERT_TRUE(pipe.restart());
        ASSERT_TRUE(pipe.write("second", 6));
        pipe.close();
    });
    char buffer[8];
    std::string first, second;
    bool restarted = false;
    try {
        while (std::size_t n = pipe.read(buffer, sizeof buffer)) first.append(buffer, n);
    } catch (const PipeRestarted& e) {
        restarted = true;
        EXPECT_EQ(e.kind(), ErrorKind::Registry);
    }
    while (std::size_t n = pipe.read(buffer, sizeof buffer)) second.append(buffer, n);
    producer.join();
    EXPECT_TRUE(restarted);
    EXPECT_EQ(second, "second");
}

TEST(BytePipe, RestartReturnsFalseWhenTheReaderGaveUp) {
    BytePipe pipe(8);
    ASSERT_TRUE(pipe.write("ab", 2));
    pipe.abandon();
    EXPECT_FALSE(pipe.restart());
}

TEST(BytePipe, AbandonWakesABlockedProducer) {
    BytePipe pipe(4);
    bool accepted = true;
    std::thread producer([&] { accepted = pipe.write("0123456789", 10); });  // blocks: the ring holds 4
    pipe.abandon();
    producer.join();
    EXPECT_FALSE(accepted);
}

TEST(BytePipe, CleanEndReadsAsZero) {
    BytePipe pipe(8);
    pipe.close();
    char buffer[4];
    EXPECT_EQ(pipe.read(buffer, sizeof buffer), 0u);
}

}  // namespace
}  // namespace digestflow::registry
