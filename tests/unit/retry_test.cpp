// The one retry loop: which failures are repeated, how often, and what is handed back.
#include "digestflow/registry/retry.hpp"

#include "digestflow/error.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace digestflow::registry {
namespace {

const RetryPolicy quick{4, std::chrono::milliseconds(1), std::chrono::seconds(2)};

HttpResponse answer(int status, HeaderList headers = {}) {
    HttpResponse response;
    response.status = status;
    response.headers = std::move(headers);
    return response;
}

// Plays the statuses in order (0 = a connection failure), counting the attempts.
struct Script {
    std::vector<int> statuses;
    int attempts = 0;
    HttpResponse operator()() {
        int status = statuses.at(static_cast<std::size_t>(attempts++));
        if (status == 0) throw_registry("connection reset");
        return answer(status);
    }
};

TEST(Retry, TransientAnswersAndFailuresAreRepeated) {
    Script script{{503, 0, 429, 201}};
    auto response = send_with_retries(quick, RetryMode::Repeatable, true, std::ref(script));
    EXPECT_EQ(response.status, 201);
    EXPECT_EQ(script.attempts, 4);
}

TEST(Retry, GivesUpAfterTheLastAttempt) {
    Script script{{500, 500, 500, 500, 201}};
    EXPECT_EQ(send_with_retries(quick, RetryMode::Repeatable, true, std::ref(script)).status, 500);
    EXPECT_EQ(script.attempts, 4);
    Script failing{{0, 0, 0, 0}};
    EXPECT_THROW(send_with_retries(quick, RetryMode::Repeatable, true, std::ref(failing)), Error);
    EXPECT_EQ(failing.attempts, 4);
}

TEST(Retry, OnceMeansOnce) {
    Script script{{503, 201}};
    EXPECT_EQ(send_with_retries(quick, RetryMode::Once, true, std::ref(script)).status, 503);
    EXPECT_EQ(script.attempts, 1);
}

TEST(Retry, ServerErrorsCanBeReportedAtOnceButRateLimitsAreWaitedOut) {
    Script server{{500, 201}};
    EXPECT_EQ(send_with_retries(quick, RetryMode::Repeatable, false, std::ref(server)).status, 500);
    Script limited{{429, 201}};
    EXPECT_EQ(send_with_retries(quick, RetryMode::Repeatable, false, std::ref(limited)).status, 201);
}

TEST(Retry, FinalErrorsAndOtherKindsAreNotRepeated) {
    int attempts = 0;
    auto final_error = [&]() -> HttpResponse {
        ++attempts;
        throw FinalError(ErrorKind::Registry, "untrusted certificate");
    };
    EXPECT_THROW(send_with_retries(quick, RetryMode::Repeatable, true, final_error), FinalError);
    EXPECT_EQ(attempts, 1);
    attempts = 0;
    auto auth = [&]() -> HttpResponse {
        ++attempts;
        throw_auth("refused");
    };
    EXPECT_THROW(send_with_retries(quick, RetryMode::Repeatable, true, auth), Error);
    EXPECT_EQ(attempts, 1);
}

TEST(Retry, ALongerRetryAfterThanAllowedIsHandedBack) {
    int attempts = 0;
    auto limited = [&] {
        ++attempts;
        return answer(429, {{"Retry-After", "3600"}});
    };
    EXPECT_EQ(send_with_retries(quick, RetryMode::Repeatable, true, limited).status, 429);
    EXPECT_EQ(attempts, 1);
}

TEST(Retry, EveryAnswerIsObserved) {
    Script script{{503, 200}};
    std::vector<int> seen;
    send_with_retries(quick, RetryMode::Repeatable, true, std::ref(script),
                      [&](const HttpResponse& r) { seen.push_back(r.status); });
    EXPECT_EQ(seen, (std::vector<int>{503, 200}));
}

TEST(RetryAfter, SecondsOnly) {
    EXPECT_EQ(retry_after(answer(429, {{"Retry-After", "7"}})), std::chrono::milliseconds(7000));
    EXPECT_EQ(retry_after(answer(429, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}})), std::nullopt);
    EXPECT_EQ(retry_after(answer(429, {{"Retry-After", "-1"}})), std::nullopt);
    EXPECT_EQ(retry_after(answer(429)), std::nullopt);
}

}  // namespace
}  // namespace digestflow::registry
