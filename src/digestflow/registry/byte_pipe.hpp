// A bounded single-producer/single-consumer byte pipe: a blob streams from the source registry's GET into the
// destination registry's PUT with constant memory, whatever the blob's size.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::registry {

class BytePipe {
public:
    explicit BytePipe(std::size_t capacity_bytes = 4 * 1024 * 1024) : m_ring(capacity_bytes) {}

    // Producer: blocks while the pipe is full. Returns false when the consumer gave up (stop reading).
    bool write(const char* data, std::size_t size);
    // Producer: no more bytes; with an error message when the source failed.
    void close(std::optional<std::string> error = std::nullopt);

    // Consumer: blocks until bytes or the end arrive. Returns 0 at the end; throws Error(Registry) with the
    // producer's message when the source failed.
    std::size_t read(char* buffer, std::size_t capacity);
    // Consumer: stop; a blocked producer wakes up and its write returns false.
    void abandon();

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<char> m_ring;  // circular buffer: m_size bytes starting at m_head
    std::size_t m_head = 0;
    std::size_t m_size = 0;
    bool m_closed = false;
    bool m_abandoned = false;
    std::optional<std::string> m_error;
};

}  // namespace digestflow::registry
