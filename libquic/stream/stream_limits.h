// Stream concurrency limits (RFC 9000 §4.6) and which stream frames a stream can receive
// (§3.2, §19.4, §19.5, §19.8, §19.10, §19.13). One limits object per stream type: the
// streams we open count against the peer's limit; the streams the peer opens count against
// ours, and opening one opens every lower-numbered stream of its type (§2.1, §3.2).
#pragma once

#include <cstdint>
#include <optional>

#include "quic/result.h"
#include "stream/stream_id.h"

namespace quic {

// Streams we initiate in one direction, against the peer's max_streams (the transport
// parameter initial_max_streams_{bidi,uni}, then MAX_STREAMS frames).
class LocalStreamLimits {
  public:
    LocalStreamLimits(StreamInitiator local, StreamDirection direction,
                      uint64_t initial_max_streams = 0);

    // §4.6: "MAX_STREAMS frames that do not increase the stream limit MUST be ignored."
    // Values above 2^60 are an error the decoder reports (§4.6, §19.11); here they are
    // clamped. Returns whether the limit grew.
    bool on_max_streams(uint64_t max_streams);

    bool can_open() const { return opened_ < max_streams_; }
    // The next stream's id, or nullopt when the peer's limit is reached (then send
    // STREAMS_BLOCKED, see should_send_streams_blocked()).
    std::optional<StreamId> open();
    StreamId next_id() const { return make_stream_id(local_, direction_, opened_); }
    // Whether `id` (of this type) was opened; a frame for a locally initiated stream that
    // was not is a STREAM_STATE_ERROR (check_stream_frame_allowed).
    bool is_opened(StreamId id) const { return stream_index(id) < opened_; }

    uint64_t max_streams() const { return max_streams_; }
    uint64_t opened_count() const { return opened_; }

    // The limit we are blocked at, or nullopt (§4.6: SHOULD send STREAMS_BLOCKED).
    std::optional<uint64_t> blocked_at() const;
    // blocked_at(), returned once per limit; ask when the application wants a stream.
    std::optional<uint64_t> should_send_streams_blocked();

  private:
    StreamInitiator local_;
    StreamDirection direction_;
    uint64_t max_streams_;
    uint64_t opened_ = 0;
    std::optional<uint64_t> blocked_reported_;
};

// A run of stream ids of one type: first, first + 4, ..., last. Returned instead of a list
// because one frame can open up to the whole window of streams (2^60 at most); the
// connection decides what to allocate for them.
struct StreamIdRange {
    StreamId first = 0;
    StreamId last = 0;
    uint64_t count() const { return ((last - first) >> 2) + 1; }
    friend bool operator==(const StreamIdRange&, const StreamIdRange&) = default;
};

// Streams the peer initiates in one direction, against the max_streams we advertise.
//
// Credit policy (§4.6 leaves it open: "increase limits as streams are closed, to keep the
// number of streams available to peers roughly consistent"): the limit is initial + the
// number of the peer's streams fully closed, so at most `initial` are open at once. A
// MAX_STREAMS is sent when the credit returned since the last one reaches half the initial
// window (at least 1), so a peer opening streams steadily is never blocked and we do not
// send a frame per closed stream.
class PeerStreamLimits {
  public:
    PeerStreamLimits(StreamInitiator peer, StreamDirection direction, uint64_t max_streams);

    // A frame for the peer's stream `id` (of this type) arrived. Returns the ids it opens
    // (it and all lower ones not yet open, §3.2), nullopt when it was open already (or
    // closed: ids are never reused, §2.1), or STREAM_LIMIT_ERROR past our limit (§4.6).
    Result<std::optional<StreamIdRange>> on_peer_stream(StreamId id);
    bool is_opened(StreamId id) const { return stream_index(id) < opened_; }

    // One of the peer's streams of this type is fully closed (both parts terminal, §3.4);
    // call once per stream. Returns its credit to the peer.
    void on_stream_closed();
    // The new limit for MAX_STREAMS, once per update; nullopt when none is due.
    std::optional<uint64_t> should_send_max_streams();

    uint64_t max_streams() const { return max_streams_; }  // the limit we advertised
    uint64_t opened_count() const { return opened_; }
    uint64_t closed_count() const { return closed_; }

  private:
    StreamInitiator peer_;
    StreamDirection direction_;
    uint64_t initial_;
    uint64_t max_streams_;
    uint64_t opened_ = 0;
    uint64_t closed_ = 0;
};

// The four limits of a connection, picked by stream id or direction.
class StreamLimits {
  public:
    StreamLimits(StreamInitiator local, uint64_t our_max_bidi, uint64_t our_max_uni,
                 uint64_t peer_max_bidi = 0, uint64_t peer_max_uni = 0);

    StreamInitiator local() const { return local_; }
    LocalStreamLimits& local_limits(StreamDirection dir) {
        return dir == StreamDirection::kBidirectional ? local_bidi_ : local_uni_;
    }
    PeerStreamLimits& peer_limits(StreamDirection dir) {
        return dir == StreamDirection::kBidirectional ? peer_bidi_ : peer_uni_;
    }
    const LocalStreamLimits& local_limits(StreamDirection dir) const {
        return dir == StreamDirection::kBidirectional ? local_bidi_ : local_uni_;
    }
    const PeerStreamLimits& peer_limits(StreamDirection dir) const {
        return dir == StreamDirection::kBidirectional ? peer_bidi_ : peer_uni_;
    }
    // Whether `id` has been opened, by either side.
    bool is_opened(StreamId id) const;

  private:
    StreamInitiator local_;
    LocalStreamLimits local_bidi_;
    LocalStreamLimits local_uni_;
    PeerStreamLimits peer_bidi_;
    PeerStreamLimits peer_uni_;
};

// The frames that name a stream, by what they act on (§3.3): the sender's frames act on our
// receiving part, the receiver's on our sending part.
enum class StreamFrameKind : uint8_t {
    kStream,             // §19.8, acts on our receiving part
    kResetStream,        // §19.4, receiving part
    kStreamDataBlocked,  // §19.13, receiving part
    kStopSending,        // §19.5, sending part
    kMaxStreamData,      // §19.10, sending part
};

// Whether a received frame may name stream `id`, given the local role and, for a locally
// initiated id, whether we opened it. STREAM_STATE_ERROR (with the frame's base type) when:
//  - the frame acts on a receiving part and the stream is our unidirectional stream, which
//    has none: STREAM (§19.8), RESET_STREAM (§19.4), STREAM_DATA_BLOCKED (§19.13);
//  - the frame acts on a sending part and the stream is the peer's unidirectional stream:
//    STOP_SENDING (§19.5), MAX_STREAM_DATA (§19.10);
//  - the stream is locally initiated and not yet opened: required for STREAM (§19.8),
//    STOP_SENDING (§19.5) and MAX_STREAM_DATA (§19.10); applied to RESET_STREAM and
//    STREAM_DATA_BLOCKED too, since the peer cannot have a part of a stream we never opened.
// Peer-initiated ids are then checked against our limit by PeerStreamLimits::on_peer_stream
// (STREAM_LIMIT_ERROR, §4.6).
Status check_stream_frame_allowed(StreamId id, StreamFrameKind kind, StreamInitiator local,
                                  bool locally_opened);
// The same, looking up whether a locally initiated id was opened.
Status check_stream_frame_allowed(StreamId id, StreamFrameKind kind, const StreamLimits& limits);

}  // namespace quic
