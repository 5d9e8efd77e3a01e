// ACKs and losses (RFC 9002): an ACK frame goes to loss detection, congestion control and ECN
// validation; what acknowledged and lost packets carried goes to its owner (streams, CRYPTO
// streams, connection IDs, the path, PendingFrames), lost frames to be sent again with
// current values (RFC 9000 §13.3).
#include "conn/connection_impl.h"
#include "conn/peer_durations.h"
#include "quic/overloaded.h"

namespace quic {

Status ConnectionImpl::on_ack_frame(Time now, PacketNumberSpaceId sid, const AckFrame& ack) {
    // §19.3: ACK Delay is scaled by the peer's ack_delay_exponent (Initial and Handshake use
    // the same field; RFC 9002 §5.3 ignores it there).
    const uint64_t exponent = peer_params_applied_ ? peer_params_.ack_delay_exponent : 3;
    const Duration ack_delay = peer_ack_delay(ack.ack_delay, exponent);
    auto outcome = loss_.on_ack_received(sid, ack, ack_delay, now, recovery_context());
    if (!outcome.ok()) return std::move(outcome).error();
    stats_.ecn_ce_received += path_.ecn().on_ack(sid, ack, *outcome);
    if (tracer_) {
        const PacketType type = packet_type_of(sid);
        // RFC 9002 §6.1: packet threshold when kPacketThreshold newer ones were acked.
        for (const SentPacket& p : outcome->lost)
            tracer_->packet_lost(now, type, p.packet_number,
                                 p.packet_number + kPacketThreshold <= ack.largest_acknowledged
                                     ? trace::LossTrigger::kReorderingThreshold
                                     : trace::LossTrigger::kTimeThreshold);
    }
    apply_ack_outcome(now, *outcome, sid);
    return {};
}

void ConnectionImpl::apply_ack_outcome(Time now, AckOutcome& outcome, PacketNumberSpaceId sid) {
    std::vector<AckedPacketInfo> acked;
    acked.reserve(outcome.acked.size());
    const bool app = sid == PacketNumberSpaceId::kApplicationData;
    bool pmtu_changed = false;
    // RFC 9000 §14.4: DPLPMTUD probes are outside congestion control (see on_packet_sent).
    for (const SentPacket& p : outcome.acked) {
        on_packet_acked(now, sid, p);
        if (app) pmtud_on_acked(now, p, pmtu_changed);
        if (p.in_flight && !p.is_pmtu_probe)
            acked.push_back({p.packet_number, p.sent_bytes, p.time_sent, p.delivery});
    }
    std::vector<LostPacketInfo> lost;
    for (const SentPacket& p : outcome.lost) {
        on_packet_lost(sid, p);
        if (app) pmtud_on_lost(now, p, pmtu_changed);
        if (p.is_pmtu_probe) continue;  // a probe's loss is not a lost packet of the flow
        stats_.packets_lost++;
        if (p.in_flight) lost.push_back({p.packet_number, p.sent_bytes, p.time_sent, p.delivery});
    }
    const RttEstimator& rtt = loss_.rtt();
    RttSnapshot snap{rtt.smoothed_rtt(), rtt.min_rtt(), rtt.latest_rtt(), rtt.has_sample()};
    if (!lost.empty()) cc_->on_packets_lost(lost, now, outcome.persistent_congestion);
    if (!acked.empty()) cc_->on_packets_acked(acked, now, snap);
    if (outcome.ecn_ce_increased && outcome.largest_acked_time_sent)
        cc_->on_ecn_congestion(*outcome.largest_acked_time_sent, now);
    // §8.1 / RFC 9002 §6.2.2.1: a client's Handshake packet acknowledged means the server
    // validated our address.
    if (sid == PacketNumberSpaceId::kHandshake && !outcome.acked.empty())
        peer_address_validated_ = true;
    if (pmtu_changed || (pmtud_.search_complete() && !pmtu_search_done_traced_))
        on_pmtu_changed(now);
    update_pacer(now);
}

void ConnectionImpl::pmtud_on_acked(Time now, const SentPacket& p, bool& changed) {
    if (p.is_pmtu_probe)
        changed |= pmtud_.on_probe_acked(now, p.sent_bytes);
    else
        changed |= pmtud_.on_packet_acked(p.packet_number, p.sent_bytes);
}

void ConnectionImpl::pmtud_on_lost(Time now, const SentPacket& p, bool& changed) {
    if (p.is_pmtu_probe)
        changed |= pmtud_.on_probe_lost(now, p.sent_bytes);
    else
        changed |= pmtud_.on_packet_lost(now, p.packet_number, p.sent_bytes);
}

// The PLPMTU changed: datagrams are built at the new size, and congestion control and pacing
// count in it (RFC 9002 §7.2: the windows are in multiples of max_datagram_size).
// The search ending without a change is reported once too (qlog's "done").
void ConnectionImpl::on_pmtu_changed(Time now) {
    const size_t old = max_udp_payload_;
    max_udp_payload_ = pmtud_.current();
    const bool done = pmtud_.search_complete();
    if (max_udp_payload_ == old && (!done || pmtu_search_done_traced_)) return;
    pmtu_search_done_traced_ = done;
    if (max_udp_payload_ != old) cc_->set_max_datagram_size(max_udp_payload_);
    // RFC 9221 §5: DATAGRAM frames queued for the larger size no longer fit; they are dropped
    // rather than left to block the queue.
    if (max_udp_payload_ < old)
        pending_.datagrams.erase_if([&](const Bytes& d) { return d.size() > max_datagram_size(); });
    if (tracer_) tracer_->mtu_updated(now, old, max_udp_payload_, done);
}

void ConnectionImpl::on_packet_too_big(Time now, size_t max_udp_payload) {
    last_now_ = now;
    if (state_ != ConnectionState::kEstablished) return;
    if (pmtud_.on_packet_too_big(now, max_udp_payload)) {
        on_pmtu_changed(now);
        update_pacer(now);
    }
}

void ConnectionImpl::on_packet_acked(Time now, PacketNumberSpaceId sid, const SentPacket& p) {
    (void)now;
    PacketSpace& sp = space(sid);
    if (sid == PacketNumberSpaceId::kApplicationData && one_rtt_.first_pn_written_in_phase &&
        p.packet_number >= *one_rtt_.first_pn_written_in_phase)
        one_rtt_.update_acknowledged = true;
    for (const SentFrame& f : p.frames) {
        std::visit(
            Overloaded{
                [&](const SentStreamData& d) { streams_.on_stream_data_acked(now, d); },
                [&](const SentCryptoData& d) {
                    sp.crypto_send.on_acked(d.offset, d.length, false);
                },
                [&](const SentAck& a) { sp.received.on_ack_frame_acked(a.largest_acknowledged); },
                [&](const SentControlFrame& c) {
                    if (c.frame_type == to_underlying(FrameType::kResetStream)) {
                        streams_.on_reset_stream_acked(now, c.a);
                    } else if (c.frame_type == to_underlying(FrameType::kNewConnectionId)) {
                        cids_.on_new_connection_id_acked(c.a);
                    }
                },
                [](const SentNewToken&) {},
                [](const SentDatagram&) {},
                [](const SentPathChallenge&) {},
            },
            f);
    }
}

// RFC 9000 §13.3: what a lost packet carried is sent again, with current values.
void ConnectionImpl::on_packet_lost(PacketNumberSpaceId sid, const SentPacket& p) {
    PacketSpace& sp = space(sid);
    for (const SentFrame& f : p.frames) {
        std::visit(
            Overloaded{
                [&](const SentStreamData& d) { streams_.on_stream_data_lost(d); },
                [&](const SentCryptoData& d) {
                    if (!sp.discarded) sp.crypto_send.on_lost(d.offset, d.length, false);
                },
                [](const SentAck&) {},
                [&](const SentControlFrame& c) { on_control_frame_lost(c); },
                [&](const SentNewToken& t) { pending_.new_token = t.token; },
                [](const SentDatagram&) {},  // RFC 9221 §5.2: datagrams are not retransmitted
                [&](const SentPathChallenge& c) { on_path_challenge_lost(c.data); },
            },
            f);
    }
}

// Connection-level control frames wait in PendingFrames (or their manager) to be sent again.
void ConnectionImpl::on_control_frame_lost(const SentControlFrame& c) {
    switch (static_cast<FrameType>(c.frame_type)) {
        case FrameType::kMaxData:
            pending_.max_data = true;
            break;
        case FrameType::kMaxStreamsBidi:
            pending_.max_streams[0] = true;
            break;
        case FrameType::kMaxStreamsUni:
            pending_.max_streams[1] = true;
            break;
        case FrameType::kDataBlocked:
            pending_.data_blocked = true;
            break;
        case FrameType::kHandshakeDone:
            pending_.handshake_done = true;
            break;
        case FrameType::kRetireConnectionId:
            cids_.on_retire_connection_id_lost(c.a);
            break;
        case FrameType::kNewConnectionId:
            cids_.on_new_connection_id_lost(c.a);
            break;
        case FrameType::kResetStream:
        case FrameType::kStopSending:
        case FrameType::kMaxStreamData:
        case FrameType::kStreamDataBlocked:
            streams_.on_stream_control_frame_lost(c);
            break;
        default:
            break;
    }
}

}  // namespace quic
