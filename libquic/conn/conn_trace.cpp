// Reporting to the tracer (qlog). Every function returns at once when no tracer is attached,
// so an untraced connection builds no event and formats nothing.
#include "conn/connection_impl.h"

namespace quic {

const char* trace::drop_reason_name(DropReason r) {
    switch (r) {
        case DropReason::kKeyUnavailable:
            return "key_unavailable";
        case DropReason::kUnknownConnectionId:
            return "unknown_connection_id";
        case DropReason::kHeaderParseError:
            return "header_parse_error";
        case DropReason::kPayloadDecryptError:
            return "payload_decrypt_error";
        case DropReason::kProtocolViolation:
            return "protocol_violation";
        case DropReason::kDuplicate:
            return "duplicate";
        case DropReason::kUnsupportedVersion:
            return "unsupported_version";
        case DropReason::kUnexpectedPacket:
            return "unexpected_packet";
        case DropReason::kKeysDiscarded:
            return "key_discarded";
        case DropReason::kBufferFull:
            return "dos_prevention";
    }
    return "unknown";
}

void ConnectionImpl::set_state(Time now, ConnectionState next) {
    if (next == state_) return;
    const ConnectionState old = state_;
    state_ = next;
    if (tracer_) tracer_->connection_state_updated(now, old, next);
}

void ConnectionImpl::trace_drop(Time now, PacketType type, size_t size, trace::DropReason why) {
    stats_.packets_dropped++;
    if (tracer_) tracer_->packet_dropped(now, type, size, why);
}

void ConnectionImpl::trace_packet(Time now, bool sent, PacketType type, uint64_t pn,
                                  const PacketHeader* header, size_t length, bool key_phase,
                                  ByteSpan plaintext_payload) {
    if (!tracer_) return;
    trace::PacketHeaderInfo info;
    info.type = type;
    info.packet_number = pn;
    info.version = version_;
    info.length = length;
    info.key_phase = key_phase;
    if (header) {
        info.scid = header->scid;
        info.dcid = header->dcid;
        info.token_length = header->token.size();
    } else {
        info.dcid = cids_.peer_cid();
        if (type != PacketType::kOneRtt) info.scid = cids_.source_cid();
        if (type == PacketType::kInitial && role_ == Role::kClient)
            info.token_length = token_.size();
    }
    // Frames are parsed back from the plaintext: the writers need no tracing code, and the
    // trace shows exactly what is on the wire.
    std::vector<Frame>& frames = trace_frames_;
    frames.clear();
    ByteReader r(plaintext_payload);
    while (!r.empty()) {
        auto f = parse_frame(r, type);
        if (!f.ok()) break;
        frames.push_back(std::move(f).value());
    }
    if (sent)
        tracer_->packet_sent(now, info, frames);
    else
        tracer_->packet_received(now, info, frames);
    frames.clear();  // the frames point into the packet
}

// Recovery metrics and congestion state, reported only when they change (qlog draft:
// "recovery_metrics_updated ... SHOULD only be emitted for changed fields").
void ConnectionImpl::trace_recovery(Time now) {
    if (!tracer_) return;
    const RttEstimator& rtt = loss_.rtt();
    trace::RecoveryMetrics m;
    m.min_rtt = rtt.min_rtt();
    m.smoothed_rtt = rtt.smoothed_rtt();
    m.latest_rtt = rtt.latest_rtt();
    m.rtt_variance = rtt.rttvar();
    m.pto_count = loss_.pto_count();
    m.congestion_window = cc_->congestion_window();
    m.bytes_in_flight = cc_->bytes_in_flight();
    m.ssthresh = cc_->ssthresh();
    m.pacing_rate_bps = config_.pacing ? pacer_.rate_bytes_per_second() * 8 : 0;
    if (!(m == last_metrics_)) {
        last_metrics_ = m;
        tracer_->metrics_updated(now, m);
    }
    const std::string_view state = cc_->state_name();  // no string built per packet
    if (state != last_cc_state_) {
        tracer_->congestion_state_updated(now, last_cc_state_, state);
        last_cc_state_ = state;
    }
    const auto timer = loss_.loss_detection_timer();
    if (timer != last_loss_timer_) {
        last_loss_timer_ = timer;
        tracer_->timer_updated(now, trace::TimerKind::kLossTimeout, timer);
    }
}

void ConnectionImpl::trace_key(Time now, trace::KeyKind kind, bool discarded,
                               trace::KeyTrigger trigger, uint64_t generation) {
    if (!tracer_) return;
    if (discarded)
        tracer_->key_discarded(now, kind, generation);
    else
        tracer_->key_updated(now, kind, generation, trigger);
}

}  // namespace quic
