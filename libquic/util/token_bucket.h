// A token bucket (as ngtcp2's rate limiter and quic-go's frame-queue caps use one): up to
// `capacity` tokens, refilled at `per_second` as time passes and by add(). Callers spend tokens
// on what a peer makes them do for nothing and stop (close) when none are left, so a flood costs
// the peer a connection while an occasional duplicate costs nothing.
#pragma once

#include <algorithm>
#include <cstdint>

#include "quic/time.h"

namespace quic {

class TokenBucket {
  public:
    TokenBucket(uint64_t capacity, uint64_t per_second, Time now)
        : capacity_(capacity),
          per_second_(per_second),
          nano_tokens_(capacity * kScale),
          last_(now) {}

    // Takes `n` tokens; false (and the bucket left empty) when fewer than `n` were left.
    bool take(Time now, uint64_t n = 1) {
        refill(now);
        if (nano_tokens_ < n * kScale) {
            nano_tokens_ = 0;
            return false;
        }
        nano_tokens_ -= n * kScale;
        return true;
    }
    // Gives back `n` tokens (useful work from the peer), never above the capacity.
    void add(uint64_t n) {
        nano_tokens_ = std::min(capacity_ * kScale, nano_tokens_ + std::min(n, capacity_) * kScale);
    }
    uint64_t available(Time now) {
        refill(now);
        return nano_tokens_ / kScale;
    }
    uint64_t capacity() const { return capacity_; }

  private:
    // Tokens are counted in billionths so that a refill of per_second tokens over nanoseconds
    // needs no division.
    static constexpr uint64_t kScale = 1'000'000'000;

    void refill(Time now) {
        if (now <= last_) return;
        const uint64_t full = capacity_ * kScale;
        // Beyond the time a full refill takes the bucket is full (and the product cannot
        // overflow: capacity_ * kScale fits, so does the elapsed time times per_second_).
        const uint64_t elapsed = static_cast<uint64_t>((now - last_).count());
        const uint64_t to_full = per_second_ ? (full - nano_tokens_) / per_second_ + 1 : 0;
        nano_tokens_ = per_second_ == 0     ? nano_tokens_
                       : elapsed >= to_full ? full
                                            : std::min(full, nano_tokens_ + elapsed * per_second_);
        last_ = now;
    }

    uint64_t capacity_, per_second_;
    uint64_t nano_tokens_;
    Time last_;
};

}  // namespace quic
