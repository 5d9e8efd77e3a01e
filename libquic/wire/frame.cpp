// Frame classification: wire types, names, ack-eliciting and probing frames, and where each
// frame type may appear (RFC 9000 §12.4 Table 3, §12.5). Parsing and encoding are in
// frame_parse.cpp and frame_encode.cpp.
#include "quic/frame.h"
#include "quic/overloaded.h"

namespace quic {

namespace {

FrameType type_of_stream(const StreamFrame& f) {
    uint64_t t = to_underlying(FrameType::kStream);
    if (f.offset != 0) t |= kStreamOffBit;
    if (f.has_length) t |= kStreamLenBit;
    if (f.fin) t |= kStreamFinBit;
    return static_cast<FrameType>(t);
}

// Packet types as bits, to write Table 3's "Pkts" column compactly.
enum PacketBits : uint8_t { kI = 1, kH = 2, k0 = 4, k1 = 8 };

uint8_t packet_bit(PacketType t) {
    switch (t) {
        case PacketType::kInitial:
            return kI;
        case PacketType::kHandshake:
            return kH;
        case PacketType::kZeroRtt:
            return k0;
        case PacketType::kOneRtt:
            return k1;
        case PacketType::kRetry:               // §17.2.5: no frames
        case PacketType::kVersionNegotiation:  // §17.2.1: no frames
            return 0;
    }
    return 0;
}

// Table 3's "Pkts" column, narrowed for 0-RTT by §12.5 ("it is not possible to send ACK,
// CRYPTO, HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE, and RETIRE_CONNECTION_ID in 0-RTT";
// a server MAY treat them as PROTOCOL_VIOLATION, and we do). DATAGRAM: RFC 9221 §4.
uint8_t allowed_packets(uint64_t frame_type) {
    if (frame_type >= 0x08 && frame_type <= 0x0f) return k0 | k1;  // STREAM
    switch (static_cast<FrameType>(frame_type)) {
        case FrameType::kPadding:
        case FrameType::kPing:
        case FrameType::kConnectionCloseTransport:  // "ih": only 0x1c in Initial/Handshake
            return kI | kH | k0 | k1;
        case FrameType::kAck:
        case FrameType::kAckEcn:
        case FrameType::kCrypto:
            return kI | kH | k1;
        case FrameType::kNewToken:
        case FrameType::kPathResponse:
        case FrameType::kRetireConnectionId:  // __01 in Table 3, but §12.5 excludes 0-RTT
        case FrameType::kHandshakeDone:
            return k1;
        case FrameType::kResetStream:
        case FrameType::kStopSending:
        case FrameType::kMaxData:
        case FrameType::kMaxStreamData:
        case FrameType::kMaxStreamsBidi:
        case FrameType::kMaxStreamsUni:
        case FrameType::kDataBlocked:
        case FrameType::kStreamDataBlocked:
        case FrameType::kStreamsBlockedBidi:
        case FrameType::kStreamsBlockedUni:
        case FrameType::kNewConnectionId:
        case FrameType::kPathChallenge:
        case FrameType::kConnectionCloseApplication:  // §19.19: application space only
        case FrameType::kDatagram:
        case FrameType::kDatagramWithLength:
            return k0 | k1;
        case FrameType::kStream:  // handled above with its flag bits
            return k0 | k1;
    }
    return 0;  // unknown
}

}  // namespace

FrameType frame_type_of(const Frame& f) {
    return std::visit(
        Overloaded{
            [](const PaddingFrame&) { return FrameType::kPadding; },
            [](const PingFrame&) { return FrameType::kPing; },
            [](const AckFrame& a) { return a.ecn ? FrameType::kAckEcn : FrameType::kAck; },
            [](const ResetStreamFrame&) { return FrameType::kResetStream; },
            [](const StopSendingFrame&) { return FrameType::kStopSending; },
            [](const CryptoFrame&) { return FrameType::kCrypto; },
            [](const NewTokenFrame&) { return FrameType::kNewToken; },
            [](const StreamFrame& s) { return type_of_stream(s); },
            [](const MaxDataFrame&) { return FrameType::kMaxData; },
            [](const MaxStreamDataFrame&) { return FrameType::kMaxStreamData; },
            [](const MaxStreamsFrame& m) {
                return m.bidirectional ? FrameType::kMaxStreamsBidi : FrameType::kMaxStreamsUni;
            },
            [](const DataBlockedFrame&) { return FrameType::kDataBlocked; },
            [](const StreamDataBlockedFrame&) { return FrameType::kStreamDataBlocked; },
            [](const StreamsBlockedFrame& s) {
                return s.bidirectional ? FrameType::kStreamsBlockedBidi
                                       : FrameType::kStreamsBlockedUni;
            },
            [](const NewConnectionIdFrame&) { return FrameType::kNewConnectionId; },
            [](const RetireConnectionIdFrame&) { return FrameType::kRetireConnectionId; },
            [](const PathChallengeFrame&) { return FrameType::kPathChallenge; },
            [](const PathResponseFrame&) { return FrameType::kPathResponse; },
            [](const ConnectionCloseFrame& c) {
                return c.application ? FrameType::kConnectionCloseApplication
                                     : FrameType::kConnectionCloseTransport;
            },
            [](const HandshakeDoneFrame&) { return FrameType::kHandshakeDone; },
            [](const DatagramFrame& d) {
                return d.has_length ? FrameType::kDatagramWithLength : FrameType::kDatagram;
            },
        },
        f);
}

const char* frame_type_name(uint64_t frame_type) {
    if (frame_type >= 0x08 && frame_type <= 0x0f) return "STREAM";
    switch (static_cast<FrameType>(frame_type)) {
        case FrameType::kPadding:
            return "PADDING";
        case FrameType::kPing:
            return "PING";
        case FrameType::kAck:
        case FrameType::kAckEcn:
            return "ACK";
        case FrameType::kResetStream:
            return "RESET_STREAM";
        case FrameType::kStopSending:
            return "STOP_SENDING";
        case FrameType::kCrypto:
            return "CRYPTO";
        case FrameType::kNewToken:
            return "NEW_TOKEN";
        case FrameType::kStream:
            return "STREAM";
        case FrameType::kMaxData:
            return "MAX_DATA";
        case FrameType::kMaxStreamData:
            return "MAX_STREAM_DATA";
        case FrameType::kMaxStreamsBidi:
        case FrameType::kMaxStreamsUni:
            return "MAX_STREAMS";
        case FrameType::kDataBlocked:
            return "DATA_BLOCKED";
        case FrameType::kStreamDataBlocked:
            return "STREAM_DATA_BLOCKED";
        case FrameType::kStreamsBlockedBidi:
        case FrameType::kStreamsBlockedUni:
            return "STREAMS_BLOCKED";
        case FrameType::kNewConnectionId:
            return "NEW_CONNECTION_ID";
        case FrameType::kRetireConnectionId:
            return "RETIRE_CONNECTION_ID";
        case FrameType::kPathChallenge:
            return "PATH_CHALLENGE";
        case FrameType::kPathResponse:
            return "PATH_RESPONSE";
        case FrameType::kConnectionCloseTransport:
        case FrameType::kConnectionCloseApplication:
            return "CONNECTION_CLOSE";
        case FrameType::kHandshakeDone:
            return "HANDSHAKE_DONE";
        case FrameType::kDatagram:
        case FrameType::kDatagramWithLength:
            return "DATAGRAM";
    }
    return "UNKNOWN";
}

bool is_known_frame_type(uint64_t frame_type) {
    return allowed_packets(frame_type) != 0;
}

bool is_ack_eliciting(const Frame& f) {
    return !std::holds_alternative<AckFrame>(f) && !std::holds_alternative<PaddingFrame>(f) &&
           !std::holds_alternative<ConnectionCloseFrame>(f);
}

bool is_probing_frame(const Frame& f) {
    return std::holds_alternative<PathChallengeFrame>(f) ||
           std::holds_alternative<PathResponseFrame>(f) ||
           std::holds_alternative<NewConnectionIdFrame>(f) ||
           std::holds_alternative<PaddingFrame>(f);
}

bool frame_allowed_in(uint64_t frame_type, PacketType packet_type) {
    return (allowed_packets(frame_type) & packet_bit(packet_type)) != 0;
}

}  // namespace quic
