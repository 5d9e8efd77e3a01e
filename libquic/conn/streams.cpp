// Streams (RFC 9000 §2-§4): the application's side, the peer's stream frames, and the
// stream frames we write.
#include "conn/streams.h"

#include <algorithm>

#include "stream/limits.h"

namespace quic {

StreamManager::StreamManager(Role role, const ConnectionConfig& config, PendingFrames& pending,
                             EventQueue& events, GlitchBudget& glitches, trace::Tracer* tracer)
    : role_(role),
      stream_receive_window_(config.initial_stream_receive_window),
      max_stream_receive_window_(config.max_stream_receive_window),
      max_stream_send_buffer_(config.max_stream_send_buffer),
      pending_(pending),
      events_(events),
      glitches_(glitches),
      tracer_(tracer),
      limits_(initiator_of(role), config.max_incoming_streams, config.max_incoming_uni_streams),
      recv_flow_(config.initial_connection_receive_window, config.max_connection_receive_window) {}

StreamRecord* StreamManager::find_stream(StreamId id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
}

StreamRecord& StreamManager::create_stream(Time now, StreamId id) {
    const StreamInitiator local = initiator_of(role_);
    const bool local_init = is_locally_initiated(id, local);
    // Our send limit is the peer's initial_max_stream_data_* for that stream type (§18.2):
    // bidi_remote for streams we open (remote from the peer's view), bidi_local for theirs.
    uint64_t send_limit = 0;
    if (has_send_part(id, local)) {
        if (is_unidirectional(id))
            send_limit = peer_max_stream_data_uni_;
        else if (local_init)
            send_limit = peer_max_stream_data_bidi_remote_;
        else
            send_limit = peer_max_stream_data_bidi_local_;
    }
    auto rec = std::make_unique<StreamRecord>(id, has_send_part(id, local),
                                              has_receive_part(id, local), send_limit,
                                              stream_receive_window_, max_stream_receive_window_);
    StreamRecord& ref = *rec;
    streams_[id] = std::move(rec);
    if (local_init && is_bidirectional(id)) ++open_local_bidi_;
    if (tracer_) tracer_->stream_state_updated(now, id, "open");
    return ref;
}

// A stream whose both halves reached a terminal state is forgotten; a peer-initiated one
// returns its credit (RFC 9000 §4.6: MAX_STREAMS only for closed streams).
void StreamManager::maybe_retire_stream(Time now, StreamRecord& s) {
    if (!s.send_done() || !s.recv_done()) return;
    const StreamInitiator local = initiator_of(role_);
    if (!is_locally_initiated(s.id, local) && !s.credit_returned) {
        s.credit_returned = true;
        PeerStreamLimits& pl = limits_.peer_limits(stream_direction(s.id));
        pl.on_stream_closed();
        if (pl.should_send_max_streams())
            pending_.max_streams[is_bidirectional(s.id) ? 0 : 1] = true;
    }
    streams_with_data_.erase(s.id);
    streams_with_control_.erase(s.id);
    fragments_ -= s.recv.fragment_count();
    if (tracer_) tracer_->stream_state_updated(now, s.id, "closed");
    if (is_locally_initiated(s.id, local) && is_bidirectional(s.id)) --open_local_bidi_;
    streams_.erase(s.id);
}

void StreamManager::deliver_readable(StreamRecord& s) {
    if (s.readable_announced) return;
    s.readable_announced = true;
    events_.emit(StreamReadable{s.id});
}

void StreamManager::on_readable_polled(StreamId id) {
    if (StreamRecord* s = find_stream(id)) s->readable_announced = false;
}

void StreamManager::on_peer_transport_parameters(const TransportParameters& tp,
                                                 bool update_open_streams) {
    peer_max_stream_data_bidi_local_ = tp.initial_max_stream_data_bidi_local;
    peer_max_stream_data_bidi_remote_ = tp.initial_max_stream_data_bidi_remote;
    peer_max_stream_data_uni_ = tp.initial_max_stream_data_uni;
    send_flow_.on_max_data(tp.initial_max_data);
    limits_.local_limits(StreamDirection::kBidirectional)
        .on_max_streams(tp.initial_max_streams_bidi);
    limits_.local_limits(StreamDirection::kUnidirectional)
        .on_max_streams(tp.initial_max_streams_uni);
    if (!update_open_streams) return;
    // Streams opened before (0-RTT) take the new stream-level limits: as in create_stream,
    // bidi_remote for ours, bidi_local for the peer's (§18.2).
    const StreamInitiator local = initiator_of(role_);
    for (auto& [id, s] : streams_) {
        if (!s->has_send) continue;
        uint64_t limit = is_unidirectional(id)             ? tp.initial_max_stream_data_uni
                         : is_locally_initiated(id, local) ? tp.initial_max_stream_data_bidi_remote
                                                           : tp.initial_max_stream_data_bidi_local;
        s->send_flow.on_max_data(limit);
    }
}

// --- the application's API ---------------------------------------------------------------------

Result<uint64_t> StreamManager::open_stream(Time now, bool bidirectional) {
    // Before the handshake completes a client may open streams only for 0-RTT with remembered
    // limits; otherwise the peer's limits are still 0.
    const StreamDirection dir =
        bidirectional ? StreamDirection::kBidirectional : StreamDirection::kUnidirectional;
    LocalStreamLimits& limits = limits_.local_limits(dir);
    auto id = limits.open();
    if (!id) {
        pending_.streams_blocked[bidirectional ? 0 : 1] = limits.blocked_at().has_value();
        return Error::transport(TransportErrorCode::kStreamLimitError,
                                "the peer's stream limit is reached");
    }
    create_stream(now, *id);
    return *id;
}

// The stream the application may still write on: ours to send on, not finished or reset, on
// an open connection.
Result<StreamRecord*> StreamManager::writable_stream(StreamId id, bool connection_open) {
    StreamRecord* s = find_stream(id);
    if (!s || !s->has_send)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such sending stream");
    if (s->send.finished() || s->reset_code)
        return Error::transport(TransportErrorCode::kStreamStateError,
                                "stream is finished or reset");
    if (!connection_open) return Error::application(0, "connection is closed");
    return s;
}

Result<size_t> StreamManager::write(StreamId id, ByteSpan data, bool fin, bool connection_open) {
    auto found = writable_stream(id, connection_open);
    if (!found) return std::move(found).error();
    StreamRecord* s = *found;
    const uint64_t buffered = s->send.buffered_bytes();
    const uint64_t room =
        buffered >= max_stream_send_buffer_ ? 0 : max_stream_send_buffer_ - buffered;
    const size_t accepted = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
    if (accepted) s->send.write(data.first(accepted));
    if (accepted < data.size()) s->write_refused = true;
    if (fin && accepted == data.size()) s->send.finish();
    if (accepted || (fin && accepted == data.size())) {
        s->send_state.on_send_data();
        streams_with_data_.insert(id);
    }
    return accepted;
}

Status StreamManager::write_source(StreamId id, ByteSpan prefix, uint64_t length,
                                   StreamSource source, uint64_t reset_code, bool connection_open) {
    auto found = writable_stream(id, connection_open);
    if (!found) return std::move(found).error();
    StreamRecord* s = *found;
    if (prefix.size() > kMaxSourcePrefix || length > kMaxStreamOffset - s->send.write_offset() ||
        prefix.size() > kMaxStreamOffset - s->send.write_offset() - length)
        return Error::of_kind(ErrorKind::kInvalidArgument, "source prefix or length too large");
    s->send.write(prefix);
    s->send.write_source(length, std::move(source));
    s->source_reset_code = reset_code;
    s->send_state.on_send_data();
    streams_with_data_.insert(id);
    return {};
}

Result<size_t> StreamManager::read(Time now, Duration smoothed_rtt, StreamId id,
                                   MutableByteSpan out, bool* fin) {
    StreamRecord* s = find_stream(id);
    if (fin) *fin = false;
    if (!s || !s->has_recv)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such receiving stream");
    if (s->recv_state.was_reset()) {
        const uint64_t code = s->reset_received_code.value_or(0);
        s->recv_state.on_app_read_reset();
        maybe_retire_stream(now, *s);  // may free *s
        return Error::application(code, "stream was reset by the peer");
    }
    size_t n = track_fragments(*s, [&](ReceiveBuffer& b) { return b.read(out); });
    if (n) {
        s->recv_flow.on_data_consumed(n, now, smoothed_rtt);
        recv_flow_.on_data_consumed(n, now, smoothed_rtt);
        if (s->recv_state.can_send_max_stream_data() && s->recv_flow.should_send_update()) {
            s->max_stream_data_pending = true;
            streams_with_control_.insert(id);
        }
        if (recv_flow_.should_send_update()) pending_.max_data = true;
    }
    if (s->recv.is_finished()) {
        if (fin) *fin = true;
        s->recv_state.on_app_read_all();
        maybe_retire_stream(now, *s);
    }
    return n;
}

Status StreamManager::reset_stream(StreamId id, uint64_t code) {
    StreamRecord* s = find_stream(id);
    if (!s || !s->has_send)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such sending stream");
    if (!s->send_state.can_send_reset() || s->reset_code) return {};
    s->send_state.on_send_reset();
    s->reset_code = code;
    s->reset_pending = true;
    streams_with_control_.insert(id);
    streams_with_data_.erase(id);
    return {};
}

Status StreamManager::stop_sending(StreamId id, uint64_t code) {
    StreamRecord* s = find_stream(id);
    if (!s || !s->has_recv)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such receiving stream");
    if (!s->recv_state.can_send_stop_sending() || s->stop_sending_code) return {};
    s->stop_sending_code = code;
    s->stop_sending_pending = true;
    track_fragments(*s, [](ReceiveBuffer& b) { return (b.discard(), 0); });
    streams_with_control_.insert(id);
    return {};
}

// --- frames received ---------------------------------------------------------------------------

Result<StreamRecord*> StreamManager::stream_for_frame(Time now, StreamId id, StreamFrameKind kind) {
    QUIC_TRY(check_stream_frame_allowed(id, kind, limits_));
    if (StreamRecord* s = find_stream(id)) return s;
    const StreamInitiator local = initiator_of(role_);
    if (is_locally_initiated(id, local)) return static_cast<StreamRecord*>(nullptr);  // closed
    PeerStreamLimits& limits = limits_.peer_limits(stream_direction(id));
    if (limits.is_opened(id)) return static_cast<StreamRecord*>(nullptr);  // closed and forgotten
    auto opened = limits.on_peer_stream(id);
    if (!opened.ok()) return std::move(opened).error();
    // §3.2: opening a stream opens every lower-numbered one of its type.
    if (*opened) {
        for (StreamId sid = (*opened)->first; sid <= (*opened)->last; sid += 4) {
            create_stream(now, sid);
            events_.emit(StreamOpened{sid});
        }
    }
    return find_stream(id);
}

namespace {
constexpr uint64_t kStreamType = to_underlying(FrameType::kStream);
}  // namespace

Status StreamManager::on_stream_frame(Time now, const StreamFrame& f) {
    auto found = stream_for_frame(now, f.stream_id, StreamFrameKind::kStream);
    if (!found.ok()) return std::move(found).error();
    StreamRecord* s = *found;
    if (f.data.empty() && !f.fin)
        QUIC_TRY(glitches_.charge(now, "empty STREAM frame without FIN", kStreamType));
    // A stream we already closed: a late retransmission, or a flood.
    if (!s) return glitches_.charge(now, "STREAM frame for a closed stream", kStreamType);
    const uint64_t end = f.offset + f.data.size();
    // Flow control before buffering (§4.1): the window bounds what a peer can make us hold. It
    // counts what the buffer took: data dropped at a fragment cap comes again, and counting it
    // each time would use up the connection's credit.
    QUIC_TRY(s->recv_flow.check_data_received(end));
    const uint64_t prev_highest = s->recv.highest_offset_received();
    if (end > prev_highest)
        QUIC_TRY(
            recv_flow_.check_data_received(recv_flow_.highest_received() + end - prev_highest));
    const bool may_add_fragment = fragments_ < kMaxReassemblyFragmentsPerConnection;
    auto r = track_fragments(
        *s, [&](ReceiveBuffer& b) { return b.insert(f.offset, f.data, f.fin, may_add_fragment); });
    if (!r.ok()) {
        Error e = std::move(r).error();
        e.frame_type = to_underlying(FrameType::kStream);
        return e;
    }
    if (const uint64_t highest = s->recv.highest_offset_received(); highest > prev_highest) {
        QUIC_TRY(s->recv_flow.on_data_received(highest));
        QUIC_TRY(
            recv_flow_.on_data_received(recv_flow_.highest_received() + highest - prev_highest));
    }
    if (*r == ReceiveBuffer::InsertOutcome::kAccepted) {
        bytes_received_ += f.data.size();
        if (!f.data.empty()) glitches_.on_useful_frame();
    } else if (*r == ReceiveBuffer::InsertOutcome::kDroppedTooFragmented) {
        frame_dropped_ = true;  // see take_frame_dropped()
    } else if (*r == ReceiveBuffer::InsertOutcome::kDuplicate && !f.data.empty()) {
        QUIC_TRY(glitches_.charge(now, "STREAM data already received", kStreamType));
    }
    if (f.fin) s->recv_state.on_size_known();
    if (s->recv.all_received()) s->recv_state.on_all_data_received();
    if (s->recv.readable_bytes() > 0 || s->recv.is_finished()) deliver_readable(*s);
    // Grow the connection window along with stream windows (quic-go's rule: 1.5x).
    recv_flow_.ensure_window_at_least(s->recv_flow.window() * 3 / 2);
    return {};
}

Status StreamManager::on_reset_stream(Time now, Duration smoothed_rtt, const ResetStreamFrame& f) {
    auto found = stream_for_frame(now, f.stream_id, StreamFrameKind::kResetStream);
    if (!found.ok()) return std::move(found).error();
    StreamRecord* s = *found;
    if (!s)
        return glitches_.charge(now, "RESET_STREAM for a closed stream",
                                to_underlying(FrameType::kResetStream));
    const uint64_t prev_highest = s->recv.highest_offset_received();
    QUIC_TRY(
        s->recv_state.on_reset_stream_received(f.final_size, s->recv.final_size(), prev_highest));
    QUIC_TRY(s->recv_flow.on_data_received(f.final_size));
    if (f.final_size > prev_highest)
        QUIC_TRY(recv_flow_.on_data_received(recv_flow_.highest_received() + f.final_size -
                                             prev_highest));
    if (!s->recv_state.was_reset()) return {};  // Data Recvd: the data wins (§3.2)
    // §4.5: the connection's flow control counts the final size as consumed.
    const uint64_t unread = f.final_size - s->recv.read_offset();
    track_fragments(*s, [](ReceiveBuffer& b) { return (b.discard(), 0); });
    recv_flow_.on_data_consumed(unread, now, smoothed_rtt);
    if (recv_flow_.should_send_update()) pending_.max_data = true;
    s->reset_received_code = f.application_error_code;
    // §3.5: STOP_SENDING is useless once the stream is reset; one still waiting is not sent.
    s->stop_sending_pending = false;
    events_.emit(StreamResetReceived{f.stream_id, f.application_error_code});
    deliver_readable(*s);  // a read reports the reset
    return {};
}

Status StreamManager::on_stop_sending(Time now, const StopSendingFrame& f) {
    auto found = stream_for_frame(now, f.stream_id, StreamFrameKind::kStopSending);
    if (!found.ok()) return std::move(found).error();
    StreamRecord* s = *found;
    if (!s)
        return glitches_.charge(now, "STOP_SENDING for a closed stream",
                                to_underlying(FrameType::kStopSending));
    events_.emit(StopSendingReceived{f.stream_id, f.application_error_code});
    // §3.5: answer with RESET_STREAM, carrying the same code.
    if (s->send_state.stop_sending_needs_reset())
        return reset_stream(f.stream_id, f.application_error_code);
    return {};
}

Status StreamManager::on_max_stream_data(Time now, const MaxStreamDataFrame& f) {
    constexpr uint64_t kType = to_underlying(FrameType::kMaxStreamData);
    auto found = stream_for_frame(now, f.stream_id, StreamFrameKind::kMaxStreamData);
    if (!found.ok()) return std::move(found).error();
    StreamRecord* s = *found;
    if (!s) return glitches_.charge(now, "MAX_STREAM_DATA for a closed stream", kType);
    if (!s->send_flow.on_max_data(f.maximum_stream_data))
        return glitches_.charge(now, "MAX_STREAM_DATA that does not raise the limit", kType);
    if (s->send.has_pending()) streams_with_data_.insert(s->id);
    return {};
}

Status StreamManager::on_stream_data_blocked(Time now, const StreamDataBlockedFrame& f) {
    auto s = stream_for_frame(now, f.stream_id, StreamFrameKind::kStreamDataBlocked);
    return s.ok() ? Status{} : Status(std::move(s).error());
}

Status StreamManager::on_max_data(Time now, const MaxDataFrame& f) {
    if (!send_flow_.on_max_data(f.maximum_data))
        return glitches_.charge(now, "MAX_DATA that does not raise the limit",
                                to_underlying(FrameType::kMaxData));
    for (auto& [id, s] : streams_)
        if (s->has_send && s->send.has_pending()) streams_with_data_.insert(id);
    return {};
}

Status StreamManager::on_max_streams(Time now, const MaxStreamsFrame& f) {
    auto dir = f.bidirectional ? StreamDirection::kBidirectional : StreamDirection::kUnidirectional;
    if (!limits_.local_limits(dir).on_max_streams(f.maximum_streams))
        return glitches_.charge(now, "MAX_STREAMS that does not raise the limit",
                                to_underlying(f.bidirectional ? FrameType::kMaxStreamsBidi
                                                              : FrameType::kMaxStreamsUni));
    events_.emit(StreamsAvailable{f.bidirectional});
    return {};
}

// --- acknowledged and lost ---------------------------------------------------------------------

void StreamManager::on_stream_data_acked(Time now, const SentStreamData& d) {
    StreamRecord* s = find_stream(d.stream_id);
    if (!s) return;
    const uint64_t before = s->send.buffered_bytes();
    s->send.on_acked(d.offset, d.length, d.fin);
    if (s->write_refused && s->send.buffered_bytes() < before &&
        s->send.buffered_bytes() < max_stream_send_buffer_) {
        s->write_refused = false;
        events_.emit(StreamWritable{s->id});
    }
    if (s->send.all_acked() && !s->reset_code) {
        s->send_state.on_all_data_acked();
        maybe_retire_stream(now, *s);
    }
}

void StreamManager::on_reset_stream_acked(Time now, StreamId id) {
    if (StreamRecord* s = find_stream(id)) {
        s->send_state.on_reset_acked();
        maybe_retire_stream(now, *s);
    }
}

void StreamManager::on_stream_data_lost(const SentStreamData& d) {
    StreamRecord* s = find_stream(d.stream_id);
    if (!s || s->reset_code) return;
    s->send.on_lost(d.offset, d.length, d.fin);
    streams_with_data_.insert(s->id);
}

void StreamManager::on_stream_control_frame_lost(const SentControlFrame& c) {
    StreamRecord* s = find_stream(c.a);
    if (!s) return;
    if (c.frame_type == to_underlying(FrameType::kResetStream))
        s->reset_pending = true;
    else if (c.frame_type == to_underlying(FrameType::kStopSending))
        s->stop_sending_pending = s->recv_state.can_send_stop_sending();
    else if (c.frame_type == to_underlying(FrameType::kMaxStreamData))
        s->max_stream_data_pending = s->recv_state.can_send_max_stream_data();
    streams_with_control_.insert(s->id);
}

// --- sending -----------------------------------------------------------------------------------

bool StreamManager::has_frames_to_send() const {
    if (!streams_with_control_.empty()) return true;
    for (StreamId id : streams_with_data_) {
        auto it = streams_.find(id);
        if (it == streams_.end()) continue;
        const StreamRecord& s = *it->second;
        if (!s.send.has_pending()) continue;
        // New data needs flow-control credit; retransmissions and a lone FIN do not.
        if (s.send.has_lost() || s.send.unsent_bytes() == 0 ||
            (s.send_flow.available() > 0 && send_flow_.available() > 0))
            return true;
    }
    return false;
}

void StreamManager::write_flow_control_frames(FrameWriter& out) {
    auto control = [](FrameType t) { return FrameWriter::control(t); };
    if (pending_.max_data) {
        if (out.put(MaxDataFrame{recv_flow_.max_data()}, control(FrameType::kMaxData)))
            pending_.max_data = false;
    }
    for (int dir = 0; dir < 2; ++dir) {
        auto d = dir == 0 ? StreamDirection::kBidirectional : StreamDirection::kUnidirectional;
        if (pending_.max_streams[dir]) {
            uint64_t max = limits_.peer_limits(d).max_streams();
            if (out.put(MaxStreamsFrame{dir == 0, max},
                        control(dir == 0 ? FrameType::kMaxStreamsBidi : FrameType::kMaxStreamsUni)))
                pending_.max_streams[dir] = false;
        }
        if (pending_.streams_blocked[dir]) {
            LocalStreamLimits& l = limits_.local_limits(d);
            if (auto at = l.should_send_streams_blocked())
                out.put(StreamsBlockedFrame{dir == 0, *at},
                        control(dir == 0 ? FrameType::kStreamsBlockedBidi
                                         : FrameType::kStreamsBlockedUni));
            pending_.streams_blocked[dir] = false;
        }
    }
    if (pending_.data_blocked) {
        if (out.put(DataBlockedFrame{send_flow_.limit()}, control(FrameType::kDataBlocked)))
            pending_.data_blocked = false;
    }
}

void StreamManager::write_stream_control_frames(FrameWriter& out) {
    auto control = [](FrameType t, StreamId id) { return FrameWriter::control(t, id); };
    for (auto it = streams_with_control_.begin(); it != streams_with_control_.end();) {
        StreamRecord* s = find_stream(*it);
        if (!s) {
            it = streams_with_control_.erase(it);
            continue;
        }
        bool fits = true;
        if (s->reset_pending && s->reset_code) {
            if ((fits = out.put(ResetStreamFrame{s->id, *s->reset_code, s->send.sent_offset()},
                                control(FrameType::kResetStream, s->id))))
                s->reset_pending = false;
        }
        if (fits && s->stop_sending_pending && s->stop_sending_code) {
            if ((fits = out.put(StopSendingFrame{s->id, *s->stop_sending_code},
                                control(FrameType::kStopSending, s->id))))
                s->stop_sending_pending = false;
        }
        if (fits && s->max_stream_data_pending) {
            if ((fits = out.put(MaxStreamDataFrame{s->id, s->recv_flow.max_data()},
                                control(FrameType::kMaxStreamData, s->id))))
                s->max_stream_data_pending = false;
        }
        if (fits && s->data_blocked_pending) {
            if ((fits = out.put(StreamDataBlockedFrame{s->id, s->send_flow.limit()},
                                control(FrameType::kStreamDataBlocked, s->id))))
                s->data_blocked_pending = false;
        }
        if (!fits) break;
        it = streams_with_control_.erase(it);
    }
}

// STREAM frames, round robin over streams with data (RFC 9000 §2.3 leaves scheduling open):
// each stream in turn fills what room is left, in as many frames as its storage chunks take
// (a datagram larger than kSendBufferChunkSize after DPLPMTUD holds several).
bool StreamManager::write_stream_frames(FrameWriter& out, bool keep_length) {
    ByteWriter& w = out.bytes();
    bool wrote = false, packet_full = false;
    size_t rounds = streams_with_data_.size();
    auto it = streams_with_data_.lower_bound(next_stream_to_send_);
    while (!packet_full && rounds-- > 0 && w.remaining() > 24 && !streams_with_data_.empty()) {
        if (it == streams_with_data_.end()) it = streams_with_data_.begin();
        StreamRecord* s = find_stream(*it);
        if (!s || s->reset_code || !s->send.has_pending()) {
            it = streams_with_data_.erase(it);
            continue;
        }
        const StreamFramesWritten r = write_frames_of(out, *s, keep_length);
        wrote |= r.wrote;
        packet_full = r.packet_full;
        if (r.source_failed) {
            // §3.1: a sender that cannot deliver the rest resets the stream.
            const StreamId id = s->id;
            it = streams_with_data_.erase(it);
            (void)reset_stream(id, s->source_reset_code);
            if (tracer_) tracer_->stream_state_updated(out.sent().time_sent, id, "source_failed");
            continue;
        }
        if (!s->send.has_pending())
            it = streams_with_data_.erase(it);
        else
            ++it;
    }
    if (it != streams_with_data_.end())
        next_stream_to_send_ = *it;
    else
        next_stream_to_send_ = 0;
    return wrote;
}

// One stream's STREAM frames into the packet: one per storage chunk until the room, the data
// or flow control runs out.
StreamManager::StreamFramesWritten StreamManager::write_frames_of(FrameWriter& out, StreamRecord& s,
                                                                  bool keep_length) {
    ByteWriter& w = out.bytes();
    StreamFramesWritten r;
    const size_t header_room = 1 + 8 + 8 + 4;  // type, id, offset, length
    while (s.send.has_pending() && w.remaining() > 24) {
        // New data may go up to the smaller of the stream and connection limits (§4.1).
        const uint64_t stream_limit = s.send_flow.limit();
        const uint64_t conn_room = send_flow_.available();
        const uint64_t flow_limit = std::min(stream_limit, s.send.sent_offset() + conn_room);
        if (w.remaining() <= header_room) {
            r.packet_full = true;
            break;
        }
        auto chunk = s.send.next_chunk(w.remaining() - header_room, flow_limit);
        if (!chunk) {
            note_flow_blocked(s);
            break;
        }
        // Data, or a FIN alone: a chunk with neither would loop here without progress.
        if (chunk->length == 0 && !chunk->fin) break;
        StreamFrame f{s.id, chunk->offset, {}, chunk->fin, true};
        size_t len = chunk->length;
        // The last frame of a packet may omit its Length (§19.8), saving two bytes, unless
        // padding may follow it (the padding would become stream data).
        if (!keep_length && stream_frame_header_size(f, len) + len + 24 > w.remaining())
            f.has_length = false;
        const size_t overhead = stream_frame_header_size(f, len);
        if (overhead >= w.remaining()) {
            r.packet_full = true;
            break;
        }
        if (len > w.remaining() - overhead) {
            len = w.remaining() - overhead;
            f.fin = false;
        }
        const size_t frame_start = w.size();
        if ((len == 0 && !f.fin) || !encode_stream_frame_header(w, f, len)) {
            r.packet_full = true;
            break;
        }
        // The data goes straight into the packet: copied from the buffer, or read from the
        // stream's source (quic/stream_source.h).
        if (!s.send.copy_out(f.offset, w.buffer().subspan(w.size(), len))) {
            w.rewind(frame_start);
            r.source_failed = true;
            break;
        }
        w.advance(len);
        const uint64_t fresh = s.send.on_sent(f.offset, len, f.fin);
        s.send_flow.on_data_sent(fresh);
        send_flow_.on_data_sent(fresh);
        if (f.fin) s.send_state.on_send_fin();
        bytes_sent_ += len;
        out.sent().frames.push_back(SentStreamData{s.id, f.offset, len, f.fin});
        r.wrote = true;
        if (!f.has_length) {
            r.packet_full = true;
            break;
        }
    }
    return r;
}

// Blocked by flow control: say so once per limit (§4.1).
void StreamManager::note_flow_blocked(StreamRecord& s) {
    if (s.send.unsent_bytes() == 0) return;
    if (s.send_flow.available() == 0 && s.send_flow.should_send_blocked()) {
        s.data_blocked_pending = true;
        streams_with_control_.insert(s.id);
    }
    if (send_flow_.available() == 0 && send_flow_.should_send_blocked())
        pending_.data_blocked = true;
}

}  // namespace quic
