// Named caps for libquic/recovery (docs/architecture.md, "Errors and limits"). Each has a one-line
// reason. What we send is bounded by the congestion window, so only state a peer can grow
// (or that a peer can keep from ever being released) needs a cap here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quic {

// ACK ranges one ReceivedPacketTracker remembers and reports (RFC 9000 §13.2.3): even with
// 8-byte varints 64 ranges (~1 KB) fit a 1200-byte packet, and the oldest ranges matter least.
inline constexpr size_t kMaxAckRangesTracked = 64;

// Skipped packet numbers remembered per space (RFC 9000 §21.4): a spot check for optimistic
// ACKs, so the newest few suffice; older ones are forgotten.
inline constexpr size_t kMaxSkippedPacketNumbersTracked = 64;

// Sent packets that are not in flight (ACK-only, CONNECTION_CLOSE) kept per space: the peer
// never has to ACK them (RFC 9000 §13.2.1), so without a cap a peer could grow this forever;
// they only serve ACK-of-ACK pruning (§13.2.4), so the oldest are silently forgotten.
inline constexpr size_t kMaxNonInFlightPacketsTracked = 1024;

// Largest exponent of the PTO backoff 2^pto_count (RFC 9002 §6.2.1): the idle timeout ends a
// connection long before 2^20 PTOs; the cap only keeps the multiplication from overflowing.
inline constexpr uint32_t kMaxPtoBackoffExponent = 20;

}  // namespace quic
