// Streams (RFC 9000 §2-§4): the stream map, stream limits (§4.6), connection-level flow
// control (§4.1), the application's stream API, the stream frames a peer sends, and the stream
// frames and stream control frames we write. What the application must hear (streams opened,
// readable, writable, reset...) goes to the connection's event queue.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "conn/event_queue.h"
#include "conn/frame_writer.h"
#include "conn/glitch.h"
#include "conn/limits.h"
#include "conn/pending_frames.h"
#include "quic/config.h"
#include "quic/frame.h"
#include "quic/result.h"
#include "quic/time.h"
#include "quic/tracer.h"
#include "quic/transport_parameters.h"
#include "recovery/sent_packet.h"
#include "stream/flow_control.h"
#include "stream/receive_buffer.h"
#include "stream/send_buffer.h"
#include "stream/stream_id.h"
#include "stream/stream_limits.h"
#include "stream/stream_state.h"

namespace quic {

inline StreamInitiator initiator_of(Role r) {
    return r == Role::kClient ? StreamInitiator::kClient : StreamInitiator::kServer;
}

// One stream's two halves (RFC 9000 §3): either may be absent for unidirectional streams.
struct StreamRecord {
    StreamId id = 0;
    bool has_send = false, has_recv = false;

    SendBuffer send;
    SendStreamStateMachine send_state;
    SendFlowController send_flow;
    std::optional<uint64_t> reset_code;  // RESET_STREAM to send (or sent) with this code
    bool reset_pending = false;          // needs (re)transmission
    bool data_blocked_pending = false;   // STREAM_DATA_BLOCKED to send
    bool write_refused = false;          // the application was refused: tell it when writable
    uint64_t source_reset_code = 0;      // RESET_STREAM's code should the stream's source fail

    ReceiveBuffer recv;
    RecvStreamStateMachine recv_state;
    ReceiveFlowController recv_flow;
    std::optional<uint64_t> stop_sending_code;  // STOP_SENDING to send (or sent): ours
    bool stop_sending_pending = false;
    std::optional<uint64_t> reset_received_code;  // the peer's RESET_STREAM: what read() reports
    bool max_stream_data_pending = false;
    bool readable_announced = false;  // a StreamReadable is outstanding
    bool credit_returned = false;     // counted in PeerStreamLimits::on_stream_closed

    StreamRecord(StreamId sid, bool send_part, bool recv_part, uint64_t send_limit,
                 uint64_t recv_window, uint64_t recv_max_window)
        : id(sid),
          has_send(send_part),
          has_recv(recv_part),
          send_flow(send_limit),
          recv_flow(recv_window, recv_max_window) {}

    bool send_done() const { return !has_send || send_state.is_terminal(); }
    bool recv_done() const { return !has_recv || recv_state.is_terminal(); }
};

class StreamManager {
  public:
    // `tracer` may be null. Connection-level frames (MAX_DATA, MAX_STREAMS, DATA_BLOCKED,
    // STREAMS_BLOCKED) wait in `pending`.
    // Useless frames (a closed stream's, a limit that does not grow, data we already have) are
    // charged to `glitches` (conn/glitch.h).
    StreamManager(Role role, const ConnectionConfig& config, PendingFrames& pending,
                  EventQueue& events, GlitchBudget& glitches, trace::Tracer* tracer);

    // --- the application's API (Connection); `now` is the latest time the connection saw ---
    // Whether the connection is open is the caller's check.
    Result<uint64_t> open_stream(Time now, bool bidirectional);
    Result<size_t> write(StreamId id, ByteSpan data, bool fin, bool connection_open);
    // `prefix` (at most kMaxSourcePrefix bytes, taken whatever the send buffer holds), then
    // `length` bytes from `source`, then the FIN (Connection::write_source).
    Status write_source(StreamId id, ByteSpan prefix, uint64_t length, StreamSource source,
                        uint64_t reset_code, bool connection_open);
    Result<size_t> read(Time now, Duration smoothed_rtt, StreamId id, MutableByteSpan out,
                        bool* fin);
    Status reset_stream(StreamId id, uint64_t code);
    Status stop_sending(StreamId id, uint64_t code);
    // The application polled the StreamReadable of `id`: announce it again on new data.
    void on_readable_polled(StreamId id);

    // The peer's limits from its transport parameters (§18.2), or remembered ones for 0-RTT
    // (§7.4.1). With `update_open_streams`, streams opened before take the new stream limits.
    void on_peer_transport_parameters(const TransportParameters& tp, bool update_open_streams);

