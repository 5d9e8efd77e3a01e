// The static Huffman code of HPACK (RFC 7541 §5.2, Appendix B), which QPACK string literals use
// unmodified (RFC 9204 §4.1.2).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "quic/bytes.h"

namespace quic::h3 {

// Bytes huffman_encode(s) appends: the code lengths rounded up to whole octets.
size_t huffman_encoded_size(std::string_view s);

// Appends the Huffman encoding of s to out, padded with the most significant bits of EOS
// (all ones) to an octet boundary (RFC 7541 §5.2).
void huffman_encode(std::string_view s, Bytes& out);

// Appends the decoding of in to out. Returns false, leaving out with a partial decoding, when
// the input is not a valid encoding (RFC 7541 §5.2): it contains EOS, or its padding is longer
// than 7 bits or not the most significant bits of EOS. The caller chooses the error code.
[[nodiscard]] bool huffman_decode(ByteSpan in, std::string& out);

}  // namespace quic::h3
