// The public wire-level layer (quic/http3/wire.h) over the internal frame codec and QPACK.
#include "quic/http3/wire.h"

#include "http3/frame.h"
#include "http3/qpack_decoder.h"
#include "http3/qpack_encoder.h"
#include "http3/stream_types.h"
#include "http3/varint_reader.h"
#include "quic/overloaded.h"

namespace quic::h3::wire {

void append_varint(Bytes& out, uint64_t value) {
    h3::append_varint(out, value);
}

void append_frame(Bytes& out, uint64_t type, ByteSpan payload, std::optional<uint64_t> length) {
    encode_frame_header(out, type, length.value_or(payload.size()));
    out.insert(out.end(), payload.begin(), payload.end());
}

Bytes settings_payload(std::span<const Setting> settings) {
    Bytes out;
    for (const Setting& s : settings) {
        h3::append_varint(out, s.id);
        h3::append_varint(out, s.value);
    }
    return out;
}

Bytes varint_payload(uint64_t value) {
    Bytes out;
    h3::append_varint(out, value);
    return out;
}

Bytes stream_header(uint64_t type, std::optional<uint64_t> push_id) {
    Bytes out;
    encode_uni_stream_header(out, type, push_id);
    return out;
}

Bytes encode_field_section(std::span<const Field> fields, bool huffman) {
    // An encoder whose peer never allowed a dynamic table (capacity 0, RFC 9204 §3.2.3) uses
    // the static table and literals only, so the stream ID does not matter.
    QpackEncoder encoder(QpackEncoderOptions{0, huffman});
    return encoder.encode_field_section(0, fields);
}

// --- FrameReader --------------------------------------------------------------------------

struct FrameReader::Impl {
    FrameParser parser;
    uint64_t type = 0, length = 0, data_left = 0;
};

FrameReader::FrameReader() : impl_(std::make_unique<Impl>()) {}
FrameReader::~FrameReader() = default;
FrameReader::FrameReader(FrameReader&&) noexcept = default;
FrameReader& FrameReader::operator=(FrameReader&&) noexcept = default;

namespace {

ReceivedFrame received(uint64_t type, uint64_t length, const Frame& f) {
    ReceivedFrame r{type, length, {}, std::nullopt, std::nullopt, true};
    std::visit(Overloaded{
                   [&](const HeadersFrame& h) { r.payload = h.encoded_field_section; },
                   [&](const PushPromiseFrame& p) {
                       r.id = p.push_id;
                       r.payload = p.encoded_field_section;
                   },
                   [&](const CancelPushFrame& c) { r.id = c.push_id; },
                   [&](const GoawayFrame& g) { r.id = g.id; },
                   [&](const MaxPushIdFrame& m) { r.id = m.push_id; },
                   [&](const SettingsFrame& s) { r.settings = s.settings; },
                   [&](const auto&) {},
               },
               f);
    return r;
}

}  // namespace

Result<std::vector<ReceivedFrame>> FrameReader::feed(ByteSpan data) {
    Impl& s = *impl_;
    auto events = s.parser.feed(data);
    if (!events) return std::move(events).error();
    std::vector<ReceivedFrame> out;
    for (const FrameEvent& e : *events) {
        std::visit(Overloaded{
                       [&](const FrameHeader& h) {
                           s.type = h.type;
                           s.length = s.data_left = h.length;
                           // Unknown and reserved types are skipped: report them now.
                           const bool empty_data = h.type == kData && h.length == 0;
                           if (empty_data ||
                               (h.type != kData && h.type != kHeaders && h.type != kSettings &&
                                h.type != kPushPromise && h.type != kGoaway &&
                                h.type != kCancelPush && h.type != kMaxPushId))
                               out.push_back(ReceivedFrame{h.type, h.length});
                       },
                       [&](const DataChunk& c) {
                           s.data_left -= c.data.size();
                           out.push_back(
                               ReceivedFrame{kData, s.length, Bytes(c.data.begin(), c.data.end()),
                                             std::nullopt, std::nullopt, s.data_left == 0});
                       },
                       [&](const Frame& f) { out.push_back(received(s.type, s.length, f)); },
                   },
                   e);
    }
    return out;
}

Status FrameReader::finish() const {
    return impl_->parser.finish();
}

// --- FieldSectionDecoder ------------------------------------------------------------------

struct FieldSectionDecoder::Impl {
    explicit Impl(Options o)
        : decoder(QpackDecoderOptions{o.max_table_capacity, o.max_blocked_streams}) {}
    QpackDecoder decoder;
};

FieldSectionDecoder::FieldSectionDecoder() : FieldSectionDecoder(Options{}) {}
FieldSectionDecoder::FieldSectionDecoder(Options options)
    : impl_(std::make_unique<Impl>(options)) {}
FieldSectionDecoder::~FieldSectionDecoder() = default;
FieldSectionDecoder::FieldSectionDecoder(FieldSectionDecoder&&) noexcept = default;
FieldSectionDecoder& FieldSectionDecoder::operator=(FieldSectionDecoder&&) noexcept = default;

Status FieldSectionDecoder::on_encoder_stream_data(ByteSpan data) {
    return impl_->decoder.on_encoder_stream_data(data);
}

Result<FieldSectionDecoder::Section> FieldSectionDecoder::decode(uint64_t stream_id,
                                                                 ByteSpan encoded_section) {
    auto d = impl_->decoder.decode(stream_id, encoded_section);
    if (!d) return std::move(d).error();
    Section s;
    switch (d->status) {
        case DecodedFieldSection::Status::kDecoded:
            s.outcome = Outcome::kDecoded;
            s.fields = std::move(d->fields);
            break;
        case DecodedFieldSection::Status::kBlocked:
            s.outcome = Outcome::kBlocked;
            break;
        case DecodedFieldSection::Status::kTooLarge:
            s.outcome = Outcome::kTooLarge;
            break;
    }
    return s;
}

std::vector<uint64_t> FieldSectionDecoder::unblocked_streams() {
    return impl_->decoder.take_unblocked_streams();
}

Bytes FieldSectionDecoder::take_decoder_stream_data() {
    return impl_->decoder.take_decoder_stream_data();
}

}  // namespace quic::h3::wire
