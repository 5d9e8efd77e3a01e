// A set of disjoint half-open intervals [start, end) of uint64_t, kept merged and ordered.
// Used for received packet numbers (ACK ranges, RFC 9000 §13.2.3) and for received stream and
// CRYPTO byte ranges (reassembly). It never bounds itself: callers that store peer-driven
// ranges check size() against their named cap (conn/limits.h) before or after insert.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>

namespace quic {

struct Interval {
    uint64_t start;  // inclusive
    uint64_t end;    // exclusive
    uint64_t length() const { return end - start; }
    friend bool operator==(const Interval&, const Interval&) = default;
};

class IntervalSet {
  public:
    using Map = std::map<uint64_t, uint64_t>;  // start -> end

    // Adds [start, end); merges with overlapping and adjacent intervals. Empty input is a no-op.
    void insert(uint64_t start, uint64_t end) {
        if (start >= end) return;
        auto it = map_.upper_bound(start);
        if (it != map_.begin()) {
            auto prev = std::prev(it);
            if (prev->second >= start) {  // overlaps or touches the previous interval
                if (prev->second >= end) return;
                start = prev->first;
                it = map_.erase(prev);
            }
        }
        while (it != map_.end() && it->first <= end) {
            if (it->second > end) end = it->second;
            it = map_.erase(it);
        }
        map_.emplace(start, end);
    }
    void insert(uint64_t value) { insert(value, value + 1); }

    // Removes everything below `value`.
    void erase_below(uint64_t value) {
        auto it = map_.begin();
        while (it != map_.end() && it->second <= value) it = map_.erase(it);
        if (it != map_.end() && it->first < value) {
            uint64_t end = it->second;
            map_.erase(it);
            map_.emplace(value, end);
        }
    }
    // Drops the lowest interval (used when a cap is reached: the oldest ranges matter least).
    void pop_front() {
        if (!map_.empty()) map_.erase(map_.begin());
    }

    bool contains(uint64_t value) const {
        auto it = map_.upper_bound(value);
        if (it == map_.begin()) return false;
        --it;
        return value < it->second;
    }
    // True when every value of [start, end) is in the set.
    bool contains_range(uint64_t start, uint64_t end) const {
        if (start >= end) return true;
        auto it = map_.upper_bound(start);
        if (it == map_.begin()) return false;
        --it;
        return it->second >= end;
    }

    bool empty() const { return map_.empty(); }
    size_t size() const { return map_.size(); }  // number of intervals
    void clear() { map_.clear(); }

    std::optional<Interval> front() const {
        if (map_.empty()) return std::nullopt;
        return Interval{map_.begin()->first, map_.begin()->second};
    }
    std::optional<Interval> back() const {
        if (map_.empty()) return std::nullopt;
        return Interval{map_.rbegin()->first, map_.rbegin()->second};
    }
    // The end of the interval that starts at 0..`from` contiguously: with {[0,5),[7,9)} and
    // from=0, returns 5 (the next byte a reassembler can deliver).
    uint64_t contiguous_end(uint64_t from) const {
        auto it = map_.upper_bound(from);
        if (it == map_.begin()) return from;
        --it;
        return it->second > from ? it->second : from;
    }

    Map::const_iterator begin() const { return map_.begin(); }
    Map::const_iterator end() const { return map_.end(); }
    Map::const_reverse_iterator rbegin() const { return map_.rbegin(); }
    Map::const_reverse_iterator rend() const { return map_.rend(); }

  private:
    Map map_;
};

}  // namespace quic
