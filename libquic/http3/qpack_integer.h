// Prefixed integers, RFC 7541 §5.1, as QPACK uses them (RFC 9204 §4.1.1): an N-bit prefix in
// the low bits of the first byte, then 7-bit groups, least significant first, while the high
// bit is set.
#pragma once

#include <cstdint>

#include "http3/limits.h"
#include "quic/bytes.h"

namespace quic::h3 {

// The outcome of reading a QPACK primitive from bytes that may still be arriving (an encoder or
// decoder stream): kIncomplete consumes nothing, so the caller can retry with more bytes.
enum class ReadStatus : uint8_t { kOk, kIncomplete, kError };

// Appends `value` with a `prefix_bits`-bit prefix (1..8); `first` holds the bits above the
// prefix (the representation's pattern and flags), already in place.
inline void encode_prefix_int(Bytes& out, uint8_t first, int prefix_bits, uint64_t value) {
    const uint64_t max_prefix = (uint64_t{1} << prefix_bits) - 1;
    if (value < max_prefix) {
        out.push_back(static_cast<uint8_t>(first | value));
        return;
    }
    out.push_back(static_cast<uint8_t>(first | max_prefix));
    value -= max_prefix;
    while (value >= 0x80) {
        out.push_back(static_cast<uint8_t>(0x80 | (value & 0x7f)));
        value >>= 7;
    }
    out.push_back(static_cast<uint8_t>(value));
}

// Reads an integer with a `prefix_bits`-bit prefix (the bits above it are ignored; the caller
// has already looked at them). kError when the value exceeds kMaxQpackInteger or when the
// continuation runs past 63 bits of shift: the overflow guard RFC 9204 §7.4 asks for, which
// also bounds how many bytes one integer may take, so a stream of 0x80 bytes is an error, not
// an ever-growing kIncomplete.
inline ReadStatus decode_prefix_int(ByteReader& r, int prefix_bits, uint64_t& out) {
    const ByteSpan in = r.rest();
    if (in.empty()) return ReadStatus::kIncomplete;
    const uint64_t max_prefix = (uint64_t{1} << prefix_bits) - 1;
    uint64_t value = in[0] & max_prefix;
    size_t i = 1;
    if (value == max_prefix) {
        int shift = 0;
        while (true) {
            if (i >= in.size()) return ReadStatus::kIncomplete;
            const uint8_t b = in[i++];
            value += uint64_t{b & 0x7fu} << shift;  // shift <= 56: cannot wrap (< 2^63 + 2^62)
            if (value > kMaxQpackInteger) return ReadStatus::kError;
            if ((b & 0x80) == 0) break;
            shift += 7;
            if (shift > 56) return ReadStatus::kError;
        }
    }
    r.skip(i);
    out = value;
    return ReadStatus::kOk;
}

}  // namespace quic::h3
