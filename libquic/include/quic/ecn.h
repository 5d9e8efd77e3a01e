// ECN codepoints of the IP header (RFC 3168 §5), as QUIC counts them (RFC 9000 §13.4).
#pragma once

#include <cstdint>

namespace quic {

// The two ECN bits of the IP TOS / IPv6 Traffic Class byte.
enum class Ecn : uint8_t {
    kNotEct = 0b00,
    kEct1 = 0b01,
    kEct0 = 0b10,
    kCe = 0b11,
};

}  // namespace quic
