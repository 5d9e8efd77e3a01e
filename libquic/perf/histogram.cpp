// The log-linear histogram of quic/perf_histogram.h.
#include <algorithm>
#include <bit>
#include <cmath>

#include "quic/perf_histogram.h"

namespace quic::perf {

size_t Histogram::bucket_of(uint64_t value) {
    if (value < kSubBuckets) return static_cast<size_t>(value);
    // The octave [2^e, 2^(e+1)), e >= kSubBucketBits, split into kSubBuckets buckets.
    const unsigned e = 63 - static_cast<unsigned>(std::countl_zero(value));
    const uint64_t sub = value >> (e - kSubBucketBits);  // in [kSubBuckets, 2 * kSubBuckets)
    return static_cast<size_t>((e - kSubBucketBits) * kSubBuckets + sub);
}

uint64_t Histogram::bucket_width(size_t bucket) {
    if (bucket < 2 * kSubBuckets) return 1;
    return uint64_t{1} << (bucket / kSubBuckets - 1);
}

uint64_t Histogram::bucket_lowest(size_t bucket) {
    if (bucket < kSubBuckets) return bucket;
    const size_t octave = bucket / kSubBuckets - 1;  // e - kSubBucketBits
    const uint64_t sub = bucket % kSubBuckets + kSubBuckets;
    return sub << octave;
}

void Histogram::record(uint64_t value, uint64_t count) {
    if (count == 0) return;
    const size_t b = bucket_of(value);
    if (counts_.size() <= b) counts_.resize(b + 1);
    counts_[b] += count;
    min_ = count_ ? std::min(min_, value) : value;
    max_ = std::max(max_, value);
    count_ += count;
    sum_ += double(value) * double(count);
}

void Histogram::merge(const Histogram& o) {
    if (o.count_ == 0) return;
    if (counts_.size() < o.counts_.size()) counts_.resize(o.counts_.size());
    for (size_t i = 0; i < o.counts_.size(); ++i) counts_[i] += o.counts_[i];
    min_ = count_ ? std::min(min_, o.min_) : o.min_;
    max_ = std::max(max_, o.max_);
    count_ += o.count_;
    sum_ += o.sum_;
}

void Histogram::clear() {
    *this = Histogram();
}

uint64_t Histogram::percentile(double p) const {
    if (count_ == 0) return 0;
    if (p >= 100) return max_;
    const double wanted = std::ceil(std::max(p, 0.0) / 100.0 * double(count_));
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
    uint64_t seen = 0;
    for (size_t b = 0; b < counts_.size(); ++b) {
        seen += counts_[b];
        if (seen < rank) continue;
        const uint64_t mid = bucket_lowest(b) + (bucket_width(b) - 1) / 2;
        return std::clamp(mid, min_, max_);
    }
    return max_;
}

}  // namespace quic::perf
