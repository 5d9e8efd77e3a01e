// Reserved ("grease") code points: frame types (RFC 9114 §7.2.8), setting identifiers
// (§7.2.4.1), stream types (§6.2.3) and error codes (§8.1) of the form 0x1f * N + 0x21. They
// exercise the requirement that unknown values be ignored (§9).
#pragma once

#include <cstdint>

#include "quic/random.h"
#include "quic/varint.h"

namespace quic::h3 {

constexpr bool is_grease_codepoint(uint64_t v) {
    return v >= 0x21 && (v - 0x21) % 0x1f == 0;
}

// A uniformly chosen reserved code point that fits a varint (N up to (2^62 - 1 - 0x21) / 0x1f).
inline uint64_t random_grease_codepoint(Random& rng) {
    constexpr uint64_t kMaxN = (kVarintMax - 0x21) / 0x1f;
    return 0x1f * rng.uniform(kMaxN + 1) + 0x21;
}

}  // namespace quic::h3
