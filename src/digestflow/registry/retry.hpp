// Retrying what failed in passing: connection failures, 429 and 5xx answers, with exponential backoff and
// jitter, honouring Retry-After up to a bound. Used by the client for registry requests and by the
// authenticator for token requests, so both retry within the same limits.
#pragma once

#include "digestflow/registry/http.hpp"

#include <chrono>
#include <functional>
#include <optional>

namespace digestflow::registry {

struct RetryPolicy {
    int max_attempts = 4;                          // 1 + 3 retries
    std::chrono::milliseconds first_backoff{200};  // doubled each retry, plus up to half of it as jitter
    std::chrono::seconds max_retry_after{30};      // a longer Retry-After is reported, not waited out
};

enum class RetryMode {
    Repeatable,  // safe to send again: idempotent requests, and POSTs that opened no upload session
    Once,        // a streamed body cannot be sent twice
};

// Calls `attempt` until it returns an answer that is not transient, attempts run out, or a Retry-After is
// longer than the policy allows (that answer is returned for the caller to report). Error(Registry)
// thrown by `attempt` (but never FinalError) counts as transient. `observe` sees every answer.
// retry_server_errors=false returns a 5xx at once (429 is still waited out).
HttpResponse send_with_retries(const RetryPolicy& policy, RetryMode mode, bool retry_server_errors,
                               const std::function<HttpResponse()>& attempt,
                               const std::function<void(const HttpResponse&)>& observe = {});

// Retry-After given in seconds (HTTP dates are rare for registries and fall back to our own backoff).
std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& response);

}  // namespace digestflow::registry
