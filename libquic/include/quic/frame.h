// QUIC frames: RFC 9000 §12.4 and §19, plus DATAGRAM (RFC 9221 §4).
//
// One struct per frame type, named in the RFC's words, and a std::variant of them. Parsed
// frames point into the packet's bytes (ByteSpan), so the packet buffer must outlive them.
// The codec checks what a frame's own bytes can tell (encoding, lengths, ranges, limits the
// RFC states per field); stream direction, flow control and the like belong to conn/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "quic/bytes.h"
#include "quic/connection_id.h"
#include "quic/packet_type.h"
#include "quic/result.h"

namespace quic {

// RFC 9000 §19 (Table 3 in §12.4) and RFC 9221 §4.
enum class FrameType : uint64_t {
    kPadding = 0x00,
    kPing = 0x01,
    kAck = 0x02,
    kAckEcn = 0x03,
    kResetStream = 0x04,
    kStopSending = 0x05,
    kCrypto = 0x06,
    kNewToken = 0x07,
    kStream = 0x08,  // 0x08..0x0f: the low three bits are OFF, LEN and FIN (§19.8)
    kMaxData = 0x10,
    kMaxStreamData = 0x11,
    kMaxStreamsBidi = 0x12,
    kMaxStreamsUni = 0x13,
    kDataBlocked = 0x14,
    kStreamDataBlocked = 0x15,
    kStreamsBlockedBidi = 0x16,
    kStreamsBlockedUni = 0x17,
    kNewConnectionId = 0x18,
    kRetireConnectionId = 0x19,
    kPathChallenge = 0x1a,
    kPathResponse = 0x1b,
    kConnectionCloseTransport = 0x1c,
    kConnectionCloseApplication = 0x1d,
    kHandshakeDone = 0x1e,
    kDatagram = 0x30,            // RFC 9221 §4: no Length field
    kDatagramWithLength = 0x31,  // RFC 9221 §4: LEN bit set
};

constexpr uint64_t to_underlying(FrameType t) {
    return static_cast<uint64_t>(t);
}

// STREAM type bits, RFC 9000 §19.8.
inline constexpr uint64_t kStreamOffBit = 0x04;
inline constexpr uint64_t kStreamLenBit = 0x02;
inline constexpr uint64_t kStreamFinBit = 0x01;

// MAX_STREAMS and STREAMS_BLOCKED counts cannot exceed 2^60 (§19.11, §19.14): a larger
// count would allow a stream ID above 2^62-1.
inline constexpr uint64_t kMaxStreamsLimit = uint64_t{1} << 60;

// §19.1. A run of consecutive PADDING bytes is parsed as one frame of `length` bytes.
// Encoding writes `length` zero bytes (none when length is 0).
struct PaddingFrame {
    size_t length = 1;
};

struct PingFrame {};  // §19.2

// An inclusive range of acknowledged packet numbers.
struct AckRange {
    uint64_t smallest = 0;
    uint64_t largest = 0;
    bool operator==(const AckRange&) const = default;
};

// §19.3.2.
struct EcnCounts {
    uint64_t ect0 = 0;
    uint64_t ect1 = 0;
    uint64_t ce = 0;
    bool operator==(const EcnCounts&) const = default;
};

// §19.3. Type 0x03 when ecn is set, 0x02 otherwise.
struct AckFrame {
    uint64_t largest_acknowledged = 0;
    // The raw encoded ACK Delay; the caller scales it by 2^ack_delay_exponent (§18.2).
    uint64_t ack_delay = 0;
    // Descending and disjoint; ranges[0].largest == largest_acknowledged. The encoder
    // derives the Gap and ACK Range Length fields from these (§19.3.1).
    std::vector<AckRange> ranges;
    std::optional<EcnCounts> ecn;
    // Valid ranges the parser did not store: the oldest ones beyond kMaxAckRangesDecoded
    // (wire/limits.h). Ignored by the encoder.
    uint64_t ranges_dropped = 0;
};

struct ResetStreamFrame {  // §19.4
    uint64_t stream_id = 0;
    uint64_t application_error_code = 0;
    uint64_t final_size = 0;
};

struct StopSendingFrame {  // §19.5
    uint64_t stream_id = 0;
    uint64_t application_error_code = 0;
};

struct CryptoFrame {  // §19.6
    uint64_t offset = 0;
    ByteSpan data;
};

struct NewTokenFrame {  // §19.7; the token must not be empty
    ByteSpan token;
};

// §19.8. The encoder sets OFF only when offset != 0, LEN when has_length, FIN when fin.
struct StreamFrame {
    uint64_t stream_id = 0;
    uint64_t offset = 0;
    ByteSpan data;
    bool fin = false;
    // false: no Length field, the data runs to the end of the packet (so the frame must be
    // the packet's last one).
    bool has_length = true;
};

struct MaxDataFrame {  // §19.9
    uint64_t maximum_data = 0;
};

struct MaxStreamDataFrame {  // §19.10
    uint64_t stream_id = 0;
    uint64_t maximum_stream_data = 0;
};

struct MaxStreamsFrame {  // §19.11: 0x12 bidirectional, 0x13 unidirectional
    bool bidirectional = true;
    uint64_t maximum_streams = 0;
};

struct DataBlockedFrame {  // §19.12
    uint64_t maximum_data = 0;
};

struct StreamDataBlockedFrame {  // §19.13
    uint64_t stream_id = 0;
    uint64_t maximum_stream_data = 0;
};

struct StreamsBlockedFrame {  // §19.14: 0x16 bidirectional, 0x17 unidirectional
    bool bidirectional = true;
    uint64_t maximum_streams = 0;
};

struct NewConnectionIdFrame {  // §19.15: a 1..20 byte connection ID
    uint64_t sequence_number = 0;
    uint64_t retire_prior_to = 0;
    ConnectionId connection_id;
    StatelessResetToken stateless_reset_token{};
};

struct RetireConnectionIdFrame {  // §19.16
    uint64_t sequence_number = 0;
};

struct PathChallengeFrame {  // §19.17
    std::array<uint8_t, 8> data{};
};

struct PathResponseFrame {  // §19.18
    std::array<uint8_t, 8> data{};
};

// §19.19: 0x1c (transport, carries frame_type) or 0x1d (application).
struct ConnectionCloseFrame {
    bool application = false;
    uint64_t error_code = 0;
    uint64_t frame_type = 0;  // transport only; 0 when unknown
    ByteSpan reason;
};

struct HandshakeDoneFrame {};  // §19.20

// RFC 9221 §4: 0x30 (data to the end of the packet) or 0x31 (with Length).
struct DatagramFrame {
    ByteSpan data;
    bool has_length = true;
};

using Frame =
    std::variant<PaddingFrame, PingFrame, AckFrame, ResetStreamFrame, StopSendingFrame, CryptoFrame,
                 NewTokenFrame, StreamFrame, MaxDataFrame, MaxStreamDataFrame, MaxStreamsFrame,
                 DataBlockedFrame, StreamDataBlockedFrame, StreamsBlockedFrame,
                 NewConnectionIdFrame, RetireConnectionIdFrame, PathChallengeFrame,
                 PathResponseFrame, ConnectionCloseFrame, HandshakeDoneFrame, DatagramFrame>;

// The exact wire type the encoder writes for f: STREAM 0x08..0x0f from its fields, ACK
// 0x02/0x03 by whether ecn is set, DATAGRAM 0x30/0x31 by has_length.
FrameType frame_type_of(const Frame& f);

// The RFC's name for a frame type ("STREAM", "ACK", ...), or "UNKNOWN".
const char* frame_type_name(uint64_t frame_type);

// Whether a frame type is one this codec knows (RFC 9000 §19, RFC 9221 §4).
bool is_known_frame_type(uint64_t frame_type);

// RFC 9002 §2: every frame but ACK, PADDING and CONNECTION_CLOSE elicits an ACK.
bool is_ack_eliciting(const Frame& f);

// RFC 9000 §9.1: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING.
bool is_probing_frame(const Frame& f);

// RFC 9000 §12.4 Table 3, with §12.5's list of frames that cannot be in 0-RTT (ACK, CRYPTO,
// HANDSHAKE_DONE, NEW_TOKEN, PATH_RESPONSE, RETIRE_CONNECTION_ID) and RFC 9221 §4 for
// DATAGRAM. False for unknown types and for packets that carry no frames (Retry, VN).
bool frame_allowed_in(uint64_t frame_type, PacketType packet_type);

// Reads exactly one frame from r (a packet payload: STREAM and DATAGRAM frames without a
// Length field take the rest of it). Errors, with Error::frame_type set when known:
//   FRAME_ENCODING_ERROR  truncated frame, length past the end, unknown type, ACK range
//                         below 0, STREAM offset+length > 2^62-1, empty NEW_TOKEN,
//                         stream count > 2^60, bad NEW_CONNECTION_ID length or Retire
//                         Prior To (§12.4, §19);
//   PROTOCOL_VIOLATION    frame type not minimally encoded, or not allowed in packet_type;
//   CRYPTO_BUFFER_EXCEEDED CRYPTO offset+length > 2^62-1 (§19.6).
// On error, r's position is unspecified.
Result<Frame> parse_frame(ByteReader& r, PacketType packet_type);

// Whether f can be encoded into a frame parse_frame accepts: every integer fits a varint,
// ACK ranges are non-empty, descending, disjoint and start at largest_acknowledged,
// NEW_CONNECTION_ID has a 1..20 byte ID and retire_prior_to <= sequence_number, NEW_TOKEN
// is not empty, stream counts are <= 2^60, STREAM/CRYPTO end at or below 2^62-1.
bool is_encodable(const Frame& f);

// Bytes encode_frame writes for f (shortest varints). Exact whenever is_encodable(f).
size_t encoded_size(const Frame& f);

// Appends f to w. When f is not encodable or does not fit, writes nothing, marks w failed
// and returns false. Returns w.ok().
bool encode_frame(ByteWriter& w, const Frame& f);

// A STREAM frame (§19.8) up to its Stream Data, for a sender that then writes data_length bytes
// of data in place (f.data is ignored). Writes nothing and returns false (w failed) when the
// header and the data would not fit or the data would end past 2^62-1.
bool encode_stream_frame_header(ByteWriter& w, const StreamFrame& f, size_t data_length);
size_t stream_frame_header_size(const StreamFrame& f, size_t data_length);

}  // namespace quic
