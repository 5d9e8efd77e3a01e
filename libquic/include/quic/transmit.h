// What poll_transmit hands the I/O layer: one datagram, or several equal-size segments for
// one GSO send (docs/architecture.md, "Sans-IO core").
#pragma once

#include <cstddef>
#include <cstdint>

#include "quic/address.h"
#include "quic/ecn.h"

namespace quic {

struct Transmit {
    Path path;
    Ecn ecn = Ecn::kNotEct;
    size_t size = 0;          // bytes written into the caller's buffer
    size_t segment_size = 0;  // 0: one datagram; else every segment but the last has this size
};

}  // namespace quic
