#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <utility>

#include "cc/windowed_filter.h"
#include "quic/random.h"

using namespace quic;

TEST_CASE("WindowedMaxFilter: a new maximum counts at once, an old one leaves with its window") {
    WindowedMaxFilter<int> f;
    f.reset(0, 0);
    CHECK(f.update(100, 0, 10) == 100);
    CHECK(f.update(50, 3, 10) == 100);
    CHECK(f.update(40, 9, 10) == 100);
    CHECK(f.best() == 100);
    // At time 10 the sample of time 0 is 10 units old: out of a window of 10.
    CHECK(f.update(30, 10, 10) == 50);
    CHECK(f.update(20, 13, 10) == 40);
    CHECK(f.update(10, 19, 10) == 30);
    CHECK(f.update(200, 19, 10) == 200);
}

TEST_CASE("WindowedMaxFilter: a window of 1 keeps one round, of 2 the current and previous") {
    WindowedMaxFilter<uint64_t> rounds;
    rounds.reset(0, 0);
    CHECK(rounds.update(9, 1, 1) == 9);
    CHECK(rounds.update(3, 1, 1) == 9);  // same round
    CHECK(rounds.update(4, 2, 1) == 4);  // round 1 is gone
    // BBR's max_bw: two ProbeBW cycles.
    WindowedMaxFilter<double> cycles;
    cycles.reset(0, 0);
    CHECK(cycles.update(10.0, 0, 2) == 10.0);
    CHECK(cycles.update(5.0, 1, 2) == 10.0);  // the previous cycle still counts
    CHECK(cycles.update(4.0, 2, 2) == 5.0);   // cycle 0 left the window
    CHECK(cycles.update(3.0, 3, 2) == 4.0);
}

TEST_CASE("WindowedMaxFilter: samples out of a narrow window stay gone when it widens") {
    // BBR.extra_acked: a window of 1 round in Startup, then 10.
    WindowedMaxFilter<uint64_t> f;
    f.reset(0, 0);
    CHECK(f.update(1000, 5, 1) == 1000);
    CHECK(f.update(10, 6, 1) == 10);
    CHECK(f.update(20, 7, 10) == 20);  // round 5 is within 10 rounds, but was forgotten
}

TEST_CASE("WindowedMaxFilter: equals the brute-force windowed maximum") {
    SeededRandom random(7);
    for (uint64_t window : {1, 2, 3, 10, 16}) {
        CAPTURE(window);
        WindowedMaxFilter<uint64_t> f;
        f.reset(0, 0);
        std::deque<std::pair<uint64_t, uint64_t>> kept;  // (time, value)
        uint64_t t = 0;
        int mismatches = 0;
        for (int i = 0; i < 20000; ++i) {
            t += random.uniform(3) == 0 ? 1 + random.uniform(2) : 0;
            const uint64_t v = random.uniform(1000);
            kept.emplace_back(t, v);
            while (t - kept.front().first >= window) kept.pop_front();
            uint64_t exact = 0;
            for (const auto& [time, value] : kept) exact = std::max(exact, value);
            mismatches += f.update(v, t, window) != exact;
        }
        CHECK(mismatches == 0);
    }
}
