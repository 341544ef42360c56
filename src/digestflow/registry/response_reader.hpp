// Reading HTTP/1.1 responses from a byte stream, with our own framing rules: a body is complete only when
// its framing says so (every Content-Length byte, or the zero-size last chunk of a chunked body), so a
// connection that breaks off is never taken for the end of a body. Pure: the bytes come from a callback,
// so the rules are unit-tested without sockets.
#pragma once

#include "digestflow/registry/http.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace digestflow::registry {

// Fills up to `capacity` bytes into `buffer`; returns how many, 0 at the end of the stream.
using ByteSource = std::function<std::size_t(char* buffer, std::size_t capacity)>;

// The answer could not be read: malformed, too large, or cut off. `nothing_received` tells a connection
// the server had already closed (a stale kept-alive one, safe to retry) from one that broke mid-answer.
class FramingError : public std::runtime_error {
public:
    FramingError(const std::string& message, bool nothing_received)
        : std::runtime_error(message), m_nothing_received(nothing_received) {}
    bool nothing_received() const { return m_nothing_received; }

private:
    bool m_nothing_received;
};

struct ResponseHead {
    int status = 0;
    std::string reason;
    HeaderList headers;
};

class ResponseReader {
public:
    explicit ResponseReader(ByteSource source);

    // Reads the next response head, skipping interim 1xx answers. `no_body` is true for an answer to HEAD.
    ResponseHead read_head(bool no_body);

    // Up to `capacity` body bytes; 0 once the body has ended as framed. Throws FramingError when the stream
    // ends (or the chunk syntax breaks) before that.
    std::size_t read_body(char* buffer, std::size_t capacity);

    // Whether another request may follow on this connection: the body ended as framed (not by the
    // connection closing), nothing arrived beyond it, and the server did not ask to close.
    bool reusable() const;

    // Reads whatever the stream has now into the buffer (an answer arriving early); false at its end.
    bool receive_more() { return fill(); }

    // Drops interim 1xx answers that are already buffered whole (a 100 Continue a server sends unasked while
    // an upload's body is going out); true when nothing else is buffered, so the body may go on.
    bool drop_buffered_interim();

    // Marks the connection as not reusable (an exchange that ended out of order).
    void forbid_reuse() { m_close_requested = true; }

    // Discards what is buffered and starts over (a new request on the same connection).
    void reset();

    std::int64_t body_bytes() const { return m_body_bytes; }

private:
    enum class Framing { None, Length, Chunked, UntilClose };
    enum class ChunkState { Size, Data, DataEnd, Trailers, Done };

    bool fill();                                // more bytes into the buffer; false at the end of the stream
    // One line without its end; nullopt when the stream ends first. Throws FramingError past `limit` bytes.
    std::optional<std::string> next_line(std::size_t limit, const char* what);
    std::string read_line(std::size_t limit, const char* what);  // the end of the stream is an error
    std::size_t take(char* buffer, std::size_t capacity);  // from the buffer, else straight from the source
    std::size_t read_chunked(char* buffer, std::size_t capacity);
    void set_framing(const ResponseHead& head, bool no_body);

    ByteSource m_source;
    std::vector<char> m_buffer;
    std::size_t m_begin = 0, m_end = 0;
    bool m_received_any = false;
    bool m_close_requested = false;
    Framing m_framing = Framing::None;
    std::int64_t m_remaining = 0;  // Length: bytes left; Chunked: bytes left in the current chunk
    ChunkState m_chunk_state = ChunkState::Size;
    bool m_body_done = false;
    std::int64_t m_body_bytes = 0;
    std::size_t m_trailer_bytes = 0;  // the trailer section is bounded like a head
};

}  // namespace digestflow::registry
