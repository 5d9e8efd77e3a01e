// String literals, RFC 7541 §5.2 as extended by RFC 9204 §4.1.2: an "N-bit prefix string
// literal" starts mid-byte with the 'H' (Huffman) bit, then the encoded length as an (N-1)-bit
// prefix integer, then the bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http3/qpack_integer.h"
#include "quic/bytes.h"

namespace quic::h3 {

// Appends s as an N-bit prefix string literal (N = prefix_bits, 2..8). `first` holds the bits
// above the prefix. Huffman-encodes when allowed and strictly shorter.
void encode_string_literal(Bytes& out, uint8_t first, int prefix_bits, std::string_view s,
                           bool allow_huffman = true);

// Reads an N-bit prefix string literal into out (replacing it). An encoded length above
// max_encoded_length is kError as soon as the length is read, before its bytes arrive, so a
// caller buffering a stream never waits for (or buffers) an oversized string. Invalid Huffman
// is kError. kIncomplete consumes nothing.
ReadStatus decode_string_literal(ByteReader& r, int prefix_bits, uint64_t max_encoded_length,
                                 std::string& out);

}  // namespace quic::h3
