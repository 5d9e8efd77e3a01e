// The perf command's latency histogram (quic/perf_histogram.h) against brute force: every
// percentile of a sorted copy of the same values, within the promised 1 %.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "quic/perf_histogram.h"
#include "quic/random.h"

using namespace quic;
using quic::perf::Histogram;

namespace {

// The value of rank ceil(p/100 * n) in sorted order: the definition Histogram follows.
uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double p) {
    const double wanted = std::ceil(p / 100.0 * double(sorted.size()));
    const size_t rank = std::max<size_t>(1, static_cast<size_t>(wanted));
    return sorted[std::min(rank, sorted.size()) - 1];
}

void check_against_sorted(std::vector<uint64_t> values) {
    Histogram h;
    for (uint64_t v : values) h.record(v);
    std::sort(values.begin(), values.end());
    REQUIRE(h.count() == values.size());
    CHECK(h.min() == values.front());
    CHECK(h.max() == values.back());
    for (double p : {0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        const uint64_t exact = exact_percentile(values, p);
        const uint64_t got = h.percentile(p);
        INFO("p" << p << ": exact " << exact << ", histogram " << got);
        const double error = std::fabs(double(got) - double(exact));
        CHECK(error <= double(exact) * 0.01);
    }
}

}  // namespace

TEST_CASE("perf histogram: buckets tile the integers, 128 per power of two") {
    // Every bucket starts where the previous one ended, up to the top of uint64_t.
    uint64_t next = 0;
    for (size_t b = 0; b < Histogram::kBuckets; ++b) {
        INFO("bucket " << b);
        REQUIRE(Histogram::bucket_lowest(b) == next);
        REQUIRE(Histogram::bucket_of(next) == b);
        const uint64_t last = next + (Histogram::bucket_width(b) - 1);
        REQUIRE(Histogram::bucket_of(last) == b);
        // A bucket's width is at most 1/128 of its lowest value: the precision bound.
        if (next >= Histogram::kSubBuckets) CHECK(Histogram::bucket_width(b) * 128 <= next);
        next = last + 1;
    }
    CHECK(next == 0);  // wrapped: the last bucket ends at UINT64_MAX
    CHECK(Histogram::bucket_of(UINT64_MAX) == Histogram::kBuckets - 1);
}

TEST_CASE("perf histogram: small values are exact") {
    std::vector<uint64_t> v;
    for (uint64_t i = 0; i < 128; ++i) v.push_back(i);
    Histogram h;
    for (uint64_t x : v) h.record(x);
    CHECK(h.percentile(50) == 63);
    CHECK(h.percentile(100) == 127);
    CHECK(h.percentile(1) == 1);
    CHECK(h.mean() == doctest::Approx(63.5));
}

TEST_CASE("perf histogram: percentiles within 1 % of the exact ones (log-uniform latencies)") {
    SeededRandom rng(7);
    std::vector<uint64_t> values;
    // 1 us .. 10 s in nanoseconds, log-uniform: every octave is exercised.
    for (int i = 0; i < 200000; ++i) {
        const double u = double(rng.uniform(1u << 30)) / double(1u << 30);
        values.push_back(static_cast<uint64_t>(std::pow(10.0, 3.0 + 7.0 * u)));
    }
    check_against_sorted(values);
}

TEST_CASE("perf histogram: a heavy tail and huge values") {
    SeededRandom rng(8);
    std::vector<uint64_t> values;
    for (int i = 0; i < 50000; ++i) values.push_back(1000000 + rng.uniform(1000));
    for (int i = 0; i < 50; ++i) values.push_back(UINT64_MAX / (1 + rng.uniform(1000)));
    check_against_sorted(values);
}

TEST_CASE("perf histogram: merging equals recording everything in one") {
    SeededRandom rng(9);
    Histogram a, b, all;
    for (int i = 0; i < 10000; ++i) {
        const uint64_t v = rng.uniform(uint64_t{1} << (1 + rng.uniform(40)));
        (i % 3 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    CHECK(a.count() == all.count());
    CHECK(a.min() == all.min());
    CHECK(a.max() == all.max());
    for (double p : {50.0, 90.0, 99.0, 99.9}) CHECK(a.percentile(p) == all.percentile(p));
    a.clear();
    CHECK(a.count() == 0);
    CHECK(a.percentile(50) == 0);
}
