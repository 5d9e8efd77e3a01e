// Latency percentiles for load generators (`quiver perf`): a log-linear histogram of
// non-negative integers (nanoseconds), in the manner of HdrHistogram. Values below 128 are
// counted exactly; above, each power of two is split into 128 equal buckets, so a percentile
// reported as its bucket's midpoint is within 1/256 (0.4 %) of the value it stands for: the
// "1 % precision" the perf command promises, in a fixed 58 KiB whatever is recorded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quic::perf {

class Histogram {
  public:
    // Buckets per power of two: 2^kSubBucketBits.
    static constexpr unsigned kSubBucketBits = 7;
    static constexpr size_t kSubBuckets = size_t{1} << kSubBucketBits;
    // Every uint64_t value has a bucket: exact ones below kSubBuckets, then 57 octaves.
    static constexpr size_t kBuckets = kSubBuckets * (64 - kSubBucketBits + 1);

    void record(uint64_t value, uint64_t count = 1);
    void merge(const Histogram& other);
    void clear();

    uint64_t count() const { return count_; }
    uint64_t min() const { return count_ ? min_ : 0; }
    uint64_t max() const { return max_; }
    double mean() const { return count_ ? sum_ / double(count_) : 0.0; }
    // The value below or at which p percent (0 < p <= 100) of the recorded values lie: the
    // midpoint of the bucket holding the value of rank ceil(p/100 * count), kept within
    // [min, max]. 0 when nothing was recorded.
    uint64_t percentile(double p) const;

    // The bucket of a value, and the bounds of a bucket: [lowest, lowest + width).
    static size_t bucket_of(uint64_t value);
    static uint64_t bucket_lowest(size_t bucket);
    static uint64_t bucket_width(size_t bucket);

  private:
    std::vector<uint64_t> counts_;  // grown to the highest bucket used
    uint64_t count_ = 0, min_ = 0, max_ = 0;
    double sum_ = 0;
};

}  // namespace quic::perf
