// The receive path: datagrams -> packets (RFC 9000 §12.2, §17) -> header protection and
// decryption (RFC 9001 §5) -> frames (§19). Malformed packets are dropped; frames that break
// the protocol close the connection with the RFC's error code.
#include "conn/connection_impl.h"
#include "crypto/initial_secrets.h"
#include "crypto/retry_integrity.h"
#include "quic/overloaded.h"
#include "wire/packet_number.h"
#include "wire/stateless_reset.h"
#include "wire/version_negotiation.h"

namespace quic {
void ConnectionImpl::on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) {
    last_now_ = now;
    if (state_ == ConnectionState::kClosed || state_ == ConnectionState::kDraining) return;
    stats_.bytes_received += datagram.size();
    if (!address_validated_) bytes_received_before_validation_ += datagram.size();
    if (state_ == ConnectionState::kClosing) {
        // §10.2.1: answer with CONNECTION_CLOSE, rate-limited.
        if (packets_since_close_++ % kClosingPacketsPerClose == 0) close_frame_pending_ = true;
        return;
    }
    // Keep the tail: a failed decryption wipes the buffer, and a stateless reset is
    // recognised by its last 16 bytes (RFC 9000 §10.3.1).
    std::optional<StatelessResetToken> tail = stateless_reset_token_candidate(datagram);
    const size_t dcid_len = local_cids_.begin()->second.cid.size();
    SplitDatagram split = split_coalesced_packets(datagram, dcid_len);
    const uint64_t processed_before = stats_.packets_received;
    if (split.packets.empty())
        trace_drop(now, PacketType::kOneRtt, datagram.size(), trace::DropReason::kHeaderParseError);
    for (const CoalescedPacket& cp : split.packets) {
        MutableByteSpan pkt(const_cast<uint8_t*>(cp.bytes.data()), cp.bytes.size());
        process_packet(now, path, ecn, pkt, cp.header, datagram.size());
        if (state_ == ConnectionState::kClosed || state_ == ConnectionState::kDraining) return;
    }
    trace_recovery(now);
    if (stats_.packets_received == processed_before && tail) {
        for (const auto& [seq, pc] : peer_cids_)
            if (pc.token && stateless_reset_token_equal(*pc.token, *tail)) {
                on_stateless_reset(now);
                return;
            }
    }
}

void ConnectionImpl::buffer_undecryptable(const Path& path, Ecn ecn, ByteSpan packet) {
    // RFC 9001 §5.7: keep a few packets that arrive before their keys; drop beyond the cap.
    if (undecryptable_.size() >= kMaxUndecryptablePackets) {
        trace_drop(last_now_, PacketType::kOneRtt, packet.size(), trace::DropReason::kBufferFull);
        return;
    }
    undecryptable_.push_back(Buffered{path, ecn, Bytes(packet.begin(), packet.end())});
    if (tracer_) tracer_->packet_buffered(last_now_, PacketType::kOneRtt, packet.size());
}

void ConnectionImpl::replay_undecryptable(Time now) {
    if (undecryptable_.empty()) return;
    std::deque<Buffered> pending;
    pending.swap(undecryptable_);
    for (Buffered& b : pending) {
        auto header = parse_packet_header(b.bytes, local_cids_.begin()->second.cid.size());
        if (!header.ok()) continue;
        process_packet(now, b.path, b.ecn, b.bytes, *header, b.bytes.size());
        if (state_ != ConnectionState::kHandshaking && state_ != ConnectionState::kEstablished)
            return;
    }
}

