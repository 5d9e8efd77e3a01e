// Caps on what a peer can make the wire codecs store (docs/architecture.md, "Errors and limits").
// Everything else a parsed frame holds is a fixed-size field or a span into the packet,
// so it is already bounded by the packet size.
#pragma once

#include <cstddef>

namespace quic {

// ACK ranges kept per decoded ACK frame (RFC 9000 §19.3.1); every range is still validated.
// Older ranges are re-reported in later ACKs and only acknowledge older packets, so dropping
// them delays (never corrupts) loss recovery, while a peer could otherwise send thousands.
inline constexpr size_t kMaxAckRangesDecoded = 256;

}  // namespace quic
