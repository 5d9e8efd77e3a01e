// The QPACK encoder (RFC 9204 §2.1): turns field sections into encoded field sections and
// encoder-stream instructions, and follows the peer decoder's acknowledgments.
//
// Sans-IO: the session calls apply_peer_settings() when the peer's SETTINGS arrives, encodes
// each HEADERS / PUSH_PROMISE payload with encode_field_section(), writes what
// take_encoder_stream_data() returns to our encoder stream *before* the frame that carries the
// section (§2.1.3 avoids a deadlock only if instructions are not stuck behind it), and feeds
// the bytes of the peer's decoder stream to on_decoder_stream_data().
//
// Policy (§2.1.1, §2.1.2):
//  - static-table matches are always used; the dynamic table only once the peer allows one;
//  - a field is inserted when it is likely to repeat: not a never-index field, not a header
//    whose value changes with every message (:path, content-length, date, ...), and not
//    larger than half the table;
//  - the oldest entries (those needed to keep a quarter of the table reclaimable) are
//    "draining" (§2.1.1.1): not referenced, so they become evictable; a field matching a
//    draining entry is re-inserted with a Duplicate instruction instead;
//  - an entry is never evicted while unacknowledged or referenced by an unacknowledged section;
//  - an unacknowledged entry is referenced only if that cannot make more streams blocked than
//    the peer's SETTINGS_QPACK_BLOCKED_STREAMS (§2.1.2); otherwise it is inserted for later
//    and the field sent as a literal.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http3/qpack_dynamic_table.h"
#include "quic/bytes.h"
#include "quic/http3/field.h"
#include "quic/result.h"

namespace quic::h3 {

struct QpackEncoderOptions {
    // The most dynamic table capacity we use, whatever the peer allows: our own memory cap
    // (the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY is the other bound, §3.2.3).
    uint64_t max_table_capacity = 4096;
    // Huffman-encode string literals when that makes them shorter (RFC 7541 §5.2).
    bool huffman = true;
};

class QpackEncoder {
  public:
    explicit QpackEncoder(QpackEncoderOptions options = {});

    // The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS
    // (RFC 9204 §5; both 0 until SETTINGS arrives, §3.2.3). Call once. Sets the table capacity
    // to min(peer maximum, our maximum), queueing a Set Dynamic Table Capacity instruction
    // when it is not zero; with a zero maximum no encoder instruction is ever sent.
    void apply_peer_settings(uint64_t max_table_capacity, uint64_t max_blocked_streams);

    // Encodes one field section sent on stream_id (a HEADERS or PUSH_PROMISE payload).
    // Instructions it needs are queued for take_encoder_stream_data().
    Bytes encode_field_section(uint64_t stream_id, std::span<const Field> fields);

    // Encoder-stream bytes to send, in order.
    Bytes take_encoder_stream_data() { return std::exchange(encoder_stream_, {}); }
    bool has_encoder_stream_data() const { return !encoder_stream_.empty(); }

    // Bytes of the peer's decoder stream (§4.4), in order, in pieces of any size. Errors are
    // QPACK_DECODER_STREAM_ERROR connection errors (§4.4.1, §4.4.3, §6).
    Status on_decoder_stream_data(ByteSpan data);

    uint64_t known_received_count() const { return known_received_count_; }
    uint64_t insert_count() const { return table_.insert_count(); }
    // Streams with an unacknowledged section that may be blocked at the decoder (§2.1.2).
    size_t blocking_stream_count() const;
    const QpackDynamicTable& table() const { return table_; }

  private:
    struct Section {
        uint64_t required_insert_count;
        std::vector<uint64_t> references;  // absolute indices, one per reference
    };

    bool stream_may_block(uint64_t stream_id) const;
    uint64_t draining_index() const;
    bool evictable(uint64_t absolute_index) const;
    std::optional<uint64_t> insert(const Field& f, std::optional<uint64_t> static_name);
    void release(const Section& s);

    QpackEncoderOptions options_;
    QpackDynamicTable table_;
    std::deque<uint32_t> refs_;  // outstanding references per live entry, oldest first
    uint64_t max_entries_ = 0;   // of the peer's maximum capacity, for §4.5.1.1
    uint64_t max_blocked_streams_ = 0;
    uint64_t known_received_count_ = 0;
    std::unordered_map<uint64_t, std::deque<Section>> unacked_;  // stream ID -> sections
    Bytes encoder_stream_;
    Bytes decoder_stream_buffer_;  // an incomplete instruction
    // A section's field lines before its prefix (which depends on them) is known: kept, so
    // that a section costs one allocation, its own.
    Bytes lines_;
};

}  // namespace quic::h3