void ConnectionImpl::process_packet(Time now, const Path& path, Ecn ecn, MutableByteSpan packet,
                                    const PacketHeader& header, size_t datagram_size) {
    switch (header.type) {
        case PacketType::kVersionNegotiation:
            handle_version_negotiation(now, header);
            return;
        case PacketType::kRetry:
            handle_retry(now, packet, header);
            return;
        default:
            break;
    }
    if (header.long_header && header.version != version_) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kUnsupportedVersion);
        return;
    }
    // §17.2.2: a client drops server Initials that carry a token.
    if (role_ == Role::kClient && header.type == PacketType::kInitial && !header.token.empty()) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kUnexpectedPacket);
        return;
    }
    if (role_ == Role::kClient && header.type == PacketType::kZeroRtt) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kUnexpectedPacket);
        return;
    }
    const PacketNumberSpaceId sid = space_of(header.type);
    PacketSpace& sp = space(sid);
    if (sp.discarded) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kKeysDiscarded);
        return;
    }

    // Header protection (RFC 9001 §5.4): 1-RTT header keys are fixed across key updates.
    HeaderProtector* hp = nullptr;
    if (header.type == PacketType::kOneRtt)
        hp = one_rtt_.read_header.get();
    else if (header.type == PacketType::kZeroRtt)
        hp = zero_rtt_keys_.header.get();
    else
        hp = sp.read.header.get();
    if (!hp) {
        // Keys not yet available: 0-RTT before the ClientHello is processed, Handshake or
        // 1-RTT before the handshake gets there (RFC 9001 §5.7).
        const bool may_arrive = header.type == PacketType::kHandshake ||
                                (header.type == PacketType::kOneRtt && !has_one_rtt_read_) ||
                                (header.type == PacketType::kZeroRtt && role_ == Role::kServer &&
                                 !handshake_complete_ && config_.enable_0rtt);
        if (may_arrive)
            buffer_undecryptable(path, ecn, packet);
        else
            trace_drop(now, header.type, packet.size(), trace::DropReason::kKeyUnavailable);
        return;
    }
    auto unprotected = remove_header_protection(packet, header.pn_offset, *hp);
    if (!unprotected.ok()) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kHeaderParseError);
        return;
    }
    const UnprotectedHeader& uh = *unprotected;
    const uint64_t pn =
        decode_packet_number(sp.received.largest_received(), uh.truncated_pn, uh.pn_length * 8);
    bool next_phase = false;
    DirectionalKeys* keys = read_keys_for(header.type, uh.key_phase, pn, next_phase);
    if (!keys || !keys->packet) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kKeyUnavailable);
        return;
    }
    if (sp.received.is_duplicate(pn)) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kDuplicate);
        return;
    }
    auto plain = open_packet_payload(packet, uh, pn, *keys->packet);
    if (!plain) {
        trace_drop(now, header.type, packet.size(),
                   trace::DropReason::kPayloadDecryptError);  // RFC 9001 §5.5
        return;
    }
    ByteSpan payload(packet.data() + uh.header_length, *plain);

    // §17.2 / §17.3.1: reserved bits must be 0 after removing header protection.
    const uint8_t reserved = header.long_header ? 0x0c : 0x18;
    if (uh.first_byte & reserved) {
        close_with_error(now, Error::transport(TransportErrorCode::kProtocolViolation,
                                               "reserved header bits set"));
        return;
    }
    if (payload.empty()) {  // §12.4: a packet must contain frames
        close_with_error(
            now, Error::transport(TransportErrorCode::kProtocolViolation, "packet without frames"));
        return;
    }
    if (header.type == PacketType::kOneRtt) {
        if (next_phase) {
            roll_read_keys(now);
            one_rtt_.first_pn_read_in_phase = pn;
        } else if (!one_rtt_.first_pn_read_in_phase && uh.key_phase == one_rtt_.read_phase) {
            one_rtt_.first_pn_read_in_phase = pn;
        }
    }

    // The first packet from the server gives us its connection ID (§7.2).
    if (role_ == Role::kClient && header.long_header && !received_first_packet_) {
        received_first_packet_ = true;
        peer_cid_ = header.scid;
        peer_cids_[0].cid = header.scid;
    }
    // §8.1: a Handshake packet from the client proves it owns its address; the server then
    // also drops its Initial keys (RFC 9001 §4.9.1).
    if (role_ == Role::kServer && header.type == PacketType::kHandshake) {
        address_validated_ = true;
        discard_space(now, PacketNumberSpaceId::kInitial);
    }

    stats_.packets_received++;
    if (header.type == PacketType::kZeroRtt) stats_.packets_received_0rtt++;
    trace_packet(now, false, header.type, pn, &header, packet.size(), uh.key_phase, payload);
    const auto largest_before = sp.received.largest_received();
    const bool is_largest = !largest_before || pn > *largest_before;
    bool ack_eliciting = false, probing_only = true;
    Status st = process_frames(now, header.type, payload, ack_eliciting, probing_only);
    if (!st.ok()) {
        close_with_error(now, std::move(st).error());
        return;
    }
    if (state_ == ConnectionState::kDraining || state_ == ConnectionState::kClosed) return;
    if (!sp.discarded) sp.received.on_packet_received(pn, ack_eliciting, ecn, now);
    // §9.3: a non-probing packet with the largest packet number from a new address moves the
    // connection there (a NAT rebinding, or a client migrating). Only servers follow (§9).
    if (role_ == Role::kServer && header.type == PacketType::kOneRtt && is_largest &&
        !probing_only && !(path.remote == path_.remote) && handshake_confirmed_)
        on_peer_address_change(now, path, datagram_size);
    reset_idle_timer(now);
    ack_eliciting_since_last_receive_ = false;
}

