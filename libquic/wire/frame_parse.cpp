// Frame parsing, RFC 9000 §12.4 and §19, RFC 9221 §4. Every read is bounds-checked by
// ByteReader; a short read anywhere is a FRAME_ENCODING_ERROR (§12.4: a frame cannot span
// packets, so a frame that runs past the payload is malformed).
#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "quic/frame.h"
#include "quic/varint.h"
#include "wire/limits.h"

namespace quic {

namespace {

Error frame_error(TransportErrorCode code, uint64_t type, std::string_view why) {
    std::string reason = std::string(frame_type_name(type)) + " frame ";
    reason += why;
    return Error::transport(code, std::move(reason), type);
}

Error encoding_error(uint64_t type, std::string_view why) {
    return frame_error(TransportErrorCode::kFrameEncodingError, type, why);
}

Error truncated(uint64_t type) {
    return encoding_error(type, "is truncated");
}

// Reads varint fields in order; false on a short read.
bool read_varints(ByteReader& r, std::initializer_list<uint64_t*> fields) {
    for (uint64_t* f : fields)
        if (!r.read_varint(*f)) return false;
    return true;
}

Result<Frame> parse_padding(ByteReader& r) {
    // §19.1: each PADDING frame is one 0x00 byte; fold the run into one frame.
    PaddingFrame f{1};
    uint8_t b;
    while (r.peek_u8(b) && b == 0) {
        r.skip(1);
        ++f.length;
    }
    return Frame{f};
}

// §19.3.1: each range's numbers are computed by subtraction; any result below 0 is a
// FRAME_ENCODING_ERROR. All ranges are validated, but only kMaxAckRangesDecoded are kept.
Result<Frame> parse_ack(ByteReader& r, uint64_t type) {
    AckFrame f;
    uint64_t range_count, first_range;
    if (!read_varints(r, {&f.largest_acknowledged, &f.ack_delay, &range_count, &first_range}))
        return truncated(type);
    if (first_range > f.largest_acknowledged)
        return encoding_error(type, "first range goes below packet 0");
    AckRange cur{f.largest_acknowledged - first_range, f.largest_acknowledged};
    // Do not trust range_count for the reservation: it is peer-controlled.
    f.ranges.reserve(std::min<uint64_t>(range_count, kMaxAckRangesDecoded - 1) + 1);
    f.ranges.push_back(cur);
    // Each iteration consumes at least two bytes, so the loop is bounded by the packet.
    for (uint64_t i = 0; i < range_count; ++i) {
        uint64_t gap, length;
        if (!read_varints(r, {&gap, &length})) return truncated(type);
        // largest = previous_smallest - gap - 2, written to avoid overflow.
        if (cur.smallest < 2 || gap > cur.smallest - 2)
            return encoding_error(type, "gap goes below packet 0");
        cur.largest = cur.smallest - gap - 2;
        if (length > cur.largest) return encoding_error(type, "range goes below packet 0");
        cur.smallest = cur.largest - length;
        if (f.ranges.size() < kMaxAckRangesDecoded)
            f.ranges.push_back(cur);
        else
            ++f.ranges_dropped;
    }
    if (type == to_underlying(FrameType::kAckEcn)) {  // §19.3.2
        EcnCounts e;
        if (!read_varints(r, {&e.ect0, &e.ect1, &e.ce})) return truncated(type);
        f.ecn = e;
    }
    return Frame{std::move(f)};
}

Result<Frame> parse_reset_stream(ByteReader& r, uint64_t type) {
    ResetStreamFrame f;
    if (!read_varints(r, {&f.stream_id, &f.application_error_code, &f.final_size}))
        return truncated(type);
    return Frame{f};
}

Result<Frame> parse_stop_sending(ByteReader& r, uint64_t type) {
    StopSendingFrame f;
    if (!read_varints(r, {&f.stream_id, &f.application_error_code})) return truncated(type);
    return Frame{f};
}

// A Length field followed by that many bytes.
bool read_length_prefixed(ByteReader& r, ByteSpan& out) {
    uint64_t length;
    return r.read_varint(length) && length <= r.remaining() && r.read_bytes(length, out);
}

Result<Frame> parse_crypto(ByteReader& r, uint64_t type) {
    CryptoFrame f;
    if (!r.read_varint(f.offset) || !read_length_prefixed(r, f.data)) return truncated(type);
    // §19.6 allows FRAME_ENCODING_ERROR or CRYPTO_BUFFER_EXCEEDED; the latter says more.
    if (f.data.size() > kVarintMax - f.offset)
        return frame_error(TransportErrorCode::kCryptoBufferExceeded, type, "ends beyond 2^62-1");
    return Frame{f};
}

Result<Frame> parse_new_token(ByteReader& r, uint64_t type) {
    NewTokenFrame f;
    if (!read_length_prefixed(r, f.token)) return truncated(type);
    if (f.token.empty()) return encoding_error(type, "has an empty token");  // §19.7
    return Frame{f};
}

// §19.8: the type's low bits say which of Offset and Length are present.
Result<Frame> parse_stream(ByteReader& r, uint64_t type) {
    StreamFrame f;
    f.fin = (type & kStreamFinBit) != 0;
    f.has_length = (type & kStreamLenBit) != 0;
    if (!r.read_varint(f.stream_id)) return truncated(type);
    if ((type & kStreamOffBit) && !r.read_varint(f.offset)) return truncated(type);
    if (f.has_length) {
        if (!read_length_prefixed(r, f.data)) return truncated(type);
    } else {
        r.read_bytes(r.remaining(), f.data);
    }
    // §19.8: FRAME_ENCODING_ERROR or FLOW_CONTROL_ERROR; the frame alone is malformed.
    if (f.data.size() > kVarintMax - f.offset) return encoding_error(type, "ends beyond 2^62-1");
    return Frame{f};
}

// §19.11 and §19.14: counts above 2^60 would allow stream IDs above 2^62-1.
Result<Frame> parse_stream_count(ByteReader& r, uint64_t type, bool max_streams) {
    uint64_t count;
    if (!r.read_varint(count)) return truncated(type);
    if (count > kMaxStreamsLimit) return encoding_error(type, "allows more than 2^60 streams");
    bool bidi = type == to_underlying(FrameType::kMaxStreamsBidi) ||
                type == to_underlying(FrameType::kStreamsBlockedBidi);
    if (max_streams) return Frame{MaxStreamsFrame{bidi, count}};
    return Frame{StreamsBlockedFrame{bidi, count}};
}

Result<Frame> parse_two_varints(ByteReader& r, uint64_t type, bool max_stream_data) {
    uint64_t stream_id, value;
    if (!read_varints(r, {&stream_id, &value})) return truncated(type);
    if (max_stream_data) return Frame{MaxStreamDataFrame{stream_id, value}};
    return Frame{StreamDataBlockedFrame{stream_id, value}};
}

// §19.15.
Result<Frame> parse_new_connection_id(ByteReader& r, uint64_t type) {
    NewConnectionIdFrame f;
    uint8_t length;
    ByteSpan cid;
    if (!read_varints(r, {&f.sequence_number, &f.retire_prior_to}) || !r.read_u8(length))
        return truncated(type);
    if (length < 1 || length > kMaxConnectionIdLength)
        return encoding_error(type, "has a connection ID length outside 1..20");
    if (!r.read_bytes(length, cid) || !r.copy_bytes(f.stateless_reset_token))
        return truncated(type);
    if (f.retire_prior_to > f.sequence_number)
        return encoding_error(type, "retires beyond its own sequence number");
    f.connection_id = ConnectionId(cid);
    return Frame{f};
}

template <class PathFrame>
Result<Frame> parse_path_frame(ByteReader& r, uint64_t type) {
    PathFrame f;
    if (!r.copy_bytes(f.data)) return truncated(type);
    return Frame{f};
}

// §19.19: only the transport variant (0x1c) carries the Frame Type field.
Result<Frame> parse_connection_close(ByteReader& r, uint64_t type) {
    ConnectionCloseFrame f;
    f.application = type == to_underlying(FrameType::kConnectionCloseApplication);
    if (!r.read_varint(f.error_code)) return truncated(type);
    if (!f.application && !r.read_varint(f.frame_type)) return truncated(type);
    if (!read_length_prefixed(r, f.reason)) return truncated(type);
    return Frame{f};
}

// RFC 9221 §4: without the LEN bit the data runs to the end of the packet.
Result<Frame> parse_datagram(ByteReader& r, uint64_t type) {
    DatagramFrame f;
    f.has_length = type == to_underlying(FrameType::kDatagramWithLength);
    if (!f.has_length) {
        r.read_bytes(r.remaining(), f.data);
    } else if (!read_length_prefixed(r, f.data)) {
        return truncated(type);
    }
    return Frame{f};
}

// Frames whose body is one varint, stored into a default frame of type F.
template <class F>
Result<Frame> parse_single(ByteReader& r, uint64_t type, uint64_t F::*field) {
    F f;
    if (!r.read_varint(f.*field)) return truncated(type);
    return Frame{f};
}

Result<Frame> parse_body(ByteReader& r, uint64_t type) {
    if (type >= 0x08 && type <= 0x0f) return parse_stream(r, type);
    switch (static_cast<FrameType>(type)) {
        case FrameType::kPadding:
            return parse_padding(r);
        case FrameType::kPing:
            return Frame{PingFrame{}};
        case FrameType::kAck:
        case FrameType::kAckEcn:
            return parse_ack(r, type);
        case FrameType::kResetStream:
            return parse_reset_stream(r, type);
        case FrameType::kStopSending:
            return parse_stop_sending(r, type);
        case FrameType::kCrypto:
            return parse_crypto(r, type);
        case FrameType::kNewToken:
            return parse_new_token(r, type);
        case FrameType::kStream:
            return parse_stream(r, type);
        case FrameType::kMaxData:
            return parse_single(r, type, &MaxDataFrame::maximum_data);
        case FrameType::kMaxStreamData:
            return parse_two_varints(r, type, true);
        case FrameType::kMaxStreamsBidi:
        case FrameType::kMaxStreamsUni:
            return parse_stream_count(r, type, true);
        case FrameType::kDataBlocked:
            return parse_single(r, type, &DataBlockedFrame::maximum_data);
        case FrameType::kStreamDataBlocked:
            return parse_two_varints(r, type, false);
        case FrameType::kStreamsBlockedBidi:
        case FrameType::kStreamsBlockedUni:
            return parse_stream_count(r, type, false);
        case FrameType::kNewConnectionId:
            return parse_new_connection_id(r, type);
        case FrameType::kRetireConnectionId:
            return parse_single(r, type, &RetireConnectionIdFrame::sequence_number);
        case FrameType::kPathChallenge:
            return parse_path_frame<PathChallengeFrame>(r, type);
        case FrameType::kPathResponse:
            return parse_path_frame<PathResponseFrame>(r, type);
        case FrameType::kConnectionCloseTransport:
        case FrameType::kConnectionCloseApplication:
            return parse_connection_close(r, type);
        case FrameType::kHandshakeDone:
            return Frame{HandshakeDoneFrame{}};
        case FrameType::kDatagram:
        case FrameType::kDatagramWithLength:
            return parse_datagram(r, type);
    }
    return encoding_error(type, "has an unknown type");  // not reached: checked by the caller
}

}  // namespace

Result<Frame> parse_frame(ByteReader& r, PacketType packet_type) {
    uint8_t first;
    uint64_t type;
    if (!r.peek_u8(first) || !r.read_varint(type))
        return Error::transport(TransportErrorCode::kFrameEncodingError, "frame type is truncated");
    // §12.4: a frame type MUST use the shortest encoding; we take the MAY and close.
    if (varint_length_from_first_byte(first) != varint_size(type))
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "frame type is not minimally encoded", type);
    if (!is_known_frame_type(type))
        return Error::transport(TransportErrorCode::kFrameEncodingError, "unknown frame type",
                                type);
    if (!frame_allowed_in(type, packet_type))
        return frame_error(
            TransportErrorCode::kProtocolViolation, type,
            std::string("is not allowed in ") + packet_type_name(packet_type) + " packets");
    return parse_body(r, type);
}

}  // namespace quic
