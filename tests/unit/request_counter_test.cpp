// Per-unit request counting: scopes nest, helper threads adopt a scope, nothing counts outside a scope; the
// process-wide total counts everything.
#include "digestflow/registry/request_counter.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace digestflow::registry {
namespace {

TEST(RequestScope, CountsOnlyInsideAndRestoresTheOuterScope) {
    count_request_in_scope();  // no scope: ignored
    RequestScope outer;
    count_request_in_scope();
    {
        RequestScope inner;
        count_request_in_scope(2);
        EXPECT_EQ(inner.count(), 2);
    }
    count_request_in_scope();
    EXPECT_EQ(outer.count(), 2);
}

TEST(RequestScope, AHelperThreadAdoptsTheCallersCounter) {
    RequestScope item;
    auto counter = current_request_counter();
    std::thread helper([counter] {
        RequestScope same(counter);
        count_request_in_scope(3);
    });
    helper.join();
    count_request_in_scope();
    EXPECT_EQ(item.count(), 4);
}

TEST(RequestScope, ThreadsWithoutAScopeCountNothing) {
    RequestScope item;
    std::thread stranger([] { count_request_in_scope(5); });
    stranger.join();
    EXPECT_EQ(item.count(), 0);
}

TEST(ProcessRequestCount, CountsEveryThreadWithOrWithoutAScope) {
    const int before = process_request_count();
    count_request_in_scope();  // no scope
    {
        RequestScope item;
        count_request_in_scope(2);
    }
    std::thread stranger([] { count_request_in_scope(5); });
    stranger.join();
    EXPECT_EQ(process_request_count(), before + 8);
    count_request_in_scope(-1);  // a request taken back (no HTTP went out) is taken back here too
    EXPECT_EQ(process_request_count(), before + 7);
}

}  // namespace
}  // namespace digestflow::registry
