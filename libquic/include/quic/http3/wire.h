// HTTP/3 at the wire level (RFC 9114 §6-§7, RFC 9204 §4): encode any frame, any stream
// header and any field section, including the malformed ones a conforming stack never sends,
// and decode what a peer sends back. For tools that put exact bytes on QUIC streams
// themselves (quiver replay, conformance probes); h3::Client and h3::Server are the way to
// speak HTTP/3 correctly.
//
// Encoding never validates: a frame type may be reserved, unknown or an HTTP/2 one, a field
// name may be upper-case, a pseudo-field may come last. Decoding is bounded the way the
// session is (field-section and control-frame caps) and returns the RFC's error codes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "quic/bytes.h"
#include "quic/http3/field.h"
#include "quic/http3/settings.h"
#include "quic/result.h"

namespace quic::h3::wire {

// Frame types, RFC 9114 §7.2 and §11.2.1.
inline constexpr uint64_t kData = 0x00;
inline constexpr uint64_t kHeaders = 0x01;
inline constexpr uint64_t kCancelPush = 0x03;
inline constexpr uint64_t kSettings = 0x04;
inline constexpr uint64_t kPushPromise = 0x05;
inline constexpr uint64_t kGoaway = 0x07;
inline constexpr uint64_t kMaxPushId = 0x0d;

// Unidirectional stream types, RFC 9114 §6.2 and RFC 9204 §4.2.
inline constexpr uint64_t kControlStream = 0x00;
inline constexpr uint64_t kPushStream = 0x01;
inline constexpr uint64_t kQpackEncoderStream = 0x02;
inline constexpr uint64_t kQpackDecoderStream = 0x03;

// --- Encoding ---------------------------------------------------------------------------

// RFC 9000 §16.
void append_varint(Bytes& out, uint64_t value);
// Type, Length (the payload's size unless `length` overrides it: a lying Length), payload.
void append_frame(Bytes& out, uint64_t type, ByteSpan payload,
                  std::optional<uint64_t> length = std::nullopt);
// A SETTINGS payload: the pairs exactly as given (repeated and HTTP/2 identifiers included).
Bytes settings_payload(std::span<const Setting> settings);
// The payload of CANCEL_PUSH, GOAWAY and MAX_PUSH_ID: one varint.
Bytes varint_payload(uint64_t value);
// A unidirectional stream's header: the type, and the push ID for a push stream (§6.2.2).
Bytes stream_header(uint64_t type, std::optional<uint64_t> push_id = std::nullopt);

// An encoded field section (a HEADERS or PUSH_PROMISE payload) using the QPACK static table
// and literals only (Required Insert Count 0, RFC 9204 §4.5.1): the fields in the order
// given, names and values as they are. `huffman`: Huffman-code literals when shorter.
Bytes encode_field_section(std::span<const Field> fields, bool huffman = true);

// --- Decoding ---------------------------------------------------------------------------

// One frame, or a piece of a DATA frame's payload.
struct ReceivedFrame {
    uint64_t type = 0;
    uint64_t length = 0;  // the frame's Length
    // DATA: the bytes of this piece (a DATA frame may come in several pieces); HEADERS and
    // PUSH_PROMISE: the encoded field section; other known types: empty; reserved and
    // unknown types: empty (their payload is skipped, §9).
    Bytes payload;
    std::optional<uint64_t> id;        // GOAWAY, CANCEL_PUSH, MAX_PUSH_ID, PUSH_PROMISE
    std::optional<Settings> settings;  // SETTINGS
    bool complete = true;              // false for a DATA piece that is not the last one
};

// Frames from a stream's bytes as they arrive. Errors are the connection errors RFC 9114 §7.1
// names (H3_FRAME_ERROR, H3_EXCESSIVE_LOAD above the caps, H3_SETTINGS_ERROR); after one
// the reader must not be used again.
class FrameReader {
  public:
    FrameReader();
    ~FrameReader();
    FrameReader(FrameReader&&) noexcept;
    FrameReader& operator=(FrameReader&&) noexcept;

    Result<std::vector<ReceivedFrame>> feed(ByteSpan data);
    // The stream ended: a partial frame is H3_FRAME_ERROR.
    Status finish() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A QPACK decoder (RFC 9204 §2.2) that follows the peer's encoder stream. Advertise
// `max_table_capacity` and `max_blocked_streams` in your SETTINGS; with 0 (the defaults) the
// peer may use the static table and literals only.
class FieldSectionDecoder {
  public:
    struct Options {
        uint64_t max_table_capacity = 0;
        uint64_t max_blocked_streams = 0;
    };
    enum class Outcome : uint8_t { kDecoded, kBlocked, kTooLarge };
    struct Section {
        Outcome outcome = Outcome::kDecoded;
        std::vector<Field> fields;
    };

    FieldSectionDecoder();
    explicit FieldSectionDecoder(Options options);
    ~FieldSectionDecoder();
    FieldSectionDecoder(FieldSectionDecoder&&) noexcept;
    FieldSectionDecoder& operator=(FieldSectionDecoder&&) noexcept;

    // Bytes of the peer's encoder stream, after its stream type. QPACK_ENCODER_STREAM_ERROR.
    Status on_encoder_stream_data(ByteSpan data);
    // A HEADERS or PUSH_PROMISE payload received on stream_id. QPACK_DECOMPRESSION_FAILED.
    // A blocked section is kept: decode it again once unblocked_streams() names its stream.
    Result<Section> decode(uint64_t stream_id, ByteSpan encoded_section);
    std::vector<uint64_t> unblocked_streams();
    // Bytes for our decoder stream (acknowledgments, RFC 9204 §4.4).
    Bytes take_decoder_stream_data();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace quic::h3::wire
