#include "digestflow/registry/byte_pipe.hpp"

#include "digestflow/error.hpp"

#include <algorithm>

namespace digestflow::registry {

bool BytePipe::write(const char* data, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return m_abandoned || m_size < m_ring.size(); });
        if (m_abandoned) return false;
        std::size_t tail = (m_head + m_size) % m_ring.size();
        std::size_t n = std::min({size - done, m_ring.size() - m_size, m_ring.size() - tail});
        std::copy_n(data + done, n, m_ring.begin() + static_cast<std::ptrdiff_t>(tail));
        m_size += n;
        done += n;
        m_changed.notify_all();
    }
    return true;
}

void BytePipe::close(std::optional<std::string> error) {
    std::lock_guard lock(m_mutex);
    m_closed = true;
    m_error = std::move(error);
    m_changed.notify_all();
}

std::size_t BytePipe::read(char* buffer, std::size_t capacity) {
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_size > 0 || m_closed; });
    if (m_size == 0) {
        if (m_error) throw_registry(*m_error);
        return 0;
    }
    std::size_t n = std::min({capacity, m_size, m_ring.size() - m_head});
    std::copy_n(m_ring.begin() + static_cast<std::ptrdiff_t>(m_head), n, buffer);
    m_head = (m_head + n) % m_ring.size();
    m_size -= n;
    m_changed.notify_all();
    return n;
}

void BytePipe::abandon() {
    std::lock_guard lock(m_mutex);
    m_abandoned = true;
    m_changed.notify_all();
}

}  // namespace digestflow::registry
