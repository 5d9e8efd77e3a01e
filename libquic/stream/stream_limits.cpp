#include "stream/stream_limits.h"

#include <algorithm>
#include <string>

namespace quic {

LocalStreamLimits::LocalStreamLimits(StreamInitiator local, StreamDirection direction,
                                     uint64_t initial_max_streams)
    : local_(local),
      direction_(direction),
      max_streams_(std::min(initial_max_streams, kMaxStreamCount)) {}

bool LocalStreamLimits::on_max_streams(uint64_t max_streams) {
    max_streams = std::min(max_streams, kMaxStreamCount);
    if (max_streams <= max_streams_) return false;
    max_streams_ = max_streams;
    return true;
}

std::optional<StreamId> LocalStreamLimits::open() {
    if (!can_open()) return std::nullopt;
    return make_stream_id(local_, direction_, opened_++);
}

std::optional<uint64_t> LocalStreamLimits::blocked_at() const {
    if (can_open()) return std::nullopt;
    return max_streams_;
}

std::optional<uint64_t> LocalStreamLimits::should_send_streams_blocked() {
    auto at = blocked_at();
    if (!at || blocked_reported_ == at) return std::nullopt;
    blocked_reported_ = at;
    return at;
}

PeerStreamLimits::PeerStreamLimits(StreamInitiator peer, StreamDirection direction,
                                   uint64_t max_streams)
    : peer_(peer),
      direction_(direction),
      initial_(std::min(max_streams, kMaxStreamCount)),
      max_streams_(initial_) {}

Result<std::optional<StreamIdRange>> PeerStreamLimits::on_peer_stream(StreamId id) {
    if (stream_initiator(id) != peer_ || stream_direction(id) != direction_)
        return Error::transport(TransportErrorCode::kInternalError,
                                "stream " + std::to_string(id) + " is not of this type");
    const uint64_t index = stream_index(id);
    // §4.6: "An endpoint that receives a frame with a stream ID exceeding the limit it has
    // sent MUST treat this as a connection error of type STREAM_LIMIT_ERROR".
    if (index >= max_streams_)
        return Error::transport(TransportErrorCode::kStreamLimitError,
                                "stream " + std::to_string(id) + " past the limit of " +
                                    std::to_string(max_streams_) + " streams");
    if (index < opened_) return std::optional<StreamIdRange>();
    // §3.2: "Before a stream is created, all streams of the same type with lower-numbered
    // stream IDs MUST be created." The count is at most max_streams_ - opened_.
    StreamIdRange range{make_stream_id(peer_, direction_, opened_), id};
    opened_ = index + 1;
    return std::optional<StreamIdRange>(range);
}

void PeerStreamLimits::on_stream_closed() {
    if (closed_ < opened_) ++closed_;
}

std::optional<uint64_t> PeerStreamLimits::should_send_max_streams() {
    const uint64_t target = std::min(initial_ + closed_, kMaxStreamCount);
    const uint64_t threshold = std::max<uint64_t>(1, initial_ / 2);
    if (target <= max_streams_ || target - max_streams_ < threshold) return std::nullopt;
    max_streams_ = target;
    return max_streams_;
}

StreamLimits::StreamLimits(StreamInitiator local, uint64_t our_max_bidi, uint64_t our_max_uni,
                           uint64_t peer_max_bidi, uint64_t peer_max_uni)
    : local_(local),
      local_bidi_(local, StreamDirection::kBidirectional, peer_max_bidi),
      local_uni_(local, StreamDirection::kUnidirectional, peer_max_uni),
      peer_bidi_(peer_of(local), StreamDirection::kBidirectional, our_max_bidi),
      peer_uni_(peer_of(local), StreamDirection::kUnidirectional, our_max_uni) {}

bool StreamLimits::is_opened(StreamId id) const {
    if (is_locally_initiated(id, local_)) return local_limits(stream_direction(id)).is_opened(id);
    return peer_limits(stream_direction(id)).is_opened(id);
}

namespace {

// The frame type of each kind (RFC 9000 §19, Table 3), for Error::frame_type. For STREAM it
// is the base 0x08; the connection may put the exact type (0x08..0x0f).
uint64_t frame_type_of(StreamFrameKind kind) {
    switch (kind) {
        case StreamFrameKind::kStream:
            return 0x08;
        case StreamFrameKind::kResetStream:
            return 0x04;
        case StreamFrameKind::kStreamDataBlocked:
            return 0x15;
        case StreamFrameKind::kStopSending:
            return 0x05;
        case StreamFrameKind::kMaxStreamData:
            return 0x11;
    }
    return 0;
}

const char* name_of(StreamFrameKind kind) {
    switch (kind) {
        case StreamFrameKind::kStream:
            return "STREAM";
        case StreamFrameKind::kResetStream:
            return "RESET_STREAM";
        case StreamFrameKind::kStreamDataBlocked:
            return "STREAM_DATA_BLOCKED";
        case StreamFrameKind::kStopSending:
            return "STOP_SENDING";
        case StreamFrameKind::kMaxStreamData:
            return "MAX_STREAM_DATA";
    }
    return "?";
}

bool acts_on_receiving_part(StreamFrameKind kind) {
    return kind == StreamFrameKind::kStream || kind == StreamFrameKind::kResetStream ||
           kind == StreamFrameKind::kStreamDataBlocked;
}

}  // namespace

Status check_stream_frame_allowed(StreamId id, StreamFrameKind kind, StreamInitiator local,
                                  bool locally_opened) {
    auto error = [&](const char* why) {
        return Error::transport(
            TransportErrorCode::kStreamStateError,
            std::string(name_of(kind)) + " for stream " + std::to_string(id) + ": " + why,
            frame_type_of(kind));
    };
    if (acts_on_receiving_part(kind) && !has_receive_part(id, local))
        return error("a send-only stream");  // §19.8, §19.4, §19.13
    if (!acts_on_receiving_part(kind) && !has_send_part(id, local))
        return error("a receive-only stream");  // §19.5, §19.10
    if (is_locally_initiated(id, local) && !locally_opened)
        return error("a local stream not yet opened");  // §19.8, §19.5, §19.10
    return {};
}

Status check_stream_frame_allowed(StreamId id, StreamFrameKind kind, const StreamLimits& limits) {
    bool opened = is_locally_initiated(id, limits.local()) && limits.is_opened(id);
    return check_stream_frame_allowed(id, kind, limits.local(), opened);
}

}  // namespace quic
