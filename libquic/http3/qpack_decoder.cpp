#include "http3/qpack_decoder.h"

#include <algorithm>
#include <string>
#include <utility>

#include "http3/limits.h"
#include "http3/qpack_instructions.h"
#include "http3/qpack_static_table.h"
#include "quic/http3/error.h"

namespace quic::h3 {
namespace {

Error decompression_failed(std::string why) {
    return h3_error(H3Error::kQpackDecompressionFailed, std::move(why));
}
Error encoder_stream_error(std::string why) {
    return h3_error(H3Error::kQpackEncoderStreamError, std::move(why));
}

}  // namespace

QpackDecoder::QpackDecoder(QpackDecoderOptions options) : options_(options) {
    if (options_.max_encoder_stream_buffer == 0) {
        options_.max_encoder_stream_buffer =
            static_cast<size_t>(std::min<uint64_t>(options_.max_table_capacity, uint64_t{1} << 40) *
                                4) +
            kQpackInstructionOverhead;
    }
}

Status QpackDecoder::on_encoder_stream_data(ByteSpan data) {
    if (encoder_stream_buffer_.empty()) {
        ByteReader r(data);
        QUIC_TRY(apply_instruction_bytes(r));
        encoder_stream_buffer_.assign(r.rest().begin(), r.rest().end());
    } else {
        encoder_stream_buffer_.insert(encoder_stream_buffer_.end(), data.begin(), data.end());
        ByteReader r(encoder_stream_buffer_);
        QUIC_TRY(apply_instruction_bytes(r));
        encoder_stream_buffer_.erase(
            encoder_stream_buffer_.begin(),
            encoder_stream_buffer_.begin() + static_cast<ptrdiff_t>(r.position()));
    }
    if (encoder_stream_buffer_.size() > options_.max_encoder_stream_buffer)
        return encoder_stream_error("encoder instruction exceeds the buffering cap");
    note_inserts();
    return {};
}

Status QpackDecoder::apply_instruction_bytes(ByteReader& r) {
    while (!r.empty()) {
        // No string can be longer than what could fit the table: an entry is at most the
        // capacity (§3.2.2), and Huffman codes are at most 30 bits per octet (RFC 7541 App. B).
        const uint64_t max_string = table_.capacity() * 30 / 8 + 1;
        EncoderInstruction inst;
        const ReadStatus st = parse_encoder_instruction(r, max_string, inst);
        if (st == ReadStatus::kIncomplete) return {};
        if (st == ReadStatus::kError)
            return encoder_stream_error("malformed encoder instruction or oversized string");

        if (auto* cap = std::get_if<SetDynamicTableCapacity>(&inst)) {
            // §4.3.1: above our SETTINGS_QPACK_MAX_TABLE_CAPACITY is an error.
            if (cap->capacity > options_.max_table_capacity)
                return encoder_stream_error("dynamic table capacity above the maximum");
            table_.set_capacity(cap->capacity);
            continue;
        }

        std::string name, value;
        if (auto* ins = std::get_if<InsertWithNameReference>(&inst)) {
            if (ins->is_static) {
                // §3.1: an invalid static index on the encoder stream.
                if (ins->name_index >= kStaticTableSize)
                    return encoder_stream_error("invalid static table index");
                name = std::string(static_table()[ins->name_index].name);
            } else {
                // §3.2.5: relative to the newest entry; §2.2.3: evicted is an error.
                const QpackDynamicTable::Entry* e =
                    ins->name_index < table_.insert_count()
                        ? table_.at(table_.insert_count() - 1 - ins->name_index)
                        : nullptr;
                if (!e) return encoder_stream_error("name reference to a missing entry");
                name = e->name;
            }
            value = std::move(ins->value);
        } else if (auto* lit = std::get_if<InsertWithLiteralName>(&inst)) {
            name = std::move(lit->name);
            value = std::move(lit->value);
        } else {
            const uint64_t index = std::get<Duplicate>(inst).index;
            const QpackDynamicTable::Entry* e = index < table_.insert_count()
                                                    ? table_.at(table_.insert_count() - 1 - index)
                                                    : nullptr;
            if (!e) return encoder_stream_error("duplicate of a missing entry");
            name = e->name;
            value = e->value;
        }
        // §3.2.2: an entry larger than the capacity is an error.
        if (entry_size(name.size(), value.size()) > table_.capacity())
            return encoder_stream_error("entry larger than the dynamic table capacity");
        table_.insert(std::move(name), std::move(value));
    }
    return {};
}

void QpackDecoder::note_inserts() {
    for (auto it = blocked_.begin(); it != blocked_.end();) {
        if (it->second <= table_.insert_count()) {
            unblocked_.push_back(it->first);
            it = blocked_.erase(it);
        } else {
            ++it;
        }
    }
}

Result<DecodedFieldSection> QpackDecoder::decode(uint64_t stream_id, ByteSpan encoded_section) {
    ByteReader r(encoded_section);
    FieldSectionPrefix prefix;
    if (parse_field_section_prefix(r, prefix) != ReadStatus::kOk)
        return decompression_failed("malformed field section prefix");

    const auto ric = decode_required_insert_count(prefix.encoded_insert_count,
                                                  max_entries(options_.max_table_capacity),
                                                  table_.insert_count());
    if (!ric) return decompression_failed("invalid Required Insert Count");
    uint64_t base;
    if (prefix.sign) {
        // §4.5.1.2: a negative Base is invalid.
        if (*ric <= prefix.delta_base) return decompression_failed("negative Base");
        base = *ric - prefix.delta_base - 1;
    } else {
        base = *ric + prefix.delta_base;  // both below 2^63: no wrap
    }

    DecodedFieldSection out;
    out.required_insert_count = *ric;

    if (*ric > table_.insert_count()) {
        // §2.2.1: blocked. A stream already blocked (a retry before it was unblocked) does
        // not count twice.
        if (!blocked_.count(stream_id) && blocked_.size() >= options_.max_blocked_streams)
            return decompression_failed("more blocked streams than SETTINGS_QPACK_BLOCKED_STREAMS");
        blocked_[stream_id] = *ric;
        out.status = DecodedFieldSection::Status::kBlocked;
        return out;
    }
    blocked_.erase(stream_id);
    std::erase(unblocked_, stream_id);

    // §2.2.3: a dynamic reference must be below the Required Insert Count and still in the
    // table.
    auto dynamic_entry = [&](uint64_t absolute) -> const QpackDynamicTable::Entry* {
        if (absolute >= *ric) return nullptr;
        return table_.at(absolute);
    };
    auto relative = [&](uint64_t index) -> const QpackDynamicTable::Entry* {
        return index < base ? dynamic_entry(base - 1 - index) : nullptr;
    };
    auto post_base = [&](uint64_t index) -> const QpackDynamicTable::Entry* {
        return dynamic_entry(base + index);  // base, index < 2^63: no wrap
    };
    auto static_entry = [](uint64_t index) -> const StaticEntry* {
        return index < kStaticTableSize ? &static_table()[index] : nullptr;
    };

    uint64_t total = 0;
    bool too_large = false;
    while (!r.empty()) {
        FieldLineRepresentation rep;
        if (parse_field_line(r, rep) != ReadStatus::kOk)
            return decompression_failed("malformed field line");
        std::string_view name, value;
        std::string literal_value, literal_name;
        bool never_index = false;
        if (auto* idx = std::get_if<IndexedFieldLine>(&rep)) {
            if (idx->is_static) {
                const StaticEntry* e = static_entry(idx->index);
                if (!e) return decompression_failed("invalid static table index");
                name = e->name;
                value = e->value;
            } else {
                const QpackDynamicTable::Entry* e = relative(idx->index);
                if (!e) return decompression_failed("invalid dynamic table reference");
                name = e->name;
                value = e->value;
            }
        } else if (auto* pb = std::get_if<IndexedFieldLinePostBase>(&rep)) {
            const QpackDynamicTable::Entry* e = post_base(pb->index);
            if (!e) return decompression_failed("invalid post-base reference");
            name = e->name;
            value = e->value;
        } else if (auto* lit = std::get_if<LiteralWithNameReference>(&rep)) {
            if (lit->is_static) {
                const StaticEntry* e = static_entry(lit->name_index);
                if (!e) return decompression_failed("invalid static table index");
                name = e->name;
            } else {
                const QpackDynamicTable::Entry* e = relative(lit->name_index);
                if (!e) return decompression_failed("invalid dynamic name reference");
                name = e->name;
            }
            literal_value = std::move(lit->value);
            value = literal_value;
            never_index = lit->never_index;
        } else if (auto* lpb = std::get_if<LiteralWithPostBaseNameReference>(&rep)) {
            const QpackDynamicTable::Entry* e = post_base(lpb->name_index);
            if (!e) return decompression_failed("invalid post-base name reference");
            name = e->name;
            literal_value = std::move(lpb->value);
            value = literal_value;
            never_index = lpb->never_index;
        } else {
            auto& ll = std::get<LiteralWithLiteralName>(rep);
            literal_name = std::move(ll.name);
            literal_value = std::move(ll.value);
            name = literal_name;
            value = literal_value;
            never_index = ll.never_index;
        }
        // RFC 9114 §4.2.2 size, checked before copying: a small section referencing a large
        // entry many times must fail here, not after materialising every copy.
        total += entry_size(name.size(), value.size());
        if (total > options_.max_field_section_size) {
            too_large = true;
            break;
        }
        out.fields.push_back(Field{std::string(name), std::string(value), never_index});
    }

    // §4.4.1: acknowledge a section that referenced the dynamic table once we are done with
    // it. A too-large section is done with too: no reference of it stays outstanding, and the
    // acknowledgment lets the encoder release them (the stream itself may well continue).
    if (*ric > 0) {
        encode_decoder_instruction(decoder_stream_, SectionAcknowledgment{stream_id});
        known_received_count_ = std::max(known_received_count_, *ric);
    }
    if (too_large) {
        out.fields.clear();
        out.status = DecodedFieldSection::Status::kTooLarge;
    }
    return out;
}

std::vector<uint64_t> QpackDecoder::take_unblocked_streams() {
    return std::exchange(unblocked_, {});
}

void QpackDecoder::cancel_stream(uint64_t stream_id) {
    blocked_.erase(stream_id);
    std::erase(unblocked_, stream_id);
    if (options_.max_table_capacity > 0)
        encode_decoder_instruction(decoder_stream_, StreamCancellation{stream_id});
}

Bytes QpackDecoder::take_decoder_stream_data() {
    if (table_.insert_count() > known_received_count_) {
        encode_decoder_instruction(
            decoder_stream_, InsertCountIncrement{table_.insert_count() - known_received_count_});
        known_received_count_ = table_.insert_count();
    }
    return std::exchange(decoder_stream_, {});
}

}  // namespace quic::h3
