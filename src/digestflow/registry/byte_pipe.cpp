#include "digestflow/registry/byte_pipe.hpp"

#include <algorithm>

namespace digestflow::registry {

bool BytePipe::write(const char* data, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return m_abandoned || (!m_restart_pending && m_size < m_capacity); });
        if (m_abandoned) return false;
        std::size_t tail = (m_head + m_size) % m_capacity;
        std::size_t n = std::min({size - done, m_capacity - m_size, m_capacity - tail});
        std::copy_n(data + done, n, m_ring.get() + tail);
        m_size += n;
        done += n;
        m_changed.notify_all();
    }
    return true;
}

void BytePipe::close(std::optional<std::string> error) {
    if (error) {
        fail(std::make_exception_ptr(Error(ErrorKind::Registry, *error)));
        return;
    }
    std::lock_guard lock(m_mutex);
    m_closed = true;
    m_changed.notify_all();
}

void BytePipe::fail(std::exception_ptr error) {
    std::lock_guard lock(m_mutex);
    m_closed = true;
    m_error = std::move(error);
    m_size = 0;  // nothing more goes out: the reader gets the error next
    m_changed.notify_all();
}

bool BytePipe::restart() {
    std::unique_lock lock(m_mutex);
    m_size = 0;
    m_head = 0;
    m_restart_pending = true;
    m_changed.notify_all();
    m_changed.wait(lock, [&] { return m_abandoned || !m_restart_pending; });
    return !m_abandoned;
}

std::size_t BytePipe::read(char* buffer, std::size_t capacity) {
    std::unique_lock lock(m_mutex);
    // One byte stays behind until a clean close: the upload cannot complete before the producer is sure.
    m_changed.wait(lock, [&] { return m_size > 1 || m_closed || m_restart_pending; });
    if (m_restart_pending) {
        m_restart_pending = false;
        m_changed.notify_all();
        throw PipeRestarted();
    }
    if (m_error) std::rethrow_exception(m_error);
    std::size_t available = m_closed ? m_size : m_size - 1;
    if (available == 0) return 0;
    std::size_t n = std::min({capacity, available, m_capacity - m_head});
    std::copy_n(m_ring.get() + m_head, n, buffer);
    m_head = (m_head + n) % m_capacity;
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