void ConnectionImpl::receive_frames_for_testing(Time now, PacketType type, ByteSpan payload) {
    last_now_ = now;
    bool ack_eliciting = false, probing_only = true;
    Status st = process_frames(now, type, payload, ack_eliciting, probing_only);
    if (!st.ok()) close_with_error(now, std::move(st).error());
}

bool ConnectionImpl::handle_version_negotiation(Time now, const PacketHeader& header) {
    // §6.2: only a client, only before any other packet from the server was processed.
    if (role_ != Role::kClient || received_first_packet_) return false;
    Status valid =
        version_negotiation_is_valid(header, version_, original_dcid_, local_cids_.at(0).cid);
    if (tracer_) tracer_->version_negotiation_received(now, header.supported_versions);
    if (!valid.ok()) {
        trace_drop(now, header.type, header.packet_size, trace::DropReason::kUnexpectedPacket);
        return false;
    }
    std::string offered;
    for (Version v : header.supported_versions) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%s0x%08x", offered.empty() ? "" : " ", v);
        offered += buf;
    }
    // No version in common that we could switch to (we speak only the one we offered).
    finish_closed(CloseOrigin::kVersionMismatch,
                  Error::transport(TransportErrorCode::kVersionNegotiationError,
                                   "no shared QUIC version; the server offers " + offered));
    (void)now;
    return true;
}

bool ConnectionImpl::handle_retry(Time now, ByteSpan packet, const PacketHeader& header) {
    // §17.2.5.2: a client accepts at most one Retry, only before any other server packet.
    if (role_ != Role::kClient || retry_received_ || received_first_packet_) return false;
    if (header.scid == original_dcid_ ||
        !verify_retry_integrity(header.version, original_dcid_, packet)) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kUnexpectedPacket);
        return false;
    }
    retry_received_ = true;
    if (tracer_) tracer_->retry_received(now, header.scid, header.retry_token.size());
    retry_source_cid_ = header.scid;
    peer_cid_ = header.scid;
    peer_cids_[0].cid = header.scid;
    token_.assign(header.retry_token.begin(), header.retry_token.end());
    // New Initial keys from the Retry's SCID (RFC 9001 §5.2); packet numbers keep rising
    // (§17.2.5.3), and the ClientHello is sent again from the start.
    initial_dcid_for_keys_ = header.scid;
    InitialKeys keys = make_initial_keys(version_, initial_dcid_for_keys_);
    PacketSpace& init = space(PacketNumberSpaceId::kInitial);
    init.write = std::move(keys.client);
    init.read = std::move(keys.server);
    for (const SentPacket& p : loss_.on_retry_received(now)) {
        if (p.in_flight) cc_->on_packets_discarded(p.sent_bytes);
        on_packet_lost(PacketNumberSpaceId::kInitial, p);
    }
    // RFC 9002 §6.3 / loss detector: the Retry's round trip is not an RTT sample for the
    // congestion controller; start it over.
    cc_ = make_congestion_controller(to_algorithm(config_.congestion_control), max_udp_payload_);
    return true;
}

Status ConnectionImpl::process_frames(Time now, PacketType type, ByteSpan payload,
                                      bool& ack_eliciting, bool& probing_only) {
    ByteReader r(payload);
    while (!r.empty()) {
        auto frame = parse_frame(r, type);
        if (!frame.ok()) return std::move(frame).error();
        if (is_ack_eliciting(*frame)) ack_eliciting = true;
        if (!is_probing_frame(*frame)) probing_only = false;
        QUIC_TRY(on_frame(now, type, *frame));
        if (state_ == ConnectionState::kDraining || state_ == ConnectionState::kClosed) break;
    }
    return {};
}

