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
    // Which connection sent it (0: the endpoint itself: Version Negotiation, Retry, resets).
    // An I/O layer batching datagrams into one GSO send must not mix flows: a GSO batch can
    // reach the receiver whole (loopback, GRO), and a receiver that steers by connection ID
    // (SO_REUSEPORT workers) then steers every datagram by the first one's.
    uint64_t flow = 0;
};

}  // namespace quic
