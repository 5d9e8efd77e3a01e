// HTTP/3 frames (RFC 9114 §7): the frame structs, an encoder, and FrameParser, an incremental
// parser fed a stream's bytes as they arrive.
//
// FrameParser knows nothing of stream kinds: which frame may appear where is checked by the
// readers of stream_readers.h, on the FrameHeader event, before any payload is buffered.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "http3/limits.h"
#include "http3/varint_reader.h"
#include "quic/bytes.h"
#include "quic/http3/settings.h"
#include "quic/random.h"
#include "quic/result.h"

namespace quic::h3 {

// §7.2, §11.2.1.
enum class FrameType : uint64_t {
    kData = 0x00,
    kHeaders = 0x01,
    kCancelPush = 0x03,
    kSettings = 0x04,
    kPushPromise = 0x05,
    kGoaway = 0x07,
    kMaxPushId = 0x0d,
};

constexpr uint64_t to_underlying(FrameType t) {
    return static_cast<uint64_t>(t);
}

// §7.2.8, §11.2.1: types HTTP/2 used with no HTTP/3 equivalent (PRIORITY, PING,
// WINDOW_UPDATE, CONTINUATION). Receiving one is H3_FRAME_UNEXPECTED on any stream.
constexpr bool is_http2_only_frame_type(uint64_t type) {
    return type == 0x02 || type == 0x06 || type == 0x08 || type == 0x09;
}

struct DataFrame {  // §7.2.1 (for encoding; the parser streams DATA payloads as DataChunks)
    Bytes payload;
    bool operator==(const DataFrame&) const = default;
};
struct HeadersFrame {  // §7.2.2
    Bytes encoded_field_section;
    bool operator==(const HeadersFrame&) const = default;
};
struct CancelPushFrame {  // §7.2.3
    uint64_t push_id = 0;
    bool operator==(const CancelPushFrame&) const = default;
};
struct SettingsFrame {  // §7.2.4
    Settings settings;
    bool operator==(const SettingsFrame&) const = default;
};
struct PushPromiseFrame {  // §7.2.5
    uint64_t push_id = 0;
    Bytes encoded_field_section;
    bool operator==(const PushPromiseFrame&) const = default;
};
struct GoawayFrame {  // §7.2.6: a stream ID (from a server) or push ID (from a client)
    uint64_t id = 0;
    bool operator==(const GoawayFrame&) const = default;
};
struct MaxPushIdFrame {  // §7.2.7
    uint64_t push_id = 0;
    bool operator==(const MaxPushIdFrame&) const = default;
};
// A frame of any other type, reserved (§7.2.8) or unknown (§9), for encoding. The parser
// skips such payloads without buffering them.
struct UnknownFrame {
    uint64_t type = 0;
    Bytes payload;
    bool operator==(const UnknownFrame&) const = default;
};

using Frame = std::variant<DataFrame, HeadersFrame, CancelPushFrame, SettingsFrame,
                           PushPromiseFrame, GoawayFrame, MaxPushIdFrame, UnknownFrame>;

// --- Encoding ---------------------------------------------------------------------------

// Type and Length (§7.1), e.g. in front of a DATA payload sent without copying it.
void encode_frame_header(Bytes& out, uint64_t type, uint64_t length);
// Appends the whole frame. A SettingsFrame is written without grease; use
// encode_settings_frame for that.
void encode_frame(Bytes& out, const Frame& frame);
Bytes encode_frame(const Frame& frame);
void encode_settings_frame(Bytes& out, const Settings& settings, Random* grease);
// A reserved frame (§7.2.8) of a random type with 0..8 random payload bytes: greasing, or
// padding a stream.
void encode_grease_frame(Bytes& out, Random& rng);

// Parses the payload of a complete non-DATA frame of a known type. Payloads that end early or
// carry extra bytes are H3_FRAME_ERROR (§7.1); SETTINGS errors are decode_settings'.
Result<Frame> decode_frame_payload(uint64_t type, ByteSpan payload);

// --- Incremental parsing ----------------------------------------------------------------

// The Type and Length of a frame, reported as soon as both are read, before the payload.
struct FrameHeader {
    uint64_t type = 0;
    uint64_t length = 0;
};
// A piece of a DATA frame's payload, pointing into the bytes given to the parser (valid as
// long as they are). Never empty; a DATA frame's pieces add up to its Length.
struct DataChunk {
    ByteSpan data;
};
// FrameHeader for every frame; then DataChunks for DATA; the complete Frame for HEADERS,
// CANCEL_PUSH, SETTINGS, PUSH_PROMISE, GOAWAY and MAX_PUSH_ID; nothing more for any other type
// (its payload is skipped).
using FrameEvent = std::variant<FrameHeader, DataChunk, Frame>;

class FrameParser {
  public:
    // max_headers_payload caps buffered HEADERS and PUSH_PROMISE payloads (limits.h).
    explicit FrameParser(uint64_t max_headers_payload = kMaxHeadersFramePayload)
        : max_headers_payload_(max_headers_payload) {}

    // The next event from `in`, consuming the bytes it used; nullopt once `in` is exhausted
    // without completing one (partial headers and buffered payloads are kept). Errors:
    // H3_FRAME_ERROR for a frame whose Length cannot fit its fields, H3_EXCESSIVE_LOAD for a
    // buffered payload above its cap (limits.h), the errors of decode_frame_payload. After an
    // error the parser must not be used again (it is a connection error).
    Result<std::optional<FrameEvent>> next(ByteReader& in);

    // Every event in `data`. DataChunks point into data.
    Result<std::vector<FrameEvent>> feed(ByteSpan data);

    // The stream ended cleanly (FIN): a partial frame is H3_FRAME_ERROR (§7.1).
    Status finish() const;
    bool at_frame_boundary() const { return state_ == State::kType && !varint_.partial(); }

  private:
    enum class State : uint8_t { kType, kLength, kPayloadStart, kPayload };
    enum class Handling : uint8_t { kStream, kBuffer, kSkip };

    Result<Handling> check_length() const;

    uint64_t max_headers_payload_;
    State state_ = State::kType;
    Handling handling_ = Handling::kSkip;
    VarintReader varint_;
    uint64_t type_ = 0;
    uint64_t length_ = 0;
    uint64_t remaining_ = 0;
    Bytes buffer_;
};

}  // namespace quic::h3
