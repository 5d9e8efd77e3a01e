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
    path_.on_datagram_received(datagram.size());
    if (state_ == ConnectionState::kClosing) {
        // §10.2.1: answer with CONNECTION_CLOSE, rate-limited.
        if (packets_since_close_++ % kClosingPacketsPerClose == 0) pending_.connection_close = true;
        return;
    }
    // Keep the tail: a failed decryption wipes the buffer, and a stateless reset is
    // recognised by its last 16 bytes (RFC 9000 §10.3.1).
    std::optional<StatelessResetToken> tail = stateless_reset_token_candidate(datagram);
    const size_t dcid_len = cids_.source_cid().size();
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
    if (stats_.packets_received == processed_before && tail &&
        cids_.is_stateless_reset_token(*tail))
        on_stateless_reset(now);
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
        auto header = parse_packet_header(b.bytes, cids_.source_cid().size());
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
        cids_.on_server_source_cid(header.scid);
    }
    // §8.1: a Handshake packet from the client proves it owns its address; the server then
    // also drops its Initial keys (RFC 9001 §4.9.1).
    if (role_ == Role::kServer && header.type == PacketType::kHandshake) {
        path_.mark_validated();
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
        !probing_only && !(path.remote == path_.addresses().remote) && handshake_confirmed_)
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
        version_negotiation_is_valid(header, version_, original_dcid_, cids_.first_local().cid);
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
    cids_.on_server_source_cid(header.scid);
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
            [&](const StreamFrame& f) -> Status { return streams_.on_stream_frame(now, f); },
            [&](const ResetStreamFrame& f) -> Status {
                return streams_.on_reset_stream(now, loss_.rtt().smoothed_rtt(), f);
            },
            [&](const StopSendingFrame& f) -> Status { return streams_.on_stop_sending(now, f); },
            [&](const MaxStreamDataFrame& f) -> Status {
                return streams_.on_max_stream_data(now, f);
            },
            [&](const MaxDataFrame& f) -> Status {
                streams_.on_max_data(f);
                return {};
            },
            [&](const MaxStreamsFrame& f) -> Status {
                streams_.on_max_streams(f);
                return {};
            },
            [&](const DataBlockedFrame&) -> Status { return {}; },
            [&](const StreamDataBlockedFrame& f) -> Status {
                return streams_.on_stream_data_blocked(now, f);
            },
            [&](const StreamsBlockedFrame&) -> Status { return {}; },
            [&](const NewConnectionIdFrame& f) -> Status {
                return cids_.on_new_connection_id(
                    f, [&] { return local_transport_parameters().active_connection_id_limit; });
            },
            [&](const RetireConnectionIdFrame& f) -> Status {
                return cids_.on_retire_connection_id(f);
            },
            [&](const PathChallengeFrame& f) -> Status {
                path_.on_path_challenge(f.data);
                return {};
            },
            [&](const PathResponseFrame& f) -> Status {
                path_.on_path_response(f.data);
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
                [&](const SentControlFrame& c) {
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
                },
                [&](const SentNewToken& t) { pending_.new_token = t.token; },
                [](const SentDatagram&) {},  // RFC 9221 §5.2: datagrams are not retransmitted
                [&](const SentPathChallenge& c) { path_.on_path_challenge_lost(c.data); },
            },
            f);
    }
}

// RFC 9000 §9.3: follow the peer to its new address, and validate it before trusting it: until
// the PATH_RESPONSE, anti-amplification limits what we send there (§9.3.1). A new IP address
// also means a new network path, so congestion control and RTT start over (§9.4); a port
// change alone is a NAT rebinding on the same path.
void ConnectionImpl::on_peer_address_change(Time now, const Path& path, size_t datagram_size) {
    const bool port_only = path.remote.same_ip(path_.addresses().remote);
    stats_.path_migrations++;
    if (!port_only) {
        loss_.rtt().reset(config_.initial_rtt);
        cc_ =
            make_congestion_controller(to_algorithm(config_.congestion_control), max_udp_payload_);
    }
    path_.on_peer_address_change(path, datagram_size, random_);
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
    return tail && cids_.is_stateless_reset_token(*tail);
}

}  // namespace quic
