#include "http3/qpack_string.h"

#include "http3/huffman.h"

namespace quic::h3 {

void encode_string_literal(Bytes& out, uint8_t first, int prefix_bits, std::string_view s,
                           bool allow_huffman) {
    const uint8_t h_bit = static_cast<uint8_t>(1u << (prefix_bits - 1));
    if (allow_huffman) {
        const size_t huffman_size = huffman_encoded_size(s);
        if (huffman_size < s.size()) {
            encode_prefix_int(out, first | h_bit, prefix_bits - 1, huffman_size);
            huffman_encode(s, out);
            return;
        }
    }
    encode_prefix_int(out, first, prefix_bits - 1, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

ReadStatus decode_string_literal(ByteReader& r, int prefix_bits, uint64_t max_encoded_length,
                                 std::string& out) {
    ByteReader probe(r.rest());
    uint8_t first;
    if (!probe.peek_u8(first)) return ReadStatus::kIncomplete;
    const bool huffman = (first >> (prefix_bits - 1)) & 1;
    uint64_t length;
    const ReadStatus st = decode_prefix_int(probe, prefix_bits - 1, length);
    if (st != ReadStatus::kOk) return st;
    if (length > max_encoded_length) return ReadStatus::kError;
    ByteSpan bytes;
    if (!probe.read_bytes(static_cast<size_t>(length), bytes)) return ReadStatus::kIncomplete;
    out.clear();
    if (huffman) {
        if (!huffman_decode(bytes, out)) return ReadStatus::kError;
    } else {
        out.assign(bytes.begin(), bytes.end());
    }
    r.skip(probe.position());
    return ReadStatus::kOk;
}

}  // namespace quic::h3
