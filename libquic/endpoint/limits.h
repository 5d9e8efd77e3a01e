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

// Stateless resets per 100 ms (RFC 9000 §10.3: endpoints SHOULD limit them; each answers a
// datagram we cannot route, which anyone can send with a spoofed source).
inline constexpr unsigned kMaxStatelessResetsPerWindow = 32;
inline constexpr Duration kStatelessResetWindow = std::chrono::milliseconds(100);

// RFC 9000 §7.2: a client's first Destination Connection ID is at least 8 bytes.
inline constexpr size_t kMinInitialDcidLength = 8;

// After the number of connections falls below a quarter of its high-water mark (and that mark
// was at least this high), the endpoint's tables give back their memory: a flood's peak must
// not stay allocated, while a steady server does not rehash for nothing.
inline constexpr size_t kMinShrinkHighWater = 64;

}  // namespace quic