Status ConnectionImpl::on_frame(Time now, PacketType type, const Frame& frame) {
    const PacketNumberSpaceId sid = space_of(type);
    auto violation = [](const char* why, FrameType ft) {
        return Error::transport(TransportErrorCode::kProtocolViolation, why, to_underlying(ft));
    };
    return std::visit(
        Overloaded{
            [](const PaddingFrame&) -> Status { return {}; },
            [](const PingFrame&) -> Status { return {}; },
            [&](const AckFrame& f) -> Status { return on_ack_frame(now, sid, f); },
            [&](const CryptoFrame& f) -> Status { return on_crypto_frame(now, space(sid), f); },
            [&](const StreamFrame& f) -> Status { return on_stream_frame(now, f); },
            [&](const ResetStreamFrame& f) -> Status { return on_reset_stream(f); },
            [&](const StopSendingFrame& f) -> Status { return on_stop_sending(f); },
            [&](const MaxStreamDataFrame& f) -> Status { return on_max_stream_data(f); },
            [&](const MaxDataFrame& f) -> Status {
                if (send_flow_.on_max_data(f.maximum_data))
                    for (auto& [id, s] : streams_)
                        if (s->has_send && s->send.has_pending()) streams_with_data_.insert(id);
                return {};
            },
            [&](const MaxStreamsFrame& f) -> Status {
                auto dir = f.bidirectional ? StreamDirection::kBidirectional
                                           : StreamDirection::kUnidirectional;
                if (stream_limits_->local_limits(dir).on_max_streams(f.maximum_streams))
                    emit(StreamsAvailable{f.bidirectional});
                return {};
            },
            [&](const DataBlockedFrame&) -> Status { return {}; },
            [&](const StreamDataBlockedFrame& f) -> Status {
                auto s = stream_for_frame(f.stream_id, StreamFrameKind::kStreamDataBlocked);
                return s.ok() ? Status{} : Status(std::move(s).error());
            },
            [&](const StreamsBlockedFrame&) -> Status { return {}; },
            [&](const NewConnectionIdFrame& f) -> Status { return on_new_connection_id(f); },
            [&](const RetireConnectionIdFrame& f) -> Status { return on_retire_connection_id(f); },
            [&](const PathChallengeFrame& f) -> Status {
                // §8.2.2: answer on the same path; only the latest few challenges matter.
                if (path_responses_.size() >= kMaxPendingPathResponses) path_responses_.pop_front();
                path_responses_.push_back(f.data);
                return {};
            },
            [&](const PathResponseFrame& f) -> Status {
                // §8.2.3: a matching response validates the new path.
                if (path_challenge_outstanding_ && *path_challenge_outstanding_ == f.data) {
                    path_challenge_outstanding_.reset();
                    path_challenge_pending_.reset();
                    address_validated_ = true;
                }
                return {};
            },
            [&](const ConnectionCloseFrame& f) -> Status {
                on_connection_close_frame(now, f);
                return {};
            },
            [&](const HandshakeDoneFrame&) -> Status {
                // §19.20: only servers send it.
                if (role_ == Role::kServer)
                    return violation("HANDSHAKE_DONE from a client", FrameType::kHandshakeDone);
                confirm_handshake(now);
                return {};
            },
            [&](const NewTokenFrame& f) -> Status {
                // §19.7: only servers send it.
                if (role_ == Role::kServer)
                    return violation("NEW_TOKEN from a client", FrameType::kNewToken);
                if (f.token.size() <= kMaxNewTokenLength)
                    emit(NewTokenReceived{Bytes(f.token.begin(), f.token.end())});
                return {};
            },
            [&](const DatagramFrame& f) -> Status {
                // RFC 9221 §3: DATAGRAM without having advertised support, or larger than we
                // allow, is a PROTOCOL_VIOLATION.
                if (config_.max_datagram_frame_size == 0)
                    return violation("DATAGRAM not negotiated", FrameType::kDatagram);
                if (f.data.size() > config_.max_datagram_frame_size)
                    return violation("DATAGRAM larger than max_datagram_frame_size",
                                     FrameType::kDatagram);
                if (tracer_) tracer_->datagram_received(now, f.data.size());
                emit(DatagramReceived{Bytes(f.data.begin(), f.data.end())});
                return {};
            },
        },
        frame);
}

// --- ACKs ------------------------------------------------------------------------------------

