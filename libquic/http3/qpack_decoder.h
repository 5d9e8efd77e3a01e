// The QPACK decoder (RFC 9204 §2.2): applies the peer encoder's instructions to its dynamic
// table, decodes encoded field sections for streams, and produces the decoder-stream
// instructions that tell the encoder what it has seen.
//
// Sans-IO: the session feeds it the bytes of the peer's encoder stream and the payloads of
// HEADERS / PUSH_PROMISE frames, and writes what take_decoder_stream_data() returns to our
// decoder stream. A field section that needs entries not received yet is "blocked" (§2.2.1):
// the session keeps its bytes, stops reading that stream, and calls decode() again for each
// stream take_unblocked_streams() returns once the encoder stream has advanced.
//
// Errors returned in a Result are connection errors (§6, RFC 9114 §4.2):
// QPACK_DECOMPRESSION_FAILED from decode(), QPACK_ENCODER_STREAM_ERROR from
// on_encoder_stream_data(). A field section larger than max_field_section_size is not one of
// them: it is the status kTooLarge, which the session answers per message (a 431 response on
// a server, discarding the response on a client, or resetting the stream with
// H3_EXCESSIVE_LOAD; RFC 9114 §4.2.2, §10.5.1).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "http3/qpack_dynamic_table.h"
#include "quic/bytes.h"
#include "quic/http3/field.h"
#include "quic/result.h"

namespace quic::h3 {

struct QpackDecoderOptions {
    // SETTINGS_QPACK_MAX_TABLE_CAPACITY we advertise (RFC 9204 §5): the most the encoder may
    // set the capacity to (§3.2.3), and the MaxEntries of the Required Insert Count (§4.5.1.1).
    uint64_t max_table_capacity = 0;
    // SETTINGS_QPACK_BLOCKED_STREAMS we advertise (§2.1.2).
    uint64_t max_blocked_streams = 0;
    // SETTINGS_MAX_FIELD_SECTION_SIZE we advertise, in RFC 9114 §4.2.2 units (name + value
    // + 32 per field). Unlimited by default, as the setting is.
    uint64_t max_field_section_size = std::numeric_limits<uint64_t>::max();
    // Encoder-stream bytes kept while an instruction is incomplete; 0 picks
    // 4 * max_table_capacity + kQpackInstructionOverhead (limits.h).
    size_t max_encoder_stream_buffer = 0;
};

struct DecodedFieldSection {
    enum class Status : uint8_t {
        kDecoded,   // fields holds the section
        kBlocked,   // retry after the stream appears in take_unblocked_streams()
        kTooLarge,  // the decoded section exceeds max_field_section_size; fields is empty
    };
    Status status = Status::kDecoded;
    std::vector<Field> fields;
    uint64_t required_insert_count = 0;
};

class QpackDecoder {
  public:
    explicit QpackDecoder(QpackDecoderOptions options);

    // Bytes of the peer's encoder stream (§4.2), in order, in pieces of any size.
    Status on_encoder_stream_data(ByteSpan data);

    // Decodes the encoded field section (a HEADERS or PUSH_PROMISE payload) received on
    // stream_id. Once a section is decoded or too large, a Section Acknowledgment is queued
    // when it referenced the dynamic table (§4.4.1).
    Result<DecodedFieldSection> decode(uint64_t stream_id, ByteSpan encoded_section);

    // Streams that were blocked and can now be decoded, in the order they became decodable;
    // each is reported once.
    std::vector<uint64_t> take_unblocked_streams();

    // The stream was reset or its reading abandoned (§2.2.2.2): forget its blocked section and
    // queue a Stream Cancellation (omitted when our maximum capacity is 0, as §2.2.2.2 allows).
    void cancel_stream(uint64_t stream_id);

    // Decoder-stream bytes to send: queued acknowledgments and cancellations, then an Insert
    // Count Increment for entries received but not yet acknowledged by either (§2.2.2.3:
    // deferring it to here lets acknowledgments of sections make it unnecessary).
    Bytes take_decoder_stream_data();

    uint64_t insert_count() const { return table_.insert_count(); }
    size_t blocked_stream_count() const { return blocked_.size(); }
    const QpackDynamicTable& table() const { return table_; }
    const QpackDecoderOptions& options() const { return options_; }

  private:
    Status apply_instruction_bytes(ByteReader& r);
    void note_inserts();

    QpackDecoderOptions options_;
    QpackDynamicTable table_;
    Bytes encoder_stream_buffer_;           // an incomplete instruction
    std::map<uint64_t, uint64_t> blocked_;  // stream ID -> Required Insert Count
    std::vector<uint64_t> unblocked_;
    Bytes decoder_stream_;               // queued instructions
    uint64_t known_received_count_ = 0;  // what the encoder knows we have (§2.1.4)
};

}  // namespace quic::h3
