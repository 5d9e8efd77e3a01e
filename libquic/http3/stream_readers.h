// Per-stream frame state machines (RFC 9114 §6, §7.2, §4.1): which frames may arrive on the
// peer's control stream and on a request or push stream, and in which order. Each wraps a
// FrameParser and rejects a frame on its FrameHeader, before its payload is buffered.
//
// All errors are connection errors with the code RFC 9114 gives.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "http3/frame.h"
#include "quic/bytes.h"
#include "quic/http3/perspective.h"
#include "quic/result.h"

namespace quic::h3 {

using ControlFrame = std::variant<SettingsFrame, CancelPushFrame, GoawayFrame, MaxPushIdFrame>;

// The peer's control stream, after its stream type (§6.2.1).
//  - The first frame must be SETTINGS, else H3_MISSING_SETTINGS (§6.2.1; an unknown frame
//    does not satisfy the requirement, §9).
//  - A second SETTINGS, DATA, HEADERS, PUSH_PROMISE, an HTTP/2-only type, or MAX_PUSH_ID sent
//    to a client: H3_FRAME_UNEXPECTED (§7.2.1-§7.2.8).
//  - GOAWAY: from a server it must name a client-initiated bidirectional stream, and no
//    GOAWAY may raise the previous one's ID; MAX_PUSH_ID may not decrease: H3_ID_ERROR
//    (§5.2, §7.2.6, §7.2.7).
// Reserved and unknown frames are skipped.
class ControlStreamReader {
  public:
    explicit ControlStreamReader(Perspective local) : local_(local) {}

    // The next frame, or nullopt once `in` is used up.
    Result<std::optional<ControlFrame>> next(ByteReader& in);
    Result<std::vector<ControlFrame>> feed(ByteSpan data);

    // The control stream closed or was reset: always H3_CLOSED_CRITICAL_STREAM (§6.2.1).
    static Error closed_error();

    bool settings_received() const { return settings_received_; }

  private:
    Status check_frame_type(uint64_t type);
    Status check_ids(const ControlFrame& f);

    Perspective local_;
    FrameParser parser_{kMaxControlFramePayload};
    bool settings_received_ = false;
    std::optional<uint64_t> last_goaway_;
    std::optional<uint64_t> last_max_push_id_;
};

// A header or trailer section (encoded, for the QPACK decoder) of a request or response.
struct HeaderSection {
    Bytes encoded_field_section;
    bool trailers = false;
};
using RequestStreamEvent = std::variant<DataChunk, HeaderSection, PushPromiseFrame>;

// A request stream, or a push stream after its header (§4.1, §6.1, §6.2.2): HEADERS, then DATA
// frames, then an optional trailing HEADERS, then only unknown frames. A DATA frame before the
// first HEADERS, or HEADERS / DATA after the trailers, is H3_FRAME_UNEXPECTED (§4.1), as are
// control-stream frames and HTTP/2-only types. PUSH_PROMISE is accepted only by a client on a
// request stream (§7.2.5, §4.1).
class RequestStreamReader {
  public:
    enum class Kind : uint8_t { kRequest, kPush };

    explicit RequestStreamReader(Perspective local, Kind kind = Kind::kRequest,
                                 uint64_t max_headers_payload = kMaxHeadersFramePayload)
        : local_(local), kind_(kind), parser_(max_headers_payload) {}

    // The next event, or nullopt once `in` is used up. DataChunks point into `in`. A caller
    // waiting on QPACK for a header section (blocked, RFC 9204 §2.2.1) can stop calling next()
    // and leave the rest of the stream unread until then.
    Result<std::optional<RequestStreamEvent>> next(ByteReader& in);
    Result<std::vector<RequestStreamEvent>> feed(ByteSpan data);

    // The header section just delivered was an interim (1xx) response (RFC 9114 §4.1): the
    // next HEADERS is another response header section, not trailers.
    void on_interim_response() { state_ = State::kExpectHeaders; }

    // The stream ended cleanly (FIN): a partial frame is H3_FRAME_ERROR (§7.1). Whether the
    // message was complete (headers_received) is the session's call: H3_REQUEST_INCOMPLETE is
    // a stream error (§4.1).
    Status finish() const { return parser_.finish(); }
    bool headers_received() const { return state_ != State::kExpectHeaders; }

  private:
    enum class State : uint8_t { kExpectHeaders, kBody, kAfterTrailers };

    Status check_frame_type(uint64_t type) const;

    Perspective local_;
    Kind kind_;
    FrameParser parser_;
    State state_ = State::kExpectHeaders;
};

}  // namespace quic::h3
