// HTTP/1.1 response framing: a body is complete only when its framing says so. Each case feeds the bytes a
// server sent (in small pieces, as a socket delivers them) and checks what the reader makes of them.
#include "digestflow/registry/response_reader.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace digestflow::registry {
namespace {

DIGESTFLOW_LABELLED_CASES()

// Serves `bytes` at most `piece` bytes per call, then end of stream.
ByteSource source_of(const std::string& bytes, std::size_t piece = 3) {
    auto offset = std::make_shared<std::size_t>(0);
    return [bytes, piece, offset](char* buffer, std::size_t capacity) {
        std::size_t n = std::min({capacity, piece, bytes.size() - *offset});
        std::memcpy(buffer, bytes.data() + *offset, n);
        *offset += n;
        return n;
    };
}

struct Outcome {
    int status = 0;
    std::string body;
    std::string error;  // substring of the FramingError; empty: must succeed
    bool reusable = false;
};

Outcome read_all(const std::string& wire, bool head_request = false) {
    Outcome out;
    ResponseReader reader(source_of(wire));
    try {
        out.status = reader.read_head(head_request).status;
        char buffer[5];
        while (std::size_t n = reader.read_body(buffer, sizeof buffer)) out.body.append(buffer, n);
        out.reusable = reader.reusable();
    } catch (const FramingError& e) {
        out.error = e.what();
    }
    return out;
}

struct FramingCase {
    std::string label;
    std::string wire;
    bool head_request;
    Outcome expected;
};

class Framing : public testing::TestWithParam<FramingCase> {};

TEST_P(Framing, ReadsWhatTheFramingSays) {
    const auto& c = GetParam();
    Outcome got = read_all(c.wire, c.head_request);
    if (!c.expected.error.empty()) {
        EXPECT_NE(got.error.find(c.expected.error), std::string::npos) << "error: " << got.error << " body: " << got.body;
        return;
    }
    EXPECT_EQ(got.error, "");
    EXPECT_EQ(got.status, c.expected.status);
    EXPECT_EQ(got.body, c.expected.body);
    EXPECT_EQ(got.reusable, c.expected.reusable);
}

const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, Framing,
    testing::Values(
        FramingCase{"content_length", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", false,
                    {200, "hello world", "", true}},
        FramingCase{"content_length_cut_short", "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nhello", false,
                    {0, "", "broke off after 5 of 20 bytes", false}},
        FramingCase{"chunked_complete", chunked_head + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", false,
                    {200, "hello world", "", true}},
        FramingCase{"chunked_with_extension_and_trailer",
                    chunked_head + "5;name=x\r\nhello\r\n0\r\nDigest: x\r\n\r\n", false, {200, "hello", "", true}},
        FramingCase{"chunked_cut_inside_a_chunk", chunked_head + "a\r\n01234", false,
                    {0, "", "broke off inside a chunk", false}},
        FramingCase{"chunked_cut_at_a_chunk_boundary", chunked_head + "5\r\n01234\r\n", false,
                    {0, "", "broke off at a chunk boundary", false}},
        FramingCase{"chunked_cut_inside_a_size_line", chunked_head + "5\r\n01234\r\n3", false,
                    {0, "", "broke off at a chunk boundary", false}},
        FramingCase{"chunked_cut_before_the_last_crlf", chunked_head + "5\r\n01234\r\n0\r\n", false,
                    {0, "", "broke off in the trailer", false}},
        FramingCase{"chunked_size_not_hex", chunked_head + "zz\r\n", false, {0, "", "malformed chunk size", false}},
        FramingCase{"chunk_longer_than_its_size", chunked_head + "2\r\nabc\r\n0\r\n\r\n", false,
                    {0, "", "longer than its size line", false}},
        FramingCase{"chunked_wins_over_content_length",
                    "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false,
                    {200, "ok", "", false}},
        FramingCase{"until_close", "HTTP/1.1 200 OK\r\n\r\nall of it", false, {200, "all of it", "", false}},
        FramingCase{"connection_close_not_reused", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                    false, {200, "ok", "", false}},
        FramingCase{"http10_not_reused", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, {200, "ok", "", false}},
        FramingCase{"head_has_no_body", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true, {200, "", "", true}},
        FramingCase{"no_content_has_no_body", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false,
                    {204, "", "", true}},
        FramingCase{"interim_answer_skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
                    false, {201, "", "", true}},
        FramingCase{"bare_lf_line_ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false, {200, "ok", "", true}},
        FramingCase{"conflicting_lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", false,
                    {0, "", "conflicting Content-Length", false}},
        FramingCase{"negative_length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false,
                    {0, "", "invalid Content-Length", false}},
        FramingCase{"not_http", "SSH-2.0-OpenSSH\r\n\r\n", false, {0, "", "not an HTTP/1.x status line", false}},
        FramingCase{"folded_header", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n", false,
                    {0, "", "folded header", false}},
        FramingCase{"header_without_colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", false,
                    {0, "", "malformed header line", false}},
        FramingCase{"head_cut_short", "HTTP/1.1 200 OK\r\nContent-Le", false,
                    {0, "", "closed in the middle of the response headers", false}}),
    label_of<FramingCase>);

TEST(FramingLimits, HugeHeadersAreRefused) {
    std::string wire = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 300; ++i) wire += "X-Filler-" + std::to_string(i) + ": " + std::string(300, 'x') + "\r\n";
    EXPECT_NE(read_all(wire + "\r\n").error.find("larger than"), std::string::npos);
}

