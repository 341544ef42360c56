// A bounded single-producer/single-consumer byte pipe: a blob streams from the source registry's GET into the
// destination registry's PUT with constant memory, whatever the blob's size. The pipe never hands out its
// last byte before the producer closes it cleanly, so the producer can check the whole blob (size, hash)
// before the upload can complete: an upload of content that does not hash is always cut short.
#pragma once

#include "digestflow/error.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace digestflow::registry {

// Thrown by BytePipe::read after the producer restarted: the bytes read so far belong to an abandoned copy,
// so the upload that read them must be abandoned too (and started again). Final: the client must not retry
// the request that was reading.
class PipeRestarted : public FinalError {
public:
    PipeRestarted() : FinalError(ErrorKind::Registry, "the download restarted; the upload must start again") {}
};

class BytePipe {
public:
    // At least 2 bytes: one is always held back. The ring is left uninitialised (every byte is written before
    // it is read): zeroing 4 MiB per blob cost more than copying a small blob.
    explicit BytePipe(std::size_t capacity_bytes = 4 * 1024 * 1024)
        : m_capacity(std::max<std::size_t>(capacity_bytes, 2)), m_ring(std::make_unique_for_overwrite<char[]>(m_capacity)) {}

    // Producer: blocks while the pipe is full. Returns false when the consumer gave up (stop reading).
    bool write(const char* data, std::size_t size);
    // Producer: no more bytes; with an error message when the source failed (the reader gets Error(Registry)).
    void close(std::optional<std::string> error = std::nullopt);
    // Producer: the source failed with this exception; the reader gets it rethrown, before any byte still
    // buffered.
    void fail(std::exception_ptr error);
    // Producer: the source starts over (a retried download). Buffered bytes are dropped and the reader's next
    // read throws PipeRestarted; blocks until the reader has seen that, so later writes belong to the new
    // upload. Returns false when the consumer gave up.
    bool restart();

    // Consumer: blocks until bytes or the end arrive. Returns 0 at the end; rethrows the producer's failure;
    // throws PipeRestarted after a restart(). The last byte comes out only after a clean close().
    std::size_t read(char* buffer, std::size_t capacity);
    // Consumer: stop; a blocked producer wakes up and its write returns false.
    void abandon();

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::size_t m_capacity;
    std::unique_ptr<char[]> m_ring;  // circular buffer: m_size bytes starting at m_head
    std::size_t m_head = 0;
    std::size_t m_size = 0;
    bool m_closed = false;
    bool m_abandoned = false;
    bool m_restart_pending = false;
    std::exception_ptr m_error;
};

}  // namespace digestflow::registry