    // --- frames received ---
    Status on_stream_frame(Time now, const StreamFrame& f);
    Status on_reset_stream(Time now, Duration smoothed_rtt, const ResetStreamFrame& f);
    Status on_stop_sending(Time now, const StopSendingFrame& f);
    Status on_max_stream_data(Time now, const MaxStreamDataFrame& f);
    Status on_stream_data_blocked(Time now, const StreamDataBlockedFrame& f);
    Status on_max_data(Time now, const MaxDataFrame& f);
    Status on_max_streams(Time now, const MaxStreamsFrame& f);

    // --- what our packets carried, acknowledged or lost (§13.3) ---
    void on_stream_data_acked(Time now, const SentStreamData& d);
    void on_reset_stream_acked(Time now, StreamId id);
    void on_stream_data_lost(const SentStreamData& d);
    // RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA or STREAM_DATA_BLOCKED: sent again with
    // current values, if still useful.
    void on_stream_control_frame_lost(const SentControlFrame& c);

    // --- sending ---
    // Stream data that may be sent now, or stream control frames.
    bool has_frames_to_send() const;
    // MAX_DATA, MAX_STREAMS, STREAMS_BLOCKED and DATA_BLOCKED waiting in PendingFrames.
    void write_flow_control_frames(FrameWriter& out);
    // RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA and STREAM_DATA_BLOCKED.
    void write_stream_control_frames(FrameWriter& out);
    // STREAM frames, round robin; `keep_length`: the last frame must keep its Length field
    // (padding or more frames may follow it, §19.8). True when any was written.
    bool write_stream_frames(FrameWriter& out, bool keep_length);

    // Streams with a stream control frame waiting (for the cap on queued control frames).
    size_t streams_with_control_frames() const { return streams_with_control_.size(); }

    // Gaps buffered over all streams (capped by kMaxReassemblyFragmentsPerConnection).
    size_t reassembly_fragments() const { return fragments_; }
    // Whether STREAM data was dropped for the fragment caps since the last call: the packet
    // that carried it must not be acknowledged, so that the peer sends the data again.
    bool take_frame_dropped() { return std::exchange(frame_dropped_, false); }

    uint64_t bytes_sent() const { return bytes_sent_; }
    uint64_t bytes_received() const { return bytes_received_; }
    // Bidirectional streams we opened that are not yet closed: the peer may owe us data.
    bool has_open_local_bidi_streams() const { return open_local_bidi_ > 0; }

  private:
    struct StreamFramesWritten {
        bool wrote = false;
        bool packet_full = false;    // no room left for another frame of any stream
        bool source_failed = false;  // the stream's source could not supply its bytes
    };
    StreamFramesWritten write_frames_of(FrameWriter& out, StreamRecord& s, bool keep_length);
    Result<StreamRecord*> writable_stream(StreamId id, bool connection_open);
    void note_flow_blocked(StreamRecord& s);
    Result<StreamRecord*> stream_for_frame(Time now, StreamId id, StreamFrameKind kind);
    StreamRecord* find_stream(StreamId id);
    StreamRecord& create_stream(Time now, StreamId id);
    void maybe_retire_stream(Time now, StreamRecord& s);
    void deliver_readable(StreamRecord& s);
    // Runs `change` on s.recv and keeps fragments_ in step with its fragment count.
    template <typename F>
    auto track_fragments(StreamRecord& s, F&& change) {
        const size_t before = s.recv.fragment_count();
        auto result = change(s.recv);
        fragments_ = fragments_ - before + s.recv.fragment_count();
        return result;
    }

    Role role_;
    uint64_t stream_receive_window_, max_stream_receive_window_, max_stream_send_buffer_;
    PendingFrames& pending_;
    EventQueue& events_;
    GlitchBudget& glitches_;
    trace::Tracer* tracer_;

    std::map<StreamId, std::unique_ptr<StreamRecord>> streams_;
    std::set<StreamId> streams_with_data_;  // round-robin candidates
    StreamId next_stream_to_send_ = 0;
    std::set<StreamId> streams_with_control_;
    StreamLimits limits_;
    SendFlowController send_flow_;     // the peer's MAX_DATA (§4.1)
    ReceiveFlowController recv_flow_;  // ours
    // The peer's initial_max_stream_data_* (§18.2): the send limit of each new stream.
    uint64_t peer_max_stream_data_bidi_local_ = 0, peer_max_stream_data_bidi_remote_ = 0,
             peer_max_stream_data_uni_ = 0;
    uint64_t bytes_sent_ = 0, bytes_received_ = 0;  // stream payload, for the statistics
    size_t fragments_ = 0;  // the sum of every stream's recv.fragment_count()
    size_t open_local_bidi_ = 0;
    bool frame_dropped_ = false;
};

}  // namespace quic
