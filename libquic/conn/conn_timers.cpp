// Timers and the end of a connection: loss detection and PTO (RFC 9002 §6), ACK deadlines
// (RFC 9000 §13.2), pacing, idle and handshake timeouts (§10.1), keep-alive, closing and
// draining (§10.2), stateless reset (§10.3).
#include "conn/connection_impl.h"
#include "conn/peer_durations.h"

namespace quic {

Duration ConnectionImpl::pto_duration() const {
    return loss_.rtt().pto_duration(handshake_confirmed_,
                                    std::chrono::milliseconds(peer_params_.max_ack_delay_ms));
}

// §10.1: the smaller of both sides' max_idle_timeout (0 means none), and at least 3 PTOs.
Duration ConnectionImpl::effective_idle_timeout() const {
    Duration ours = config_.max_idle_timeout;
    Duration theirs = peer_idle_timeout(peer_params_.max_idle_timeout_ms);
    Duration t = ours;
    if (peer_params_applied_ && theirs.count() != 0)
        t = ours.count() == 0 ? theirs : std::min(ours, theirs);
    if (t.count() == 0) return Duration::zero();
    return std::max(t, 3 * pto_duration());
}

void ConnectionImpl::reset_idle_timer(Time now) {
    // During the handshake the handshake timeout applies as well (its own deadline).
    const Duration idle = effective_idle_timeout();
    idle_deadline_ = idle.count() ? std::optional<Time>(now + idle) : std::nullopt;
    if (config_.keep_alive_period.count() > 0 && handshake_complete_)
        keep_alive_at_ = now + config_.keep_alive_period;
}

std::optional<Time> ConnectionImpl::next_timeout() const {
    std::optional<Time> t;
    auto take = [&t](std::optional<Time> c) {
        if (c && (!t || *c < *t)) t = c;
    };
    if (state_ == ConnectionState::kClosed) return std::nullopt;
    take(close_deadline_);
    if (state_ == ConnectionState::kClosing || state_ == ConnectionState::kDraining) return t;
    take(idle_deadline_);
    take(handshake_deadline_);
    take(loss_.loss_detection_timer());
    take(keep_alive_at_);
    take(quiet_probe_at());
    take(one_rtt_.discard_previous_at);
    take(next_path_timeout());
    if (handshake_confirmed_) take(pmtud_.next_timeout());  // DPLPMTUD's raise timer
    // ACK deadlines count only when an ACK could be sent: keys for the space, and room under
    // the anti-amplification limit (otherwise a deadline in the past would spin the loop).
    const auto budget = amplification_budget();
    if (!budget || *budget > 0) {
        for (const auto& sp : spaces_) {
            if (sp->discarded) continue;
            const bool keys = sp->id == PacketNumberSpaceId::kApplicationData ? has_one_rtt_write_
                                                                              : sp->write.valid();
            if (keys) take(sp->received.ack_deadline());
        }
    }
    // Pacing: when data waits only for the pacer, wake up when it allows the next packet.
    if (config_.pacing && cc_->can_send(max_udp_payload_)) {
        Time next = pacer_.next_send_time(last_now_, max_udp_payload_);
        if (next > last_now_ && has_data_to_send(space(PacketNumberSpaceId::kApplicationData)))
            take(next);
    }
    return t;
}

// A quiet path while we wait for the peer's data: a stream we opened still expects it, none of
// our ack-eliciting packets is in flight (so no PTO runs), and nothing came in for a PTO. The
// peer may be thinking, or a NAT may have rebound our address, and the peer's packets now go
// to the old one: only a packet from us shows it the new one (RFC 9000 §9.3), and without
// this a client that has sent its request would wait in silence until the idle timeout. The
// PING's ACK proves the path; the delay doubles with each PING, and after kMaxQuietProbes
// without anything ack-eliciting from the peer they stop (§10.1.2: the idle timeout is not
// deferred for good).
std::optional<Time> ConnectionImpl::quiet_probe_at() const {
    if (!handshake_confirmed_ || quiet_probes_ >= kMaxQuietProbes ||
        !streams_.has_open_local_bidi_streams() || loss_.has_ack_eliciting_in_flight())
        return std::nullopt;
    return last_received_at_ + pto_duration() * (1u << quiet_probes_);
}

void ConnectionImpl::on_timeout(Time now) {
    last_now_ = now;
    if (state_ == ConnectionState::kClosed) return;
    if (close_deadline_ && now >= *close_deadline_) {
        // The closing or draining period (3 PTO, §10.2) is over.
        set_state(now, ConnectionState::kClosed);
        close_deadline_.reset();
        return;
    }
    if (state_ == ConnectionState::kClosing || state_ == ConnectionState::kDraining) return;
    if (handshake_deadline_ && now >= *handshake_deadline_ && !handshake_complete_) {
        finish_closed(
            CloseOrigin::kHandshakeTimeout,
            Error::transport(TransportErrorCode::kNoError, "handshake did not complete in time"));
        return;
    }
    if (idle_deadline_ && now >= *idle_deadline_) {
        // §10.1: silently closed, no CONNECTION_CLOSE.
        finish_closed(CloseOrigin::kIdleTimeout,
                      Error::transport(TransportErrorCode::kNoError, "idle timeout"));
        return;
    }
    if (one_rtt_.discard_previous_at && now >= *one_rtt_.discard_previous_at) {
        trace_key(
            now,
            role_ == Role::kClient ? trace::KeyKind::kOneRttServer : trace::KeyKind::kOneRttClient,
            true, {}, key_generation_ ? key_generation_ - 1 : 0);
        one_rtt_.read_previous = DirectionalKeys{};
        one_rtt_.discard_previous_at.reset();
    }
    on_path_timeout(now);
    if (state_ == ConnectionState::kClosed) return;
    if (keep_alive_at_ && now >= *keep_alive_at_) {
        space(PacketNumberSpaceId::kApplicationData).ping_pending = true;
        keep_alive_at_ = now + config_.keep_alive_period;
    }
    if (auto at = quiet_probe_at(); at && now >= *at) {
        space(PacketNumberSpaceId::kApplicationData).ping_pending = true;
        ++quiet_probes_;
    }
    if (auto timer = loss_.loss_detection_timer(); timer && now >= *timer)
        on_loss_detection_timeout(now);
    trace_recovery(now);
}

// RFC 9002 §6.2: the loss detection timer fired: packets declared lost by time, or a PTO.
void ConnectionImpl::on_loss_detection_timeout(Time now) {
    TimeoutOutcome out = loss_.on_loss_detection_timeout(now, recovery_context());
    if (out.kind == TimeoutOutcome::Kind::kLoss) {
        if (tracer_)
            for (const SentPacket& p : out.lost)
                tracer_->packet_lost(now, packet_type_of(out.space), p.packet_number,
                                     trace::LossTrigger::kTimeThreshold);
        AckOutcome ao;
        ao.lost = std::move(out.lost);
        ao.persistent_congestion = out.persistent_congestion;
        apply_ack_outcome(now, ao, out.space);
    } else if (out.kind == TimeoutOutcome::Kind::kPto) {
        if (tracer_) tracer_->timer_updated(now, trace::TimerKind::kPto, std::nullopt);
        // RFC 9002 §6.2.4: one or two ack-eliciting probes in the spaces named; data that
        // is outstanding is resent (here: marked lost so the probe carries it).
        for (size_t i = 0; i < spaces_.size(); ++i) {
            if (!out.probe_spaces[i] || spaces_[i]->discarded) continue;
            // Resend CRYPTO data in Initial/Handshake probes: the flight may be lost.
            if (i != static_cast<size_t>(PacketNumberSpaceId::kApplicationData)) {
                PacketSpace& sp = *spaces_[i];
                if (sp.crypto_send.bytes_unacked() > 0)
                    sp.crypto_send.on_lost(0, sp.crypto_send.sent_offset(), false);
            } else {
                resend_in_probe(*spaces_[i]);  // before probes_pending counts as data
            }
            spaces_[i]->probes_pending = std::max<unsigned>(out.probe_datagrams, 1);
        }
        // A Handshake probe is no use to a peer still missing our Initial CRYPTO (it cannot
        // read Handshake packets without the ServerHello), and resending that data as an
        // ordinary packet can wait forever behind a congestion window full of those very
        // Handshake probes, which only its acknowledgements would free. So unacknowledged
        // Initial CRYPTO goes out with every probe until the Initial space is discarded.
        PacketSpace& initial = space(PacketNumberSpaceId::kInitial);
        if (!initial.discarded && initial.crypto_send.bytes_unacked() > 0) {
            initial.crypto_send.on_lost(0, initial.crypto_send.sent_offset(), false);
            initial.probes_pending = std::max(1u, initial.probes_pending);
        }
        // Anti-deadlock (§6.2.2.1): the client probes with Handshake if it has the keys,
        // else with an Initial.
        if (out.anti_deadlock && role_ == Role::kClient) {
            PacketSpace& hs = space(PacketNumberSpaceId::kHandshake);
            PacketSpace& in = space(PacketNumberSpaceId::kInitial);
            if (!hs.discarded && hs.write.valid())
                hs.probes_pending = std::max(1u, hs.probes_pending);
            else if (!in.discarded) {
                in.probes_pending = std::max(1u, in.probes_pending);
                if (in.crypto_send.sent_offset() > 0)
                    in.crypto_send.on_lost(0, in.crypto_send.sent_offset(), false);
            }
        }
    }
}

// --- closing ---------------------------------------------------------------------------------

void ConnectionImpl::close(Time now, uint64_t code, std::string reason) {
    last_now_ = now;
    if (state_ != ConnectionState::kHandshaking && state_ != ConnectionState::kEstablished) return;
    close_with_error(now, Error::application(code, std::move(reason)));
    if (close_reason_) close_reason_->origin = CloseOrigin::kLocal;
}

// §10.2.1: enter the closing state; send CONNECTION_CLOSE; stay 3 PTO to answer late packets.
void ConnectionImpl::close_with_error(Time now, Error error) {
    if (state_ == ConnectionState::kClosing || state_ == ConnectionState::kDraining ||
        state_ == ConnectionState::kClosed)
        return;
    local_close_ = error;
    pending_.connection_close = true;
    set_state(now, ConnectionState::kClosing);
    if (tracer_) tracer_->connection_closed(now, ConnectionClosed{CloseOrigin::kLocal, error});
    close_deadline_ = now + 3 * pto_duration();
    close_reason_ = ConnectionClosed{CloseOrigin::kLocal, error};
    emit(ConnectionClosed{CloseOrigin::kLocal, std::move(error)});
}

// §10.2.2: the peer closed; send nothing more, wait 3 PTO, then forget.
void ConnectionImpl::enter_draining(Time now, CloseOrigin origin, Error error) {
    if (state_ == ConnectionState::kDraining || state_ == ConnectionState::kClosed) return;
    const bool already_reported = close_reason_.has_value();
    set_state(now, ConnectionState::kDraining);
    if (tracer_ && !already_reported)
        tracer_->connection_closed(now, ConnectionClosed{origin, error});
    close_deadline_ = now + 3 * pto_duration();
    pending_.connection_close = false;
    if (!already_reported) {
        close_reason_ = ConnectionClosed{origin, error};
        emit(ConnectionClosed{origin, std::move(error)});
    }
}

void ConnectionImpl::finish_closed(CloseOrigin origin, Error error) {
    const bool already_reported = close_reason_.has_value();
    set_state(last_now_, ConnectionState::kClosed);
    if (tracer_ && !already_reported)
        tracer_->connection_closed(last_now_, ConnectionClosed{origin, error});
    close_deadline_.reset();
    if (!already_reported) {
        close_reason_ = ConnectionClosed{origin, error};
        emit(ConnectionClosed{origin, std::move(error)});
    }
}

// The endpoint reclaims a half-open connection: no CONNECTION_CLOSE (the client may not even be
// at that address), nothing left to time out.
void ConnectionImpl::abandon(Time now) {
    last_now_ = now;
    if (state_ == ConnectionState::kClosed) return;
    finish_closed(CloseOrigin::kHandshakeTimeout,
                  Error::transport(TransportErrorCode::kNoError,
                                   "handshake abandoned: the address was not validated in time"));
}

// §10.3.1: a stateless reset puts the connection straight into draining; nothing is sent.
void ConnectionImpl::on_stateless_reset(Time now) {
    (void)now;
    finish_closed(CloseOrigin::kStatelessReset,
                  Error::transport(TransportErrorCode::kNoError, "stateless reset received"));
}

// RFC 9002 §6.2.3: a client's Initial repeating CRYPTO data we already have means it has not
// got our first flight (it would have sent an ACK, or Handshake packets, instead). A server
// resends its unacknowledged Initial and Handshake CRYPTO now, as a probe (not held back by the
// congestion window; still by the anti-amplification limit), rather than at the PTO, which
// without an RTT sample is a second or more away and doubles each time. Bounded per connection.
void ConnectionImpl::resend_crypto_on_duplicate_initial() {
    if (role_ != Role::kServer || crypto_resends_on_duplicate_ >= kMaxCryptoResendsOnDuplicate)
        return;
    PacketSpace& initial = space(PacketNumberSpaceId::kInitial);
    if (initial.discarded || initial.crypto_send.bytes_unacked() == 0) return;
    ++crypto_resends_on_duplicate_;
    for (PacketNumberSpaceId id :
         {PacketNumberSpaceId::kInitial, PacketNumberSpaceId::kHandshake}) {
        PacketSpace& sp = space(id);
        if (sp.discarded || sp.crypto_send.bytes_unacked() == 0) continue;
        sp.crypto_send.on_lost(0, sp.crypto_send.sent_offset(), false);
        sp.probes_pending = std::max(1u, sp.probes_pending);
    }
}

// RFC 9002 §6.2.4: a probe carries new data when there is some, else it may resend what is
// outstanding. A PING alone only asks for an ACK, which a lossy path can lose as well; the
// stream data of the oldest packet in flight lets one probe that gets through deliver it
// (a response whose only packet was lost would otherwise wait for an ACK round trip per
// backed-off PTO, longer than the idle timeout on a 30 % loss path).
void ConnectionImpl::resend_in_probe(PacketSpace& sp) {
    if (has_data_to_send(sp)) return;
    const SentPacket* p = loss_.oldest_ack_eliciting_in_flight(sp.id);
    if (!p) return;
    for (const SentFrame& f : p->frames)
        if (const auto* d = std::get_if<SentStreamData>(&f)) streams_.on_stream_data_lost(*d);
}

}  // namespace quic
