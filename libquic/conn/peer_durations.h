// Peer-supplied numbers that become durations (issue 13 item 2): a transport parameter or a
// frame field may be as large as 2^62-1, and Duration counts nanoseconds in an int64_t, so
// every conversion saturates at a named cap before any arithmetic (a signed overflow is
// undefined behaviour, and in practice a negative timeout).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "quic/time.h"

namespace quic {

// The longest peer max_idle_timeout we honour (RFC 9000 §10.1 puts no upper bound on it):
// a day is beyond any idle timer worth keeping state for, and far below the ~292 years an
// int64_t of nanoseconds holds.
inline constexpr uint64_t kMaxPeerIdleTimeoutMs = 24ull * 3600 * 1000;

// The largest ACK Delay we take from an ACK frame, in microseconds (~12.7 days): the field is
// a varint up to 2^62-1 scaled by 2^ack_delay_exponent (RFC 9000 §19.3, up to 2^20), so an
// unchecked shift wraps around. RFC 9002 §5.3 caps it by max_ack_delay (< 2^14 ms) once the
// handshake is confirmed, and by the RTT sample before; anything beyond is equally useless.
inline constexpr uint64_t kMaxPeerAckDelayMicros = uint64_t{1} << 40;

// RFC 9000 §18.2 max_idle_timeout, in milliseconds, as a Duration (0 stays 0: no timeout).
inline Duration peer_idle_timeout(uint64_t ms) {
    return std::chrono::milliseconds(std::min(ms, kMaxPeerIdleTimeoutMs));
}

// RFC 9000 §19.3: the ACK frame's ACK Delay field scaled by the peer's ack_delay_exponent
// (values above 20 are refused when the parameters are decoded; clamped here all the same).
inline Duration peer_ack_delay(uint64_t field, uint64_t exponent) {
    const uint64_t shift = std::min<uint64_t>(exponent, 20);
    const uint64_t micros =
        field > (kMaxPeerAckDelayMicros >> shift) ? kMaxPeerAckDelayMicros : field << shift;
    return std::chrono::microseconds(micros);
}

}  // namespace quic
