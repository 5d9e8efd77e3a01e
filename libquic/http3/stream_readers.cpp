#include "http3/stream_readers.h"

#include "quic/http3/error.h"

// GCC 12 at -O1 and above reports a false -Wmaybe-uninitialized when a Result holding an
// optional<RequestStreamEvent> is built from the DataChunk alternative: it follows the move of
// the inactive HeaderSection's vector. Only this file needs the silencing.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace quic::h3 {
namespace {

Error unexpected(const char* why) {
    return h3_error(H3Error::kFrameUnexpected, why);
}

bool is(uint64_t type, FrameType t) {
    return type == to_underlying(t);
}

}  // namespace

Error ControlStreamReader::closed_error() {
    return h3_error(H3Error::kClosedCriticalStream, "control stream closed");
}

Status ControlStreamReader::check_frame_type(uint64_t type) {
    if (!settings_received_) {
        // §6.2.1: the first frame MUST be SETTINGS.
        if (!is(type, FrameType::kSettings))
            return h3_error(H3Error::kMissingSettings, "first control frame is not SETTINGS");
        settings_received_ = true;
        return {};
    }
    if (is(type, FrameType::kSettings)) return unexpected("second SETTINGS frame");   // §7.2.4
    if (is(type, FrameType::kData)) return unexpected("DATA on the control stream");  // §7.2.1
    if (is(type, FrameType::kHeaders)) return unexpected("HEADERS on the control stream");
    if (is(type, FrameType::kPushPromise))  // §7.2.5
        return unexpected("PUSH_PROMISE on the control stream");
    if (is_http2_only_frame_type(type)) return unexpected("HTTP/2 frame type");  // §7.2.8
    if (is(type, FrameType::kMaxPushId) && local_ == Perspective::kClient)       // §7.2.7
        return unexpected("MAX_PUSH_ID sent by a server");
    return {};
}

Status ControlStreamReader::check_ids(const ControlFrame& f) {
    if (auto* g = std::get_if<GoawayFrame>(&f)) {
        // §7.2.6: a server's GOAWAY carries a client-initiated bidirectional stream ID.
        if (local_ == Perspective::kClient && g->id % 4 != 0)
            return h3_error(H3Error::kIdError, "GOAWAY with a non-request stream ID");
        // §5.2: the identifier may only stay or decrease.
        if (last_goaway_ && g->id > *last_goaway_)
            return h3_error(H3Error::kIdError, "GOAWAY identifier increased");
        last_goaway_ = g->id;
    } else if (auto* m = std::get_if<MaxPushIdFrame>(&f)) {
        // §7.2.7: MAX_PUSH_ID cannot reduce the maximum push ID.
        if (last_max_push_id_ && m->push_id < *last_max_push_id_)
            return h3_error(H3Error::kIdError, "MAX_PUSH_ID decreased");
        last_max_push_id_ = m->push_id;
    }
    return {};
}

Result<std::optional<ControlFrame>> ControlStreamReader::next(ByteReader& in) {
    while (true) {
        auto ev = parser_.next(in);
        if (!ev) return std::move(ev).error();
        if (!*ev) return std::optional<ControlFrame>{};
        if (auto* h = std::get_if<FrameHeader>(&**ev)) {
            QUIC_TRY(check_frame_type(h->type));
            continue;
        }
        // DATA never gets this far (rejected on its header), so this is a complete frame.
        Frame& frame = std::get<Frame>(**ev);
        ControlFrame out;
        if (auto* s = std::get_if<SettingsFrame>(&frame)) {
            out = std::move(*s);
        } else if (auto* c = std::get_if<CancelPushFrame>(&frame)) {
            out = *c;
        } else if (auto* g = std::get_if<GoawayFrame>(&frame)) {
            out = *g;
        } else {
            out = std::get<MaxPushIdFrame>(frame);
        }
        QUIC_TRY(check_ids(out));
        return std::optional<ControlFrame>{std::move(out)};
    }
}

Result<std::vector<ControlFrame>> ControlStreamReader::feed(ByteSpan data) {
    std::vector<ControlFrame> frames;
    ByteReader in(data);
    while (true) {
        auto f = next(in);
        if (!f) return std::move(f).error();
        if (!*f) return frames;
        frames.push_back(std::move(**f));
    }
}

Status RequestStreamReader::check_frame_type(uint64_t type) const {
    if (is(type, FrameType::kData)) {
        if (state_ == State::kExpectHeaders) return unexpected("DATA before HEADERS");  // §4.1
        if (state_ == State::kAfterTrailers) return unexpected("DATA after trailers");
        return {};
    }
    if (is(type, FrameType::kHeaders)) {
        if (state_ == State::kAfterTrailers) return unexpected("HEADERS after trailers");
        return {};
    }
    if (is(type, FrameType::kPushPromise)) {
        // §7.2.5: only servers send it, only on request streams (§4.1: not on push streams).
        if (local_ == Perspective::kServer) return unexpected("PUSH_PROMISE sent by a client");
        if (kind_ == Kind::kPush) return unexpected("PUSH_PROMISE on a push stream");
        return {};
    }
    if (is(type, FrameType::kCancelPush) || is(type, FrameType::kSettings) ||
        is(type, FrameType::kGoaway) || is(type, FrameType::kMaxPushId))
        return unexpected("control frame on a request or push stream");          // §7.2.3-§7.2.7
    if (is_http2_only_frame_type(type)) return unexpected("HTTP/2 frame type");  // §7.2.8
    return {};
}

Result<std::optional<RequestStreamEvent>> RequestStreamReader::next(ByteReader& in) {
    while (true) {
        auto ev = parser_.next(in);
        if (!ev) return std::move(ev).error();
        if (!*ev) return std::optional<RequestStreamEvent>{};
        if (auto* h = std::get_if<FrameHeader>(&**ev)) {
            QUIC_TRY(check_frame_type(h->type));
            continue;
        }
        if (auto* d = std::get_if<DataChunk>(&**ev)) return std::optional<RequestStreamEvent>{*d};
        Frame& frame = std::get<Frame>(**ev);
        if (auto* pp = std::get_if<PushPromiseFrame>(&frame))
            return std::optional<RequestStreamEvent>{std::move(*pp)};
        auto& headers = std::get<HeadersFrame>(frame);
        HeaderSection section{std::move(headers.encoded_field_section), state_ == State::kBody};
        state_ = state_ == State::kBody ? State::kAfterTrailers : State::kBody;
        return std::optional<RequestStreamEvent>{std::move(section)};
    }
}

Result<std::vector<RequestStreamEvent>> RequestStreamReader::feed(ByteSpan data) {
    std::vector<RequestStreamEvent> events;
    ByteReader in(data);
    while (true) {
        auto e = next(in);
        if (!e) return std::move(e).error();
        if (!*e) return events;
        events.push_back(std::move(**e));
    }
}

}  // namespace quic::h3
