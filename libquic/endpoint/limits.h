// Named caps on what the endpoint keeps or sends for datagrams that belong to no connection,
// each with its reason (the connection's own caps are in conn/limits.h).
#pragma once

#include <chrono>
#include <cstddef>

#include "quic/time.h"

namespace quic {

// Datagrams the endpoint itself wants to send (Version Negotiation, Retry, stateless resets,
// refusals) and has not handed out yet: a driver flushes after every batch of at most 64
// received datagrams, so 64 replies cover one batch; beyond it new ones are dropped, so a flood
// of junk cannot queue unbounded replies.
inline constexpr size_t kMaxPendingEndpointDatagrams = 64;

// Stateless resets: 320 per second, bursts of 32 (RFC 9000 §10.3: endpoints SHOULD limit
// them; each answers a datagram we cannot route, which anyone can send with a spoofed source,
// and a server that restarted must still reset each of its former peers quickly).
inline constexpr double kStatelessResetsPerSecond = 320;
inline constexpr double kStatelessResetBurst = 32;

// Version Negotiation: 100 per second, bursts of 16. A client with a version we do not speak
// needs one per connection attempt; every 1200-byte datagram with an unknown version could ask
// for one (RFC 9000 §6.1: a server MAY limit them), and a spoofed flood must not turn us into a
// reflector.
inline constexpr double kVersionNegotiationsPerSecond = 100;
inline constexpr double kVersionNegotiationBurst = 16;

// Initials carrying CONNECTION_CLOSE for clients we turn away (CONNECTION_REFUSED when full,
// INVALID_TOKEN for a bad Retry token, RFC 9000 §10.2.3, §8.1.2): 100 per second, bursts of 16.
// They tell a real client at once instead of after its handshake timeout; under a flood the
// rest are dropped, as a full server would drop them anyway.
inline constexpr double kInitialClosesPerSecond = 100;
inline constexpr double kInitialCloseBurst = 16;

// RFC 9000 §7.2: a client's first Destination Connection ID is at least 8 bytes.
inline constexpr size_t kMinInitialDcidLength = 8;

// After the number of connections falls below a quarter of its high-water mark (and that mark
// was at least this high), the endpoint's tables give back their memory: a flood's peak must
// not stay allocated, while a steady server does not rehash for nothing.
inline constexpr size_t kMinShrinkHighWater = 64;

// The touched list (Endpoint::take_touched) holds each live connection at most once; forgotten
// ones stay until taken or expired. For a caller that never takes it, expired entries are
// dropped when the list reaches twice its size after the last such sweep, and never below this
// many: amortised O(1) per touch, memory bounded by the connections someone still holds.
inline constexpr size_t kMinTouchedCompaction = 1024;

}  // namespace quic
