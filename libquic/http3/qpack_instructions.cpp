#include "http3/qpack_instructions.h"
#include "quic/overloaded.h"

#include "http3/qpack_string.h"

namespace quic::h3 {
namespace {

// Chains the reads of one multi-part instruction: the first non-kOk status sticks, and
// later reads are skipped.
struct Chain {
    ByteReader& r;
    ReadStatus status = ReadStatus::kOk;

    Chain& integer(int prefix_bits, uint64_t& out) {
        if (status == ReadStatus::kOk) status = decode_prefix_int(r, prefix_bits, out);
        return *this;
    }
    Chain& string(int prefix_bits, uint64_t max_length, std::string& out) {
        if (status == ReadStatus::kOk)
            status = decode_string_literal(r, prefix_bits, max_length, out);
        return *this;
    }
};

// Runs a parse over a probe of r and consumes from r only when the whole item parsed, so an
// incomplete instruction can be retried from its start once more bytes arrive.
template <class F>
ReadStatus parse_atomically(ByteReader& r, F&& parse) {
    ByteReader probe(r.rest());
    const ReadStatus st = parse(probe);
    if (st == ReadStatus::kOk) r.skip(probe.position());
    return st;
}

}  // namespace

void encode_encoder_instruction(Bytes& out, const EncoderInstruction& inst, bool huffman) {
    std::visit(
        Overloaded{
            [&](const SetDynamicTableCapacity& i) { encode_prefix_int(out, 0x20, 5, i.capacity); },
            [&](const InsertWithNameReference& i) {
                encode_prefix_int(out, i.is_static ? 0xc0 : 0x80, 6, i.name_index);
                encode_string_literal(out, 0x00, 8, i.value, huffman);
            },
            [&](const InsertWithLiteralName& i) {
                encode_string_literal(out, 0x40, 6, i.name, huffman);
                encode_string_literal(out, 0x00, 8, i.value, huffman);
            },
            [&](const Duplicate& i) { encode_prefix_int(out, 0x00, 5, i.index); },
        },
        inst);
}

ReadStatus parse_encoder_instruction(ByteReader& r, uint64_t max_string_length,
                                     EncoderInstruction& out) {
    return parse_atomically(r, [&](ByteReader& p) {
        uint8_t first;
        if (!p.peek_u8(first)) return ReadStatus::kIncomplete;
        Chain c{p};
        if (first & 0x80) {  // 1T: Insert with Name Reference
            InsertWithNameReference i;
            i.is_static = first & 0x40;
            c.integer(6, i.name_index).string(8, max_string_length, i.value);
            if (c.status == ReadStatus::kOk) out = std::move(i);
        } else if (first & 0x40) {  // 01: Insert with Literal Name
            InsertWithLiteralName i;
            c.string(6, max_string_length, i.name).string(8, max_string_length, i.value);
            if (c.status == ReadStatus::kOk) out = std::move(i);
        } else if (first & 0x20) {  // 001: Set Dynamic Table Capacity
            SetDynamicTableCapacity i;
            c.integer(5, i.capacity);
            if (c.status == ReadStatus::kOk) out = i;
        } else {  // 000: Duplicate
            Duplicate i;
            c.integer(5, i.index);
            if (c.status == ReadStatus::kOk) out = i;
        }
        return c.status;
    });
}

void encode_decoder_instruction(Bytes& out, const DecoderInstruction& inst) {
    std::visit(
        Overloaded{
            [&](const SectionAcknowledgment& i) { encode_prefix_int(out, 0x80, 7, i.stream_id); },
            [&](const StreamCancellation& i) { encode_prefix_int(out, 0x40, 6, i.stream_id); },
            [&](const InsertCountIncrement& i) { encode_prefix_int(out, 0x00, 6, i.increment); },
        },
        inst);
}

ReadStatus parse_decoder_instruction(ByteReader& r, DecoderInstruction& out) {
    uint8_t first;
    if (!r.peek_u8(first)) return ReadStatus::kIncomplete;
    uint64_t v;
    ReadStatus st;
    if (first & 0x80) {
        st = decode_prefix_int(r, 7, v);
        if (st == ReadStatus::kOk) out = SectionAcknowledgment{v};
    } else if (first & 0x40) {
        st = decode_prefix_int(r, 6, v);
        if (st == ReadStatus::kOk) out = StreamCancellation{v};
    } else {
        st = decode_prefix_int(r, 6, v);
        if (st == ReadStatus::kOk) out = InsertCountIncrement{v};
    }
    return st;
}

std::optional<uint64_t> decode_required_insert_count(uint64_t encoded_insert_count,
                                                     uint64_t max_entries, uint64_t total_inserts) {
    // §4.5.1.1, the decoder's algorithm, step by step.
    if (encoded_insert_count == 0) return 0;
    const uint64_t full_range = 2 * max_entries;
    if (encoded_insert_count > full_range) return std::nullopt;
    const uint64_t max_value = total_inserts + max_entries;
    const uint64_t max_wrapped = (max_value / full_range) * full_range;
    uint64_t ric = max_wrapped + encoded_insert_count - 1;
    if (ric > max_value) {
        if (ric <= full_range) return std::nullopt;
        ric -= full_range;
    }
    if (ric == 0) return std::nullopt;
    return ric;
}

void encode_field_section_prefix(Bytes& out, uint64_t required_insert_count, uint64_t base,
                                 uint64_t max_entries) {
    encode_prefix_int(out, 0x00, 8,
                      encode_required_insert_count(required_insert_count, max_entries));
    // §4.5.1.2: sign 0 when Base >= RIC (Delta Base = Base - RIC), else sign 1 with
    // Delta Base = RIC - Base - 1.
    if (base >= required_insert_count) {
        encode_prefix_int(out, 0x00, 7, base - required_insert_count);
    } else {
        encode_prefix_int(out, 0x80, 7, required_insert_count - base - 1);
    }
}

ReadStatus parse_field_section_prefix(ByteReader& r, FieldSectionPrefix& out) {
    return parse_atomically(r, [&](ByteReader& p) {
        FieldSectionPrefix f;
        Chain c{p};
        c.integer(8, f.encoded_insert_count);
        uint8_t b;
        if (c.status == ReadStatus::kOk && !p.peek_u8(b)) return ReadStatus::kIncomplete;
        if (c.status == ReadStatus::kOk) f.sign = b & 0x80;
        c.integer(7, f.delta_base);
        if (c.status == ReadStatus::kOk) out = f;
        return c.status;
    });
}

void encode_field_line(Bytes& out, const FieldLineRepresentation& rep, bool huffman) {
    std::visit(
        Overloaded{
            [&](const IndexedFieldLine& i) {
                encode_prefix_int(out, i.is_static ? 0xc0 : 0x80, 6, i.index);
            },
            [&](const IndexedFieldLinePostBase& i) { encode_prefix_int(out, 0x10, 4, i.index); },
            [&](const LiteralWithNameReference& i) {
                const uint8_t first = 0x40 | (i.never_index ? 0x20 : 0) | (i.is_static ? 0x10 : 0);
                encode_prefix_int(out, first, 4, i.name_index);
                encode_string_literal(out, 0x00, 8, i.value, huffman);
            },
            [&](const LiteralWithPostBaseNameReference& i) {
                encode_prefix_int(out, i.never_index ? 0x08 : 0x00, 3, i.name_index);
                encode_string_literal(out, 0x00, 8, i.value, huffman);
            },
            [&](const LiteralWithLiteralName& i) {
                encode_string_literal(out, i.never_index ? 0x30 : 0x20, 4, i.name, huffman);
                encode_string_literal(out, 0x00, 8, i.value, huffman);
            },
        },
        rep);
}

ReadStatus parse_field_line(ByteReader& r, FieldLineRepresentation& out) {
    return parse_atomically(r, [&](ByteReader& p) {
        uint8_t first;
        if (!p.peek_u8(first)) return ReadStatus::kIncomplete;
        // A whole field section is at hand, so no string can be longer than what is left.
        const uint64_t max_len = p.remaining();
        Chain c{p};
        if (first & 0x80) {  // 1T: Indexed Field Line
            IndexedFieldLine i;
            i.is_static = first & 0x40;
            c.integer(6, i.index);
            if (c.status == ReadStatus::kOk) out = i;
        } else if (first & 0x40) {  // 01NT: Literal with Name Reference
            LiteralWithNameReference i;
            i.never_index = first & 0x20;
            i.is_static = first & 0x10;
            c.integer(4, i.name_index).string(8, max_len, i.value);
            if (c.status == ReadStatus::kOk) out = std::move(i);
        } else if (first & 0x20) {  // 001N: Literal with Literal Name
            LiteralWithLiteralName i;
            i.never_index = first & 0x10;
            c.string(4, max_len, i.name).string(8, max_len, i.value);
            if (c.status == ReadStatus::kOk) out = std::move(i);
        } else if (first & 0x10) {  // 0001: Indexed Field Line with Post-Base Index
            IndexedFieldLinePostBase i;
            c.integer(4, i.index);
            if (c.status == ReadStatus::kOk) out = i;
        } else {  // 0000N: Literal with Post-Base Name Reference
            LiteralWithPostBaseNameReference i;
            i.never_index = first & 0x08;
            c.integer(3, i.name_index).string(8, max_len, i.value);
            if (c.status == ReadStatus::kOk) out = std::move(i);
        }
        return c.status;
    });
}

}  // namespace quic::h3