Status ConnectionImpl::on_ack_frame(Time now, PacketNumberSpaceId sid, const AckFrame& ack) {
    // §19.3: ACK Delay is scaled by the peer's ack_delay_exponent (Initial and Handshake use
    // the same field; RFC 9002 §5.3 ignores it there).
    const uint64_t exponent = peer_params_applied_ ? peer_params_.ack_delay_exponent : 3;
    const uint64_t micros = exponent > 20 ? 0 : ack.ack_delay << exponent;
    const Duration ack_delay = std::chrono::microseconds(micros > (1ull << 40) ? 0 : micros);
    auto outcome = loss_.on_ack_received(sid, ack, ack_delay, now, recovery_context());
    if (!outcome.ok()) return std::move(outcome).error();
    validate_ecn(sid, ack, *outcome);
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

// RFC 9000 §13.4.2.1: the peer's ECN counts must account for every newly acknowledged packet
// we marked ECT(0), and never decrease; otherwise the path (or the peer) mangles ECN and we
// stop marking. A CE increase is a congestion signal (handled with the ACK outcome).
void ConnectionImpl::validate_ecn(PacketNumberSpaceId sid, const AckFrame& ack,
                                  const AckOutcome& outcome) {
    if (ecn_state_ == EcnState::kFailed || ecn_state_ == EcnState::kOff) return;
    uint64_t newly_acked_ect0 = 0;
    for (const SentPacket& p : outcome.acked) newly_acked_ect0 += p.ect0;
    EcnCounts& last = ecn_acked_[static_cast<size_t>(sid)];
    if (!ack.ecn) {
        if (newly_acked_ect0 > 0) ecn_state_ = EcnState::kFailed;
        return;
    }
    const EcnCounts& now_counts = *ack.ecn;
    if (now_counts.ect0 < last.ect0 || now_counts.ect1 < last.ect1 || now_counts.ce < last.ce ||
        now_counts.ect1 > last.ect1 ||  // we never send ECT(1)
        (now_counts.ect0 - last.ect0) + (now_counts.ce - last.ce) < newly_acked_ect0) {
        ecn_state_ = EcnState::kFailed;
        return;
    }
    stats_.ecn_ce_received += now_counts.ce - last.ce;
    last = now_counts;
    if (newly_acked_ect0 > 0) ecn_state_ = EcnState::kCapable;
}

Ecn ConnectionImpl::send_ecn() const {
    return ecn_state_ == EcnState::kTesting || ecn_state_ == EcnState::kCapable ? Ecn::kEct0
                                                                                : Ecn::kNotEct;
}

void ConnectionImpl::apply_ack_outcome(Time now, AckOutcome& outcome, PacketNumberSpaceId sid) {
    std::vector<AckedPacketInfo> acked;
    acked.reserve(outcome.acked.size());
    for (const SentPacket& p : outcome.acked) {
        on_packet_acked(now, sid, p);
        if (p.in_flight) acked.push_back({p.packet_number, p.sent_bytes, p.time_sent});
    }
    std::vector<LostPacketInfo> lost;
    for (const SentPacket& p : outcome.lost) {
        on_packet_lost(sid, p);
        if (p.in_flight) lost.push_back({p.packet_number, p.sent_bytes, p.time_sent});
    }
    stats_.packets_lost += outcome.lost.size();
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
    update_pacer(now);
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
                [&](const SentStreamData& d) {
                    StreamRecord* s = find_stream(d.stream_id);
                    if (!s) return;
                    const uint64_t before = s->send.buffered_bytes();
                    s->send.on_acked(d.offset, d.length, d.fin);
                    if (s->write_refused && s->send.buffered_bytes() < before &&
                        s->send.buffered_bytes() < config_.max_stream_send_buffer) {
                        s->write_refused = false;
                        emit(StreamWritable{s->id});
                    }
                    if (s->send.all_acked() && !s->reset_code) {
                        s->send_state.on_all_data_acked();
                        maybe_retire_stream(*s);
                    }
                },
                [&](const SentCryptoData& d) {
                    sp.crypto_send.on_acked(d.offset, d.length, false);
                },
                [&](const SentAck& a) { sp.received.on_ack_frame_acked(a.largest_acknowledged); },
                [&](const SentControlFrame& c) {
                    if (c.frame_type == to_underlying(FrameType::kResetStream)) {
                        if (StreamRecord* s = find_stream(c.a)) {
                            s->send_state.on_reset_acked();
                            maybe_retire_stream(*s);
                        }
                    } else if (c.frame_type == to_underlying(FrameType::kNewConnectionId)) {
                        auto it = local_cids_.find(c.a);
                        if (it != local_cids_.end()) it->second.announced = true;
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
                [&](const SentStreamData& d) {
                    StreamRecord* s = find_stream(d.stream_id);
                    if (!s || s->reset_code) return;
                    s->send.on_lost(d.offset, d.length, d.fin);
                    streams_with_data_.insert(s->id);
                },
                [&](const SentCryptoData& d) {
                    if (!sp.discarded) sp.crypto_send.on_lost(d.offset, d.length, false);
                },
                [](const SentAck&) {},
                [&](const SentControlFrame& c) {
                    switch (static_cast<FrameType>(c.frame_type)) {
                        case FrameType::kMaxData:
                            max_data_pending_ = true;
                            break;
                        case FrameType::kMaxStreamsBidi:
                            max_streams_pending_[0] = true;
                            break;
                        case FrameType::kMaxStreamsUni:
                            max_streams_pending_[1] = true;
                            break;
                        case FrameType::kDataBlocked:
                            data_blocked_pending_ = true;
                            break;
                        case FrameType::kHandshakeDone:
                            handshake_done_pending_ = true;
                            break;
                        case FrameType::kRetireConnectionId:
                            retire_pending_.push_back(c.a);
                            break;
                        case FrameType::kNewConnectionId: {
                            auto it = local_cids_.find(c.a);
                            if (it != local_cids_.end()) it->second.pending = true;
                            break;
                        }
                        case FrameType::kResetStream:
                        case FrameType::kStopSending:
                        case FrameType::kMaxStreamData:
                        case FrameType::kStreamDataBlocked: {
                            StreamRecord* s = find_stream(c.a);
                            if (!s) break;
                            if (c.frame_type == to_underlying(FrameType::kResetStream))
                                s->reset_pending = true;
                            else if (c.frame_type == to_underlying(FrameType::kStopSending))
                                s->stop_sending_pending = s->recv_state.can_send_stop_sending();
                            else if (c.frame_type == to_underlying(FrameType::kMaxStreamData))
                                s->max_stream_data_pending =
                                    s->recv_state.can_send_max_stream_data();
                            streams_with_control_.insert(s->id);
                            break;
                        }
                        default:
                            break;
                    }
                },
                [&](const SentNewToken& t) { new_token_pending_ = t.token; },
                [](const SentDatagram&) {},  // RFC 9221 §5.2: datagrams are not retransmitted
                [&](const SentPathChallenge& c) {
                    if (path_challenge_outstanding_ && *path_challenge_outstanding_ == c.data)
                        path_challenge_pending_ = c.data;
                },
            },
            f);
    }
}

