// The loop's clock as the core's Time (quic/time.h): uv_hrtime(), monotonic nanoseconds.
// Deadlines given to streams, connections and dials are in this clock.
#pragma once

#include "quic/time.h"

namespace quic::uv {

Time clock_now();

}  // namespace quic::uv
