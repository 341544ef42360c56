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

TEST(BytePipe, TheProducersErrorReachesTheReaderAfterTheBytes) {
    BytePipe pipe(16);
    ASSERT_TRUE(pipe.write("abc", 3));
    pipe.close(std::string("source broke off"));
    char buffer[8];
    EXPECT_EQ(pipe.read(buffer, sizeof buffer), 3u);
    try {
        pipe.read(buffer, sizeof buffer);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Registry);
        EXPECT_STREQ(e.what(), "source broke off");
    }
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
