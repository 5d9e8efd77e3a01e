// QPACK wire formats (RFC 9204 §4.3-§4.5): encoder instructions, decoder instructions, the
// encoded field section prefix and the field line representations, as plain structs with an
// encoder and an incremental parser each. Indices are as on the wire (static, relative or
// post-base); resolving them against a table is the QpackEncoder's and QpackDecoder's job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "http3/qpack_integer.h"
#include "quic/bytes.h"

namespace quic::h3 {

// --- Encoder instructions, §4.3 ---------------------------------------------------------

struct SetDynamicTableCapacity {  // §4.3.1: 001 + capacity (5+)
    uint64_t capacity = 0;
    bool operator==(const SetDynamicTableCapacity&) const = default;
};
struct InsertWithNameReference {  // §4.3.2: 1 T + name index (6+), value (8+ string)
    bool is_static = false;
    uint64_t name_index = 0;  // static index, or relative index (§3.2.5: 0 = newest entry)
    std::string value;
    bool operator==(const InsertWithNameReference&) const = default;
};
struct InsertWithLiteralName {  // §4.3.3: 01 + name (6+ string), value (8+ string)
    std::string name;
    std::string value;
    bool operator==(const InsertWithLiteralName&) const = default;
};
struct Duplicate {  // §4.3.4: 000 + relative index (5+)
    uint64_t index = 0;
    bool operator==(const Duplicate&) const = default;
};
using EncoderInstruction = std::variant<SetDynamicTableCapacity, InsertWithNameReference,
                                        InsertWithLiteralName, Duplicate>;

void encode_encoder_instruction(Bytes& out, const EncoderInstruction& inst, bool huffman = true);

// Parses one instruction from the front of r. Strings whose encoded length exceeds
// max_string_length are kError as soon as their length is read (the caller passes what could
// still fit the table, bounding what an incomplete instruction makes it buffer).
ReadStatus parse_encoder_instruction(ByteReader& r, uint64_t max_string_length,
                                     EncoderInstruction& out);

// --- Decoder instructions, §4.4 ---------------------------------------------------------

struct SectionAcknowledgment {  // §4.4.1: 1 + stream ID (7+)
    uint64_t stream_id = 0;
    bool operator==(const SectionAcknowledgment&) const = default;
};
struct StreamCancellation {  // §4.4.2: 01 + stream ID (6+)
    uint64_t stream_id = 0;
    bool operator==(const StreamCancellation&) const = default;
};
struct InsertCountIncrement {  // §4.4.3: 00 + increment (6+)
    uint64_t increment = 0;
    bool operator==(const InsertCountIncrement&) const = default;
};
using DecoderInstruction =
    std::variant<SectionAcknowledgment, StreamCancellation, InsertCountIncrement>;

void encode_decoder_instruction(Bytes& out, const DecoderInstruction& inst);
ReadStatus parse_decoder_instruction(ByteReader& r, DecoderInstruction& out);

// --- Encoded field section prefix, §4.5.1 -----------------------------------------------

// MaxEntries of §4.5.1.1: the most entries a table of the decoder's maximum capacity can hold.
constexpr uint64_t max_entries(uint64_t max_table_capacity) {
    return max_table_capacity / 32;
}

// §4.5.1.1: the Encoded Insert Count for a Required Insert Count.
constexpr uint64_t encode_required_insert_count(uint64_t required_insert_count,
                                                uint64_t max_entries) {
    if (required_insert_count == 0) return 0;
    return required_insert_count % (2 * max_entries) + 1;
}

// §4.5.1.1: the Required Insert Count from its encoding and the decoder's total number of
// inserts; nullopt for a value no conformant encoder could have produced.
std::optional<uint64_t> decode_required_insert_count(uint64_t encoded_insert_count,
                                                     uint64_t max_entries, uint64_t total_inserts);

// §4.5.1: Required Insert Count (8+), then the sign bit and Delta Base (7+) giving `base`.
void encode_field_section_prefix(Bytes& out, uint64_t required_insert_count, uint64_t base,
                                 uint64_t max_entries);

struct FieldSectionPrefix {
    uint64_t encoded_insert_count = 0;
    bool sign = false;  // Base = RIC - Delta Base - 1 when set, RIC + Delta Base otherwise
    uint64_t delta_base = 0;
};
ReadStatus parse_field_section_prefix(ByteReader& r, FieldSectionPrefix& out);

// --- Field line representations, §4.5.2-§4.5.6 ------------------------------------------

struct IndexedFieldLine {  // §4.5.2: 1 T + index (6+)
    bool is_static = false;
    uint64_t index = 0;  // static index, or relative to Base (0 = Base - 1)
    bool operator==(const IndexedFieldLine&) const = default;
};
struct IndexedFieldLinePostBase {  // §4.5.3: 0001 + post-base index (4+)
    uint64_t index = 0;
    bool operator==(const IndexedFieldLinePostBase&) const = default;
};
struct LiteralWithNameReference {  // §4.5.4: 01 N T + name index (4+), value (8+ string)
    bool never_index = false;
    bool is_static = false;
    uint64_t name_index = 0;
    std::string value;
    bool operator==(const LiteralWithNameReference&) const = default;
};
struct LiteralWithPostBaseNameReference {  // §4.5.5: 0000 N + post-base index (3+), value
    bool never_index = false;
    uint64_t name_index = 0;
    std::string value;
    bool operator==(const LiteralWithPostBaseNameReference&) const = default;
};
struct LiteralWithLiteralName {  // §4.5.6: 001 N + name (4+ string), value (8+ string)
    bool never_index = false;
    std::string name;
    std::string value;
    bool operator==(const LiteralWithLiteralName&) const = default;
};
using FieldLineRepresentation =
    std::variant<IndexedFieldLine, IndexedFieldLinePostBase, LiteralWithNameReference,
                 LiteralWithPostBaseNameReference, LiteralWithLiteralName>;

void encode_field_line(Bytes& out, const FieldLineRepresentation& rep, bool huffman = true);
ReadStatus parse_field_line(ByteReader& r, FieldLineRepresentation& out);

}  // namespace quic::h3
