// Counting HTTP requests per unit of work (one promotion of many running in parallel) as well as per process.
// A RequestScope makes its counter the current one for its thread; a helper thread working for the same
// unit (a blob download) adopts it. The transport adds every request to the current counter, if any, and
// to the process-wide total (what an error's --json reports: the client that counted may be gone by then).
#pragma once

#include <atomic>
#include <memory>

namespace digestflow::registry {

using RequestCounter = std::shared_ptr<std::atomic<int>>;

// The calling thread's current counter, or null.
RequestCounter current_request_counter();

class RequestScope {
public:
    // A new counter, current for this thread until destruction.
    RequestScope();
    // Adopts another thread's counter (may be null).
    explicit RequestScope(RequestCounter counter);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

    int count() const { return m_counter ? m_counter->load() : 0; }

private:
    RequestCounter m_counter;
    RequestCounter m_previous;
};

// Adds one request to the current counter, if any, and always to the process-wide total.
void count_request_in_scope(int delta = 1);

// Every request counted in this process so far, by any thread and any client; 0 before the first.
int process_request_count();

}  // namespace digestflow::registry
