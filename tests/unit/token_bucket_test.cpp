// util/token_bucket.h: the bucket behind the glitch budget and the HTTP/3 rapid-reset limit.
#include <doctest/doctest.h>

#include "util/token_bucket.h"

using namespace quic;
using namespace std::chrono_literals;

TEST_CASE("token bucket: starts full, empties, refills with time up to the capacity") {
    const Time t0 = time_from_ns(1'000'000'000);
    TokenBucket b(10, 5, t0);
    for (int i = 0; i < 10; ++i) CHECK(b.take(t0));
    CHECK_FALSE(b.take(t0));
    CHECK(b.available(t0) == 0);
    // 5 per second: 200 ms gives one token, 1 s five, an hour no more than the capacity.
    CHECK(b.available(t0 + 199ms) == 0);
    CHECK(b.available(t0 + 200ms) == 1);
    CHECK(b.available(t0 + 1s) == 5);
    CHECK(b.available(t0 + 1h) == 10);
    // Time going backwards neither refills nor breaks it.
    CHECK(b.available(t0) == 10);
}

TEST_CASE("token bucket: a failed take empties it; add() gives back up to the capacity") {
    const Time t0{};
    TokenBucket b(3, 0, t0);  // no refill with time
    CHECK(b.take(t0, 2));
    CHECK_FALSE(b.take(t0, 2));
    CHECK(b.available(t0 + 24h) == 0);
    b.add(1);
    CHECK(b.available(t0) == 1);
    b.add(1'000'000);
    CHECK(b.available(t0) == 3);
}
