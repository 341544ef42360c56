#include "digestflow/registry/retry.hpp"

#include "digestflow/error.hpp"

#include <random>
#include <thread>

namespace digestflow::registry {
namespace {

std::chrono::milliseconds backoff(std::chrono::milliseconds first, int attempt) {
    static thread_local std::mt19937 random{std::random_device{}()};
    auto base = first * (1 << std::min(attempt - 1, 6));
    std::uniform_int_distribution<long long> jitter(0, base.count() / 2);
    return base + std::chrono::milliseconds(jitter(random));
}

}  // namespace

std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& response) {
    auto value = response.header("Retry-After");
    if (!value || value->empty() || value->size() > 9 || value->find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::chrono::milliseconds(std::stoll(*value) * 1000);
}

HttpResponse send_with_retries(const RetryPolicy& policy, RetryMode mode, bool retry_server_errors,
                               const std::function<HttpResponse()>& attempt,
                               const std::function<void(const HttpResponse&)>& observe) {
    const int attempts = mode == RetryMode::Once ? 1 : std::max(1, policy.max_attempts);
    for (int number = 1;; ++number) {
        HttpResponse response;
        try {
            response = attempt();
        } catch (const FinalError&) {
            throw;
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::Registry || number >= attempts) throw;
            std::this_thread::sleep_for(backoff(policy.first_backoff, number));
            continue;
        }
        if (observe) observe(response);
        bool transient = response.status == 429 || (response.status >= 500 && retry_server_errors);
        if (!transient || number >= attempts) return response;
        auto wait = retry_after(response).value_or(backoff(policy.first_backoff, number));
        if (wait > policy.max_retry_after) return response;  // the caller reports it; we do not hang
        std::this_thread::sleep_for(wait);
    }
}

}  // namespace digestflow::registry