// RFC 9000 §9.3: follow the peer to its new address, and validate it before trusting it: until
// the PATH_RESPONSE, anti-amplification limits what we send there (§9.3.1). A new IP address
// also means a new network path, so congestion control and RTT start over (§9.4); a port
// change alone is a NAT rebinding on the same path.
void ConnectionImpl::on_peer_address_change(Time now, const Path& path, size_t datagram_size) {
    const bool port_only = path.remote.same_ip(path_.remote);
    path_ = path;
    stats_.path_migrations++;
    if (!port_only) {
        loss_.rtt().reset(config_.initial_rtt);
        cc_ =
            make_congestion_controller(to_algorithm(config_.congestion_control), max_udp_payload_);
    }
    address_validated_ = false;
    // A new path must prove its ECN support again (§13.4.2).
    if (ecn_state_ != EcnState::kOff) ecn_state_ = EcnState::kTesting;
    bytes_received_before_validation_ = datagram_size;
    bytes_sent_before_validation_ = 0;
    std::array<uint8_t, 8> challenge;
    random_.fill(challenge);
    path_challenge_pending_ = challenge;
    path_challenge_outstanding_ = challenge;
    (void)now;
}

// --- CRYPTO ----------------------------------------------------------------------------------

Status ConnectionImpl::on_crypto_frame(Time now, PacketSpace& sp, const CryptoFrame& f) {
    auto r = sp.crypto_recv.insert(f.offset, f.data, false);
    if (!r.ok()) return std::move(r).error();
    if (*r != ReceiveBuffer::InsertOutcome::kAccepted) return {};
    const bool had_handshake_keys = space(PacketNumberSpaceId::kHandshake).read.valid();
    const bool had_one_rtt = has_one_rtt_read_;
    QUIC_TRY(feed_tls(now));
    // New keys may open packets that arrived early.
    if ((!had_handshake_keys && space(PacketNumberSpaceId::kHandshake).read.valid()) ||
        (!had_one_rtt && has_one_rtt_read_) || zero_rtt_keys_.valid())
        replay_undecryptable(now);
    return {};
}

// --- streams ---------------------------------------------------------------------------------

Result<StreamRecord*> ConnectionImpl::stream_for_frame(StreamId id, StreamFrameKind kind) {
    QUIC_TRY(check_stream_frame_allowed(id, kind, *stream_limits_));
    if (StreamRecord* s = find_stream(id)) return s;
    const StreamInitiator local = initiator_of(role_);
    if (is_locally_initiated(id, local)) return static_cast<StreamRecord*>(nullptr);  // closed
    PeerStreamLimits& limits = stream_limits_->peer_limits(stream_direction(id));
    if (limits.is_opened(id)) return static_cast<StreamRecord*>(nullptr);  // closed and forgotten
    auto opened = limits.on_peer_stream(id);
    if (!opened.ok()) return std::move(opened).error();
    // §3.2: opening a stream opens every lower-numbered one of its type.
    if (*opened) {
        for (StreamId sid = (*opened)->first; sid <= (*opened)->last; sid += 4) {
            create_stream(sid);
            emit(StreamOpened{sid});
        }
    }
    return find_stream(id);
}

