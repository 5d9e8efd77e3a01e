// QUIC versions this library speaks and the ones it knows about.
#pragma once

#include <cstdint>

namespace quic {

using Version = uint32_t;

inline constexpr Version kVersionNegotiationVersion = 0x00000000;  // RFC 8999 §6
inline constexpr Version kVersion1 = 0x00000001;                   // RFC 9000
inline constexpr Version kVersion2 = 0x6b3343cf;                   // RFC 9369 §3.1

// RFC 9000 §15: versions of the form 0x?a?a?a?a are reserved to exercise negotiation.
constexpr bool is_reserved_version(Version v) {
    return (v & 0x0f0f0f0f) == 0x0a0a0a0a;
}

constexpr bool is_supported_version(Version v) {
    return v == kVersion1 || v == kVersion2;
}

}  // namespace quic
