// A windowed maximum over a stream of samples, for BBR's BBR.max_bw and BBR.extra_acked
// (draft-ietf-ccwg-bbr, "BBR.max_bw Max Filter" and "BBR.extra_acked").
//
// Time here is a monotone counter, never wall-clock time: BBR counts ProbeBW cycles (max_bw,
// a window of 2) and packet-timed round trips (extra_acked, a window of 1 in Startup and 10
// after). A sample taken at time t is in the window at time `now` while now - t < window, so
// a window of 1 keeps only the samples of the current round, and a window of 2 those of the
// current and the previous cycle.
//
// The draft allows Kathleen Nichols' three-sample approximation; with windows this short an
// exact filter costs no more: one slot per time unit holds that unit's maximum, in a ring of
// kSlots. Samples that fall out of the window are forgotten for good, so widening the window
// later (extra_acked after Startup) does not bring old samples back.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace quic {

template <class T, size_t kSlots = 16>
class WindowedMaxFilter {
  public:
    // The longest window; a longer one is treated as this.
    static constexpr uint64_t kMaxWindow = kSlots;

    // Forgets everything: the filter holds `value` taken at `time`.
    void reset(T value, uint64_t time) {
        slots_.fill(Slot{});
        slots_[time % kSlots] = Slot{value, time, true};
        best_ = value;
    }

    // Adds a sample and returns the maximum over the window ending at `time` (window >= 1).
    // Times must not go backwards.
    T update(T value, uint64_t time, uint64_t window) {
        window = std::clamp<uint64_t>(window, 1, kMaxWindow);
        for (Slot& s : slots_)
            if (s.used && time - s.time >= window) s = Slot{};
        Slot& slot = slots_[time % kSlots];
        if (slot.used && slot.time == time) {
            slot.value = std::max(slot.value, value);
        } else {
            slot = Slot{value, time, true};
        }
        best_ = value;
        for (const Slot& s : slots_)
            if (s.used) best_ = std::max(best_, s.value);
        return best_;
    }

    // The result of the last update (or reset).
    T best() const { return best_; }

  private:
    struct Slot {
        T value{};
        uint64_t time = 0;
        bool used = false;
    };

    std::array<Slot, kSlots> slots_{};
    T best_{};
};

}  // namespace quic
