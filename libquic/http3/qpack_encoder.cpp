#include "http3/qpack_encoder.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "http3/limits.h"
#include "http3/qpack_instructions.h"
#include "http3/qpack_static_table.h"
#include "quic/http3/error.h"

namespace quic::h3 {
namespace {

// Headers whose values are (nearly) unique per message: inserting them would only evict
// entries that do repeat (RFC 9204 §2.1.1 leaves the choice to the encoder).
constexpr std::string_view kUniqueValueNames[] = {
    ":path",         "content-length",    "date",          "age",   "etag",    "last-modified",
    "if-none-match", "if-modified-since", "content-range", "range", "expires", "x-request-id",
};

bool likely_to_repeat(const Field& f) {
    if (f.never_index) return false;
    return std::find(std::begin(kUniqueValueNames), std::end(kUniqueValueNames), f.name) ==
           std::end(kUniqueValueNames);
}

Error decoder_stream_error(std::string why) {
    return h3_error(H3Error::kQpackDecoderStreamError, std::move(why));
}

}  // namespace

QpackEncoder::QpackEncoder(QpackEncoderOptions options) : options_(options) {}

void QpackEncoder::apply_peer_settings(uint64_t max_table_capacity, uint64_t max_blocked_streams) {
    max_entries_ = max_entries(max_table_capacity);
    max_blocked_streams_ = max_blocked_streams;
    const uint64_t capacity = std::min(max_table_capacity, options_.max_table_capacity);
    // §3.2.3: with a maximum of zero, no encoder instruction at all.
    if (capacity == 0 || capacity == table_.capacity()) return;
    table_.set_capacity(capacity);
    encode_encoder_instruction(encoder_stream_, SetDynamicTableCapacity{capacity});
}

bool QpackEncoder::stream_may_block(uint64_t stream_id) const {
    auto it = unacked_.find(stream_id);
    if (it == unacked_.end()) return false;
    for (const Section& s : it->second)
        if (s.required_insert_count > known_received_count_) return true;
    return false;
}

size_t QpackEncoder::blocking_stream_count() const {
    size_t n = 0;
    for (const auto& [id, sections] : unacked_) n += stream_may_block(id) ? 1 : 0;
    return n;
}

uint64_t QpackEncoder::draining_index() const {
    // §2.1.1.1: keep a quarter of the capacity either free or held by entries we no longer
    // reference, so that inserting rarely finds the oldest entries pinned.
    const uint64_t target_free = table_.capacity() / 4;
    uint64_t free = table_.capacity() - table_.size();
    uint64_t index = table_.first_index();
    while (free < target_free && index < table_.insert_count()) {
        free += table_.at(index)->size();
        ++index;
    }
    return index;
}

bool QpackEncoder::evictable(uint64_t absolute_index) const {
    // §2.1.1: acknowledged, and no reference in an unacknowledged section.
    return absolute_index < known_received_count_ &&
           refs_[static_cast<size_t>(absolute_index - table_.first_index())] == 0;
}

std::optional<uint64_t> QpackEncoder::insert(const Field& f, std::optional<uint64_t> static_name) {
    const uint64_t size = entry_size(f.name.size(), f.value.size());
    if (size > table_.capacity() / 2) return std::nullopt;
    const auto evictions = table_.evictions_needed(size);
    if (!evictions) return std::nullopt;
    // §2.1.1: MUST NOT evict an entry that is not evictable.
    for (size_t i = 0; i < *evictions; ++i)
        if (!evictable(table_.first_index() + i)) return std::nullopt;

    // Relative indices on the encoder stream count back from the newest entry (§3.2.5).
    const uint64_t newest = table_.insert_count() - 1;
    if (auto same = table_.find(f.name, f.value)) {
        encode_encoder_instruction(encoder_stream_, Duplicate{newest - *same}, options_.huffman);
    } else if (static_name) {
        encode_encoder_instruction(encoder_stream_,
                                   InsertWithNameReference{true, *static_name, f.value},
                                   options_.huffman);
    } else if (auto name = table_.find_name(f.name)) {
        // References on the encoder stream never block (§2.1.1), any live entry will do.
        encode_encoder_instruction(encoder_stream_,
                                   InsertWithNameReference{false, newest - *name, f.value},
                                   options_.huffman);
    } else {
        encode_encoder_instruction(encoder_stream_, InsertWithLiteralName{f.name, f.value},
                                   options_.huffman);
    }
    const uint64_t index = table_.insert(f.name, f.value);
    refs_.push_back(0);
    while (refs_.size() > table_.entry_count()) refs_.pop_front();
    return index;
}

Bytes QpackEncoder::encode_field_section(uint64_t stream_id, std::span<const Field> fields) {
    // A single pass (RFC 9204 Appendix C): Base is the insert count before this section, so
    // entries inserted for it are referenced with post-base indices.
    const uint64_t base = table_.insert_count();
    // Looked up, not created: a std::deque allocates even when empty, and most sections
    // reference no dynamic entry (three allocations and frees per response otherwise).
    const auto unacked = unacked_.find(stream_id);
    const size_t pending = unacked == unacked_.end() ? 0 : unacked->second.size();
    const bool use_dynamic = table_.capacity() > 0 && pending < kMaxUnackedSectionsPerStream;
    // §2.1.2: referencing an unacknowledged entry may block this stream; allowed if it may
    // block already, or if one more blocked stream stays within the peer's limit.
    const bool may_block =
        stream_may_block(stream_id) || blocking_stream_count() < max_blocked_streams_;
    const uint64_t drain = use_dynamic ? draining_index() : 0;

    Section section{0, {}};
    Bytes& lines = lines_;
    lines.clear();
    auto referenceable = [&](uint64_t abs) {
        return abs >= drain && (abs < known_received_count_ || may_block);
    };
    auto reference = [&](uint64_t abs) {
        section.references.push_back(abs);
        ++refs_[static_cast<size_t>(abs - table_.first_index())];
        section.required_insert_count = std::max(section.required_insert_count, abs + 1);
    };

    for (const Field& f : fields) {
        const StaticMatch sm = find_static(f.name, f.value);
        if (sm.exact && !f.never_index) {
            encode_field_line(lines, IndexedFieldLine{true, *sm.exact}, options_.huffman);
            continue;
        }
        if (use_dynamic && !f.never_index) {
            const std::optional<uint64_t> match = table_.find(f.name, f.value, drain);
            std::optional<uint64_t> abs;
            if (match) {
                // An entry still in flight that this stream may not wait for: a literal now;
                // inserting it again would not help.
                if (referenceable(*match)) abs = match;
            } else if (likely_to_repeat(f)) {
                abs = insert(f, sm.name);  // a Duplicate when only a draining copy exists
                if (abs && !referenceable(*abs)) abs.reset();  // inserted for later sections
            }
            if (abs) {
                reference(*abs);
                if (*abs < base) {
                    encode_field_line(lines, IndexedFieldLine{false, base - 1 - *abs});
                } else {
                    encode_field_line(lines, IndexedFieldLinePostBase{*abs - base});
                }
                continue;
            }
        }
        // A literal. The N bit makes every later hop keep it a literal too (§4.5.4).
        if (sm.name) {
            encode_field_line(lines,
                              LiteralWithNameReference{f.never_index, true, *sm.name, f.value},
                              options_.huffman);
            continue;
        }
        if (use_dynamic) {
            std::optional<uint64_t> name = table_.find_name(f.name, drain);
            if (name && referenceable(*name)) {
                reference(*name);
                if (*name < base) {
                    encode_field_line(
                        lines,
                        LiteralWithNameReference{f.never_index, false, base - 1 - *name, f.value},
                        options_.huffman);
                } else {
                    encode_field_line(
                        lines,
                        LiteralWithPostBaseNameReference{f.never_index, *name - base, f.value},
                        options_.huffman);
                }
                continue;
            }
        }
        encode_field_line(lines, LiteralWithLiteralName{f.never_index, f.name, f.value},
                          options_.huffman);
    }

    Bytes out;
    out.reserve(lines.size() + 20);  // the prefix: two prefixed integers, 10 bytes at most each
    encode_field_section_prefix(out, section.required_insert_count, base, max_entries_);
    out.insert(out.end(), lines.begin(), lines.end());
    // Only sections that reference the dynamic table are acknowledged (§4.4.1).
    if (section.required_insert_count > 0) unacked_[stream_id].push_back(std::move(section));
    return out;
}

void QpackEncoder::release(const Section& s) {
    for (uint64_t abs : s.references) --refs_[static_cast<size_t>(abs - table_.first_index())];
}

Status QpackEncoder::on_decoder_stream_data(ByteSpan data) {
    decoder_stream_buffer_.insert(decoder_stream_buffer_.end(), data.begin(), data.end());
    ByteReader r(decoder_stream_buffer_);
    while (!r.empty()) {
        DecoderInstruction inst;
        const ReadStatus st = parse_decoder_instruction(r, inst);
        if (st == ReadStatus::kIncomplete) break;
        if (st == ReadStatus::kError) return decoder_stream_error("malformed decoder instruction");
        if (auto* ack = std::get_if<SectionAcknowledgment>(&inst)) {
            // §4.4.1: acknowledges the oldest unacknowledged section of the stream; with none
            // outstanding it is an error.
            auto it = unacked_.find(ack->stream_id);
            if (it == unacked_.end() || it->second.empty())
                return decoder_stream_error("section acknowledgment for no outstanding section");
            const Section s = std::move(it->second.front());
            it->second.pop_front();
            if (it->second.empty()) unacked_.erase(it);
            release(s);
            // §2.1.4: the section's Required Insert Count is now known to the decoder.
            known_received_count_ = std::max(known_received_count_, s.required_insert_count);
        } else if (auto* cancel = std::get_if<StreamCancellation>(&inst)) {
            // §4.4.2: all references on the stream are released; nothing is acknowledged.
            auto it = unacked_.find(cancel->stream_id);
            if (it != unacked_.end()) {
                for (const Section& s : it->second) release(s);
                unacked_.erase(it);
            }
        } else {
            const uint64_t inc = std::get<InsertCountIncrement>(inst).increment;
            // §4.4.3: zero, or beyond what we have sent, is an error.
            if (inc == 0 || inc > table_.insert_count() - known_received_count_)
                return decoder_stream_error("invalid Insert Count Increment");
            known_received_count_ += inc;
        }
    }
    decoder_stream_buffer_.erase(
        decoder_stream_buffer_.begin(),
        decoder_stream_buffer_.begin() + static_cast<ptrdiff_t>(r.position()));
    return {};
}

}  // namespace quic::h3
