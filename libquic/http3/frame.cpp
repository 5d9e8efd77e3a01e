#include "http3/frame.h"
#include "quic/overloaded.h"

#include <algorithm>

#include "http3/grease.h"
#include "quic/http3/error.h"

namespace quic::h3 {
namespace {

void encode_with_payload(Bytes& out, uint64_t type, ByteSpan payload) {
    encode_frame_header(out, type, payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
}

void encode_varint_frame(Bytes& out, FrameType type, uint64_t value) {
    encode_frame_header(out, to_underlying(type), varint_size(value));
    append_varint(out, value);
}

bool is_varint_frame(uint64_t type) {
    return type == to_underlying(FrameType::kCancelPush) ||
           type == to_underlying(FrameType::kGoaway) ||
           type == to_underlying(FrameType::kMaxPushId);
}

}  // namespace

void encode_frame_header(Bytes& out, uint64_t type, uint64_t length) {
    append_varint(out, type);
    append_varint(out, length);
}

void encode_frame(Bytes& out, const Frame& frame) {
    std::visit(
        Overloaded{
            [&](const DataFrame& f) {
                encode_with_payload(out, to_underlying(FrameType::kData), f.payload);
            },
            [&](const HeadersFrame& f) {
                encode_with_payload(out, to_underlying(FrameType::kHeaders),
                                    f.encoded_field_section);
            },
            [&](const CancelPushFrame& f) {
                encode_varint_frame(out, FrameType::kCancelPush, f.push_id);
            },
            [&](const SettingsFrame& f) { encode_settings_frame(out, f.settings, nullptr); },
            [&](const PushPromiseFrame& f) {
                encode_frame_header(out, to_underlying(FrameType::kPushPromise),
                                    varint_size(f.push_id) + f.encoded_field_section.size());
                append_varint(out, f.push_id);
                out.insert(out.end(), f.encoded_field_section.begin(),
                           f.encoded_field_section.end());
            },
            [&](const GoawayFrame& f) { encode_varint_frame(out, FrameType::kGoaway, f.id); },
            [&](const MaxPushIdFrame& f) {
                encode_varint_frame(out, FrameType::kMaxPushId, f.push_id);
            },
            [&](const UnknownFrame& f) { encode_with_payload(out, f.type, f.payload); },
        },
        frame);
}

Bytes encode_frame(const Frame& frame) {
    Bytes out;
    encode_frame(out, frame);
    return out;
}

void encode_settings_frame(Bytes& out, const Settings& settings, Random* grease) {
    Bytes payload;
    encode_settings(payload, settings, grease);
    encode_with_payload(out, to_underlying(FrameType::kSettings), payload);
}

void encode_grease_frame(Bytes& out, Random& rng) {
    Bytes payload(rng.uniform(9));
    rng.fill(payload);
    encode_with_payload(out, random_grease_codepoint(rng), payload);
}

Result<Frame> decode_frame_payload(uint64_t type, ByteSpan payload) {
    ByteReader r(payload);
    switch (static_cast<FrameType>(type)) {
        case FrameType::kHeaders:
            return Frame{HeadersFrame{Bytes(payload.begin(), payload.end())}};
        case FrameType::kSettings: {
            auto s = decode_settings(payload);
            if (!s) return std::move(s).error();
            return Frame{SettingsFrame{std::move(*s)}};
        }
        case FrameType::kPushPromise: {
            PushPromiseFrame f;
            if (!r.read_varint(f.push_id))
                return h3_error(H3Error::kFrameError, "PUSH_PROMISE without a push ID");
            f.encoded_field_section.assign(r.rest().begin(), r.rest().end());
            return Frame{std::move(f)};
        }
        case FrameType::kCancelPush:
        case FrameType::kGoaway:
        case FrameType::kMaxPushId: {
            // §7.1: exactly the one varint, nothing missing and nothing after it.
            uint64_t v;
            if (!r.read_varint(v) || !r.empty())
                return h3_error(H3Error::kFrameError, "frame payload is not exactly one varint");
            if (type == to_underlying(FrameType::kCancelPush)) return Frame{CancelPushFrame{v}};
            if (type == to_underlying(FrameType::kGoaway)) return Frame{GoawayFrame{v}};
            return Frame{MaxPushIdFrame{v}};
        }
        case FrameType::kData:
            return Frame{DataFrame{Bytes(payload.begin(), payload.end())}};
    }
    return Frame{UnknownFrame{type, Bytes(payload.begin(), payload.end())}};
}

Result<FrameParser::Handling> FrameParser::check_length() const {
    if (type_ == to_underlying(FrameType::kData)) return Handling::kStream;
    if (is_varint_frame(type_)) {
        // A varint takes 1..8 bytes: any other Length cannot be exactly the fields (§7.1).
        // Rejected now rather than after buffering a payload that cannot be valid.
        if (length_ == 0 || length_ > kMaxVarintFramePayload)
            return h3_error(H3Error::kFrameError, "frame length does not fit one varint");
        return Handling::kBuffer;
    }
    if (type_ == to_underlying(FrameType::kSettings)) {
        if (length_ > kMaxControlFramePayload)
            return h3_error(H3Error::kExcessiveLoad, "SETTINGS frame above the cap");
        return Handling::kBuffer;
    }
    if (type_ == to_underlying(FrameType::kHeaders) ||
        type_ == to_underlying(FrameType::kPushPromise)) {
        if (length_ > max_headers_payload_)
            return h3_error(H3Error::kExcessiveLoad, "field section frame above the cap");
        return Handling::kBuffer;
    }
    return Handling::kSkip;  // reserved and unknown types, §9
}

Result<std::optional<FrameEvent>> FrameParser::next(ByteReader& in) {
    while (true) {
        switch (state_) {
            case State::kType: {
                auto v = varint_.next(in);
                if (!v) return std::optional<FrameEvent>{};
                type_ = *v;
                state_ = State::kLength;
                break;
            }
            case State::kLength: {
                auto v = varint_.next(in);
                if (!v) return std::optional<FrameEvent>{};
                length_ = remaining_ = *v;
                state_ = State::kPayloadStart;
                return std::optional<FrameEvent>{FrameHeader{type_, length_}};
            }
            case State::kPayloadStart: {
                // Checked after the FrameHeader event, so that a reader rejecting the frame
                // type (H3_FRAME_UNEXPECTED) takes precedence over its length.
                auto h = check_length();
                if (!h) return std::move(h).error();
                handling_ = *h;
                buffer_.clear();
                state_ = State::kPayload;
                break;
            }
            case State::kPayload: {
                const size_t n =
                    static_cast<size_t>(std::min<uint64_t>(remaining_, in.remaining()));
                if (handling_ == Handling::kStream) {
                    if (remaining_ == 0) {
                        state_ = State::kType;
                        break;
                    }
                    if (n == 0) return std::optional<FrameEvent>{};
                    ByteSpan chunk;
                    in.read_bytes(n, chunk);
                    remaining_ -= n;
                    if (remaining_ == 0) state_ = State::kType;
                    return std::optional<FrameEvent>{DataChunk{chunk}};
                }
                if (handling_ == Handling::kSkip) {
                    in.skip(n);
                    remaining_ -= n;
                    if (remaining_ > 0) return std::optional<FrameEvent>{};
                    state_ = State::kType;
                    break;
                }
                ByteSpan part;
                in.read_bytes(n, part);
                buffer_.insert(buffer_.end(), part.begin(), part.end());
                remaining_ -= n;
                if (remaining_ > 0) return std::optional<FrameEvent>{};
                state_ = State::kType;
                auto f = decode_frame_payload(type_, buffer_);
                buffer_.clear();
                if (!f) return std::move(f).error();
                return std::optional<FrameEvent>{std::move(*f)};
            }
        }
    }
}

Result<std::vector<FrameEvent>> FrameParser::feed(ByteSpan data) {
    std::vector<FrameEvent> events;
    ByteReader in(data);
    while (true) {
        auto ev = next(in);
        if (!ev) return std::move(ev).error();
        if (!*ev) return events;
        events.push_back(std::move(**ev));
    }
}

Status FrameParser::finish() const {
    if (!at_frame_boundary()) return h3_error(H3Error::kFrameError, "stream ended inside a frame");
    return {};
}

}  // namespace quic::h3
