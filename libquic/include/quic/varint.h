// Variable-length integers, RFC 9000 §16: two high bits give the length (1, 2, 4, 8 bytes).
#pragma once

#include <cstddef>
#include <cstdint>

namespace quic {

// The largest value a varint can carry: 2^62 - 1 (RFC 9000 §16).
inline constexpr uint64_t kVarintMax = (uint64_t{1} << 62) - 1;

// Encoded size of v, or 0 when v exceeds kVarintMax.
constexpr size_t varint_size(uint64_t v) {
    if (v < (1u << 6)) return 1;
    if (v < (1u << 14)) return 2;
    if (v < (1u << 30)) return 4;
    if (v <= kVarintMax) return 8;
    return 0;
}

// The length of a varint from its first byte (RFC 9000 §16, Table 4).
constexpr size_t varint_length_from_first_byte(uint8_t b) {
    return size_t{1} << (b >> 6);
}

}  // namespace quic
