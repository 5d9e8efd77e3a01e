// A token bucket: up to `burst` events at once, `per_second` on average. Time is passed in.
#pragma once

#include <algorithm>
#include <chrono>

#include "quic/time.h"

namespace quic {

class RateLimiter {
  public:
    RateLimiter(double per_second, double burst)
        : per_second_(per_second), burst_(burst), tokens_(burst) {}

    // True (and one token spent) when an event may happen at `now`.
    bool allow(Time now) {
        if (now > last_) {
            const double elapsed = std::chrono::duration<double>(now - last_).count();
            tokens_ = std::min(burst_, tokens_ + elapsed * per_second_);
            last_ = now;
        }
        if (tokens_ < 1) return false;
        tokens_ -= 1;
        return true;
    }

  private:
    double per_second_, burst_, tokens_;
    Time last_{};
};

}  // namespace quic