Status ConnectionImpl::on_stream_frame(Time now, const StreamFrame& f) {
    (void)now;
    auto found = stream_for_frame(f.stream_id, StreamFrameKind::kStream);
    if (!found.ok()) return std::move(found).error();
    StreamRecord* s = *found;
    if (!s) return {};  // a stream we already closed: late retransmission
    const uint64_t end = f.offset + f.data.size();
    // Flow control before buffering (§4.1): the window bounds what a peer can make us hold.
    QUIC_TRY(s->recv_flow.on_data_received(end));
    const uint64_t prev_highest = s->recv.highest_offset_received();
    if (end > prev_highest)
        QUIC_TRY(recv_flow_->on_data_received(recv_flow_->highest_received() + end - prev_highest));
    auto r = s->recv.insert(f.offset, f.data, f.fin);
    if (!r.ok()) {
        Error e = std::move(r).error();
        e.frame_type = to_underlying(FrameType::kStream);
        return e;
    }
    if (*r == ReceiveBuffer::InsertOutcome::kAccepted)
        stats_.stream_bytes_received += f.data.size();
    if (f.fin) s->recv_state.on_size_known();
    if (s->recv.all_received()) s->recv_state.on_all_data_received();
    if (s->recv.readable_bytes() > 0 || s->recv.is_finished()) deliver_readable(*s);
    // Grow the connection window along with stream windows (quic-go's rule: 1.5x).
    recv_flow_->ensure_window_at_least(s->recv_flow.window() * 3 / 2);
    return {};
}

Status ConnectionImpl::on_reset_stream(const ResetStreamFrame& f) {
    auto found = stream_for_frame(f.stream_id, StreamFrameKind::kResetStream);
    if (!found.ok()) return std::move(found).error();
    StreamRecord* s = *found;
    if (!s) return {};
    const uint64_t prev_highest = s->recv.highest_offset_received();
    QUIC_TRY(
        s->recv_state.on_reset_stream_received(f.final_size, s->recv.final_size(), prev_highest));
    QUIC_TRY(s->recv_flow.on_data_received(f.final_size));
    if (f.final_size > prev_highest)
        QUIC_TRY(recv_flow_->on_data_received(recv_flow_->highest_received() + f.final_size -
                                              prev_highest));
    if (!s->recv_state.was_reset()) return {};  // Data Recvd: the data wins (§3.2)
    // §4.5: the connection's flow control counts the final size as consumed.
    const uint64_t unread = f.final_size - s->recv.read_offset();
    s->recv.discard();
    recv_flow_->on_data_consumed(unread, last_now_, loss_.rtt().smoothed_rtt());
    if (recv_flow_->should_send_update()) max_data_pending_ = true;
    s->stop_sending_code = f.application_error_code;
    emit(StreamResetReceived{f.stream_id, f.application_error_code});
    deliver_readable(*s);  // a read reports the reset
    return {};
}

Status ConnectionImpl::on_stop_sending(const StopSendingFrame& f) {
    auto found = stream_for_frame(f.stream_id, StreamFrameKind::kStopSending);
    if (!found.ok()) return std::move(found).error();
    StreamRecord* s = *found;
    if (!s) return {};
    emit(StopSendingReceived{f.stream_id, f.application_error_code});
    // §3.5: answer with RESET_STREAM, carrying the same code.
    if (s->send_state.stop_sending_needs_reset())
        return reset_stream(f.stream_id, f.application_error_code);
    return {};
}

Status ConnectionImpl::on_max_stream_data(const MaxStreamDataFrame& f) {
    auto found = stream_for_frame(f.stream_id, StreamFrameKind::kMaxStreamData);
    if (!found.ok()) return std::move(found).error();
    StreamRecord* s = *found;
    if (!s) return {};
    if (s->send_flow.on_max_data(f.maximum_stream_data) && s->send.has_pending())
        streams_with_data_.insert(s->id);
    return {};
}

// --- connection IDs (§5.1, §19.15, §19.16) -----------------------------------------------------

