#include "digestflow/registry/request_counter.hpp"

namespace digestflow::registry {
namespace {
thread_local RequestCounter t_current;
std::atomic<int> g_process_total{0};
}  // namespace

RequestCounter current_request_counter() { return t_current; }

RequestScope::RequestScope() : RequestScope(std::make_shared<std::atomic<int>>(0)) {}

RequestScope::RequestScope(RequestCounter counter) : m_counter(std::move(counter)), m_previous(t_current) {
    t_current = m_counter;
}

RequestScope::~RequestScope() { t_current = m_previous; }

void count_request_in_scope(int delta) {
    g_process_total += delta;
    if (t_current) *t_current += delta;
}

int process_request_count() { return g_process_total.load(); }

}  // namespace digestflow::registry
