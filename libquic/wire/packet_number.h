// Packet numbers in headers: choosing the encoded length, truncating and recovering the full
// value (RFC 9000 §17.1, Appendix A.2 and A.3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "quic/bytes.h"

namespace quic {

// RFC 9000 §12.3: packet numbers are in 0..2^62-1 (they must fit an ACK frame's varint).
inline constexpr uint64_t kMaxPacketNumber = (uint64_t{1} << 62) - 1;

// RFC 9000 §17.1: the Packet Number field is 1 to 4 bytes.
inline constexpr size_t kMinPacketNumberLength = 1;
inline constexpr size_t kMaxPacketNumberLength = 4;

// The number of bytes (1..4) to encode full_pn with, given the largest packet number the peer
// has acknowledged in this space (none: nothing acknowledged yet, so the whole range from 0
// counts as unacknowledged; RFC 9000 Appendix A.2).
//
// RFC 9000 §17.1: the encoding must "represent more than twice as large a range as the
// difference between the largest acknowledged packet number and the packet number being sent",
// i.e. 2^(8n) > 2 * (full_pn - largest_acked). When even 4 bytes are not enough (more than
// 2^31 packets in flight, which no sender should reach) this returns 4.
size_t packet_number_length(uint64_t full_pn, std::optional<uint64_t> largest_acked);

// The low pn_length bytes of full_pn: the value that goes on the wire.
constexpr uint64_t truncate_packet_number(uint64_t full_pn, size_t pn_length) {
    return pn_length >= 8 ? full_pn : full_pn & ((uint64_t{1} << (8 * pn_length)) - 1);
}

// Writes the low pn_length (1..4) bytes of pn, big-endian. Returns false when pn_length is out
// of range (nothing written) or the buffer is full (the writer is then failed).
bool write_truncated_packet_number(ByteWriter& w, uint64_t pn, size_t pn_length);

// RFC 9000 Appendix A.3: the packet number closest to the next expected one (largest_pn + 1)
// whose low pn_nbits (8, 16, 24 or 32) bits are truncated_pn. largest_pn is the largest packet
// number successfully processed in this space; none when no packet has been processed yet
// (then the next expected packet number is 0). Other pn_nbits values return truncated_pn.
//
// The result can exceed kMaxPacketNumber only when largest_pn is already near 2^62, where a
// genuine peer has closed the connection (§12.3); such a value will not authenticate, and
// callers drop the packet.
uint64_t decode_packet_number(std::optional<uint64_t> largest_pn, uint64_t truncated_pn,
                              size_t pn_nbits);

}  // namespace quic
