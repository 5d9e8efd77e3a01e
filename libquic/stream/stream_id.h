// Stream identifiers (RFC 9000 §2.1): a 62-bit integer whose two low bits give the initiator
// (0x01) and the direction (0x02); successive streams of one type differ by 4.
//
// The initiator is its own small type rather than quic::Role (wire/transport_parameters.h) so
// that this module does not depend on the wire codecs; the connection maps one to the other.
#pragma once

#include <cstdint>

namespace quic {

using StreamId = uint64_t;

enum class StreamInitiator : uint8_t { kClient, kServer };
enum class StreamDirection : uint8_t { kBidirectional, kUnidirectional };

// §2.1: "A stream ID is a 62-bit integer (0 to 2^62-1)".
inline constexpr StreamId kMaxStreamId = (uint64_t{1} << 62) - 1;
// §4.6: a max_streams value above 2^60 would allow a stream ID that cannot be encoded, so 2^60
// is the largest stream count of one type.
inline constexpr uint64_t kMaxStreamCount = uint64_t{1} << 60;

constexpr StreamInitiator peer_of(StreamInitiator who) {
    return who == StreamInitiator::kClient ? StreamInitiator::kServer : StreamInitiator::kClient;
}

// §2.1, Table 1: bit 0x01 set = server-initiated, bit 0x02 set = unidirectional.
constexpr StreamInitiator stream_initiator(StreamId id) {
    return (id & 0x01) ? StreamInitiator::kServer : StreamInitiator::kClient;
}
constexpr StreamDirection stream_direction(StreamId id) {
    return (id & 0x02) ? StreamDirection::kUnidirectional : StreamDirection::kBidirectional;
}
constexpr bool is_bidirectional(StreamId id) {
    return (id & 0x02) == 0;
}
constexpr bool is_unidirectional(StreamId id) {
    return (id & 0x02) != 0;
}

// The two type bits (0x00..0x03) of a stream of this initiator and direction.
constexpr uint64_t stream_type_bits(StreamInitiator who, StreamDirection dir) {
    return (who == StreamInitiator::kServer ? 0x01u : 0x00u) |
           (dir == StreamDirection::kUnidirectional ? 0x02u : 0x00u);
}

// The position of a stream among the streams of its type: 0 for the first (§2.1: "successive
// streams of each type are created with numerically increasing stream IDs").
constexpr uint64_t stream_index(StreamId id) {
    return id >> 2;
}

// The id of the index-th stream of a type; index must be below kMaxStreamCount.
constexpr StreamId make_stream_id(StreamInitiator who, StreamDirection dir, uint64_t index) {
    return (index << 2) | stream_type_bits(who, dir);
}

constexpr bool is_locally_initiated(StreamId id, StreamInitiator local) {
    return stream_initiator(id) == local;
}
// Whether the local endpoint has a sending part on this stream: every bidirectional stream and
// the unidirectional streams it initiated (§2.1, §3).
constexpr bool has_send_part(StreamId id, StreamInitiator local) {
    return is_bidirectional(id) || is_locally_initiated(id, local);
}
// Whether the local endpoint has a receiving part: bidirectional streams and the peer's
// unidirectional streams.
constexpr bool has_receive_part(StreamId id, StreamInitiator local) {
    return is_bidirectional(id) || !is_locally_initiated(id, local);
}

}  // namespace quic
