#include "wire/packet_number.h"

namespace quic {

size_t packet_number_length(uint64_t full_pn, std::optional<uint64_t> largest_acked) {
    // Appendix A.2: with nothing acknowledged, every packet number from 0 is outstanding.
    uint64_t num_unacked;
    if (!largest_acked)
        num_unacked = full_pn + 1;
    else
        num_unacked = full_pn > *largest_acked ? full_pn - *largest_acked : 1;
    // Exact integer form of §17.1's "more than twice as large a range": 2^(8n) > 2 * num_unacked.
    // (The log2 pseudocode of Appendix A.2 allows equality at powers of two; the normative text
    // does not, so we take one more byte in that case.)
    for (size_t n = kMinPacketNumberLength; n < kMaxPacketNumberLength; ++n) {
        if (num_unacked < (uint64_t{1} << (8 * n - 1))) return n;
    }
    return kMaxPacketNumberLength;
}

bool write_truncated_packet_number(ByteWriter& w, uint64_t pn, size_t pn_length) {
    if (pn_length < kMinPacketNumberLength || pn_length > kMaxPacketNumberLength) return false;
    return w.write_uint(truncate_packet_number(pn, pn_length), pn_length).ok();
}

uint64_t decode_packet_number(std::optional<uint64_t> largest_pn, uint64_t truncated_pn,
                              size_t pn_nbits) {
    // Appendix A.3, with unsigned arithmetic: "expected - hwin" is only evaluated when it does
    // not underflow (when it would, no candidate can be below it).
    // Only 8, 16, 24 and 32 are meaningful; anything else would make the shifts undefined.
    if (pn_nbits == 0 || pn_nbits > 8 * kMaxPacketNumberLength) return truncated_pn;
    const uint64_t expected_pn = largest_pn ? *largest_pn + 1 : 0;
    const uint64_t pn_win = uint64_t{1} << pn_nbits;
    const uint64_t pn_hwin = pn_win / 2;
    const uint64_t pn_mask = pn_win - 1;
    const uint64_t candidate_pn = (expected_pn & ~pn_mask) | (truncated_pn & pn_mask);
    if (expected_pn >= pn_hwin && candidate_pn <= expected_pn - pn_hwin &&
        candidate_pn < (uint64_t{1} << 62) - pn_win) {
        return candidate_pn + pn_win;
    }
    if (candidate_pn > expected_pn + pn_hwin && candidate_pn >= pn_win) {
        return candidate_pn - pn_win;
    }
    return candidate_pn;
}

}  // namespace quic