Status ConnectionImpl::on_new_connection_id(const NewConnectionIdFrame& f) {
    constexpr auto kType = to_underlying(FrameType::kNewConnectionId);
    // §19.15: a peer using zero-length connection IDs cannot issue more.
    if (peer_cid_.empty())
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "NEW_CONNECTION_ID while using a zero-length connection ID", kType);
    auto it = peer_cids_.find(f.sequence_number);
    if (it != peer_cids_.end()) {
        if (!(it->second.cid == f.connection_id))
            return Error::transport(TransportErrorCode::kProtocolViolation,
                                    "a sequence number reused for another connection ID", kType);
        return {};
    }
    if (f.sequence_number < peer_retire_prior_to_) {
        // Already retired by an earlier retire_prior_to: retire it at once (§5.1.2).
        if (retire_pending_.size() >= kMaxPendingRetireConnectionIds)
            return Error::transport(TransportErrorCode::kConnectionIdLimitError,
                                    "too many connection IDs to retire", kType);
        retire_pending_.push_back(f.sequence_number);
        return {};
    }
    peer_cids_[f.sequence_number] = PeerConnectionId{f.connection_id, f.stateless_reset_token};
    reset_token_events_.push_back({true, f.stateless_reset_token});
    if (f.retire_prior_to > peer_retire_prior_to_) {
        peer_retire_prior_to_ = f.retire_prior_to;
        retire_peer_connection_ids_below(f.retire_prior_to);
        if (retire_pending_.size() > kMaxPendingRetireConnectionIds)
            return Error::transport(TransportErrorCode::kConnectionIdLimitError,
                                    "too many connection IDs to retire", kType);
    }
    // §5.1.1: more active IDs than our active_connection_id_limit.
    const uint64_t limit = local_transport_parameters().active_connection_id_limit;
    if (peer_cids_.size() > limit)
        return Error::transport(TransportErrorCode::kConnectionIdLimitError,
                                "more connection IDs than active_connection_id_limit", kType);
    return {};
}

void ConnectionImpl::retire_peer_connection_ids_below(uint64_t seq) {
    for (auto it = peer_cids_.begin(); it != peer_cids_.end() && it->first < seq;) {
        retire_pending_.push_back(it->first);
        if (it->second.token) reset_token_events_.push_back({false, *it->second.token});
        it = peer_cids_.erase(it);
    }
    if (!peer_cids_.count(active_peer_cid_seq_)) switch_to_unused_peer_cid();
}

bool ConnectionImpl::switch_to_unused_peer_cid() {
    if (peer_cids_.empty()) return false;
    active_peer_cid_seq_ = peer_cids_.begin()->first;
    peer_cid_ = peer_cids_.begin()->second.cid;
    return true;
}

Status ConnectionImpl::on_retire_connection_id(const RetireConnectionIdFrame& f) {
    constexpr auto kType = to_underlying(FrameType::kRetireConnectionId);
    // §19.16: a sequence number we never sent is a PROTOCOL_VIOLATION.
    if (f.sequence_number >= next_local_cid_seq_)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "RETIRE_CONNECTION_ID for a connection ID never issued", kType);
    auto it = local_cids_.find(f.sequence_number);
    if (it == local_cids_.end()) return {};
    if (local_cids_.size() == 1)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "retiring our last connection ID", kType);
    cid_events_.push_back({false, it->second.cid});
    local_cids_.erase(it);
    issue_connection_ids();
    return {};
}

void ConnectionImpl::issue_connection_ids() {
    if (!new_connection_id_ || !handshake_complete_) return;
    const uint64_t limit =
        std::min<uint64_t>(peer_params_.active_connection_id_limit, kMaxActiveConnectionIdLimit);
    while (local_cids_.size() < limit) {
        LocalConnectionId l;
        l.cid = new_connection_id_();
        if (reset_token_for_) l.token = reset_token_for_(l.cid);
        l.pending = true;
        cid_events_.push_back({true, l.cid});
        local_cids_[next_local_cid_seq_++] = l;
    }
}

void ConnectionImpl::on_connection_close_frame(Time now, const ConnectionCloseFrame& f) {
    Error e = f.application ? Error::application(f.error_code)
                            : Error::transport(static_cast<TransportErrorCode>(f.error_code));
    e.frame_type = f.frame_type;
    // The reason is the peer's bytes: keep it printable and bounded.
    std::string reason;
    for (uint8_t c : f.reason.first(std::min<size_t>(f.reason.size(), kMaxCloseReasonLength)))
        reason.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    e.reason = std::move(reason);
    enter_draining(now, CloseOrigin::kPeer, std::move(e));
}

bool ConnectionImpl::is_stateless_reset(ByteSpan datagram) const {
    auto tail = stateless_reset_token_candidate(datagram);
    if (!tail) return false;
    for (const auto& [seq, pc] : peer_cids_)
        if (pc.token && stateless_reset_token_equal(*pc.token, *tail)) return true;
    return false;
}

}  // namespace quic
