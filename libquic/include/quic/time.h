// The library's own time type (docs/architecture.md, "Sans-IO core"): the core never reads a clock;
// every entry point takes `Time now`. The uv/ layer fills it from uv_hrtime(), the simulator
// from its virtual clock. Nanosecond resolution, arbitrary epoch.
#pragma once

#include <chrono>
#include <cstdint>

namespace quic {

// A clock tag with no now(): only the I/O layer and tests produce Time values.
struct QuicClock {
    using rep = int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<QuicClock>;
    static constexpr bool is_steady = true;
};

using Duration = std::chrono::nanoseconds;
using Time = QuicClock::time_point;

constexpr Time time_from_ns(int64_t ns) {
    return Time(Duration(ns));
}
constexpr int64_t time_to_ns(Time t) {
    return t.time_since_epoch().count();
}

}  // namespace quic
