#include <doctest/doctest.h>

#include <set>

#include "quic/random.h"
#include "util/interval_set.h"

using namespace quic;

TEST_CASE("IntervalSet: merges overlapping and adjacent intervals") {
    IntervalSet s;
    s.insert(10, 20);
    s.insert(30, 40);
    CHECK(s.size() == 2);
    s.insert(20, 30);  // adjacent on both sides: one interval
    REQUIRE(s.size() == 1);
    CHECK(*s.front() == Interval{10, 40});
    s.insert(5, 12);
    s.insert(38, 50);
    CHECK(*s.front() == Interval{5, 50});
    s.insert(60);
    CHECK(s.size() == 2);
    CHECK(s.contains(60));
    CHECK_FALSE(s.contains(61));
    CHECK(s.contains_range(5, 50));
    CHECK_FALSE(s.contains_range(5, 51));
    CHECK(s.contiguous_end(5) == 50);
    CHECK(s.contiguous_end(0) == 0);
    s.erase_below(45);
    CHECK(*s.front() == Interval{45, 50});
    s.pop_front();
    CHECK(*s.front() == Interval{60, 61});
}

TEST_CASE("IntervalSet: agrees with a plain set under random inserts") {
    SeededRandom rng(7);
    for (int round = 0; round < 50; ++round) {
        IntervalSet s;
        std::set<uint64_t> ref;
        for (int i = 0; i < 40; ++i) {
            uint64_t a = rng.uniform(200), len = rng.uniform(10);
            s.insert(a, a + len);
            for (uint64_t v = a; v < a + len; ++v) ref.insert(v);
        }
        for (uint64_t v = 0; v < 220; ++v) CHECK(s.contains(v) == (ref.count(v) == 1));
        uint64_t prev_end = 0;
        bool first = true;
        for (auto [start, end] : s) {  // disjoint, ordered, non-adjacent
            CHECK(start < end);
            if (!first) CHECK(start > prev_end);
            prev_end = end;
            first = false;
        }
    }
}