// A server sending trailer lines without end kept a streamed blob download (bounded only by idle time)
// going forever: the trailer section is bounded like a head.
TEST(FramingLimits, HugeTrailersAreRefused) {
    std::string wire = chunked_head + "2\r\nok\r\n0\r\n";
    for (int i = 0; i < 300; ++i) wire += "X-Trailer-" + std::to_string(i) + ": " + std::string(300, 'x') + "\r\n";
    Outcome got = read_all(wire + "\r\n");
    EXPECT_NE(got.error.find("trailer larger than"), std::string::npos) << got.error;
}

// An unasked 100 Continue arriving while an upload's body goes out is dropped, so the body can go on; any
// other answer (or a head not yet whole) stays for the early-answer path.
TEST(FramingInterim, BufferedInterimAnswersAreDropped) {
    struct Case {
        std::string wire;
        bool dropped;
    };
    for (const Case& c : {Case{"HTTP/1.1 100 Continue\r\n\r\n", true},
                          Case{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n", true},
                          Case{"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n", false},
                          Case{"HTTP/1.1 101 Switching Protocols\r\n\r\n", false},
                          Case{"HTTP/1.1 100 Continue\r\n", false},
                          Case{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n", false}}) {
        ResponseReader reader(source_of(c.wire, c.wire.size()));
        ASSERT_TRUE(reader.receive_more());
        EXPECT_EQ(reader.drop_buffered_interim(), c.dropped) << c.wire;
    }
}

TEST(FramingLimits, AnEndlessLineIsRefused) {
    EXPECT_NE(read_all("HTTP/1.1 200 OK\r\nX: " + std::string(100000, 'x')).error.find("longer than"), std::string::npos);
}

TEST(FramingStaleConnection, NothingReceivedIsTold) {
    ResponseReader reader(source_of(""));
    try {
        reader.read_head(false);
        FAIL() << "an empty stream gave a response";
    } catch (const FramingError& e) {
        EXPECT_TRUE(e.nothing_received());
    }
    ResponseReader partial(source_of("HTTP/1.1 2"));
    try {
        partial.read_head(false);
        FAIL() << "half a status line gave a response";
    } catch (const FramingError& e) {
        EXPECT_FALSE(e.nothing_received());
    }
}

TEST(FramingReuse, BytesBeyondTheBodyForbidReuse) {
    ResponseReader reader(source_of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", 1000));
    EXPECT_EQ(reader.read_head(false).status, 200);
    char buffer[8];
    EXPECT_EQ(reader.read_body(buffer, sizeof buffer), 2u);
    EXPECT_EQ(reader.read_body(buffer, sizeof buffer), 0u);
    EXPECT_FALSE(reader.reusable()) << "a server that sent more than it framed is not trusted with the next request";
}

TEST(FramingReuse, TwoResponsesOnOneConnection) {
    ResponseReader reader(source_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"));
    EXPECT_EQ(reader.read_head(false).status, 200);
    char c;
    EXPECT_EQ(reader.read_body(&c, 1), 1u);
    EXPECT_EQ(reader.read_body(&c, 1), 0u);
    EXPECT_TRUE(reader.reusable());
    reader.forbid_reuse();
    EXPECT_FALSE(reader.reusable());
}

}  // namespace
}  // namespace digestflow::registry

namespace digestflow::registry {
namespace {

TEST(FramingLimits, AnEndlessChunkSizeLineIsMalformedNotBrokenOff) {
    auto got = read_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + std::string(10000, 'x') + "\r\n");
    EXPECT_NE(got.error.find("chunk size line longer than"), std::string::npos) << got.error;
}

}  // namespace
}  // namespace digestflow::registry
