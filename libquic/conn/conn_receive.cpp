// The receive path: datagrams -> packets (RFC 9000 §12.2, §17) -> header protection and
// decryption (RFC 9001 §5) -> frames (§19). Malformed packets are dropped; frames that break
// the protocol close the connection with the RFC's error code.
#include "conn/connection_impl.h"
#include "conn/version_negotiation.h"
#include "crypto/initial_secrets.h"
#include "crypto/retry_integrity.h"
#include "quic/overloaded.h"
#include "wire/packet_number.h"
#include "wire/stateless_reset.h"
#include "wire/version_negotiation.h"

namespace quic {

// A packet with its protection removed.
struct ConnectionImpl::OpenedPacket {
    UnprotectedHeader header;
    uint64_t pn = 0;
    bool next_phase = false;  // opened with the next 1-RTT read keys (RFC 9001 §6.2)
    ByteSpan payload;
};

void ConnectionImpl::on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) {
    last_now_ = now;
    if (state_ == ConnectionState::kClosed || state_ == ConnectionState::kDraining) return;
    stats_.bytes_received += datagram.size();
    PathState* on = find_path(path);  // a new 4-tuple is counted when its candidate is made
    (on ? *on : path_).on_datagram_received(datagram.size());
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
    std::vector<Buffered> pending;
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
    if (!may_open(now, header, packet.size())) return;
    OpenedPacket op;
    if (may_switch_to(header)) {
        if (!open_in_negotiated_version(now, path, ecn, packet, header, op)) return;
    } else if (!open_packet(now, path, ecn, packet, header, op)) {
        return;
    }
    on_packet_opened(now, path, ecn, header, packet.size(), datagram_size, op);
}

// Packets dropped before any key is tried.
bool ConnectionImpl::may_open(Time now, const PacketHeader& header, size_t size) {
    // RFC 9369 §4: a client may switch to the negotiated version; a server still reads the
    // client's Initial and 0-RTT packets in its Chosen Version.
    const bool other_version_ok =
        may_switch_to(header) ||
        (role_ == Role::kServer && header.version == chosen_version_ &&
         (header.type == PacketType::kInitial || header.type == PacketType::kZeroRtt));
    if (header.long_header && header.version != version_ && !other_version_ok) {
        trace_drop(now, header.type, size, trace::DropReason::kUnsupportedVersion);
        return false;
    }
    // §17.2.2: a client drops server Initials that carry a token.
    if (role_ == Role::kClient && header.type == PacketType::kInitial && !header.token.empty()) {
        trace_drop(now, header.type, size, trace::DropReason::kUnexpectedPacket);
        return false;
    }
    if (role_ == Role::kClient && header.type == PacketType::kZeroRtt) {
        trace_drop(now, header.type, size, trace::DropReason::kUnexpectedPacket);
        return false;
    }
    if (space(space_of(header.type)).discarded) {
        trace_drop(now, header.type, size, trace::DropReason::kKeysDiscarded);
        return false;
    }
    return true;
}

// Removes header and packet protection (RFC 9001 §5.4, §5.3), or keeps the packet for when its
// keys arrive; false when the packet is not to be processed (now).
bool ConnectionImpl::open_packet(Time now, const Path& path, Ecn ecn, MutableByteSpan packet,
                                 const PacketHeader& header, OpenedPacket& out) {
    PacketSpace& sp = space(space_of(header.type));
    // Header protection (RFC 9001 §5.4): 1-RTT header keys are fixed across key updates.
    HeaderProtector* hp = nullptr;
    if (header.type == PacketType::kOneRtt)
        hp = one_rtt_.read_header.get();
    else if (header.type == PacketType::kZeroRtt)
        hp = zero_rtt_keys_.header.get();
    else if (header.type == PacketType::kInitial)
        hp = initial_read_keys(header.version).header.get();
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
        return false;
    }
    auto unprotected = remove_header_protection(packet, header.pn_offset, *hp);
    if (!unprotected.ok()) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kHeaderParseError);
        return false;
    }
    const UnprotectedHeader& uh = out.header = *unprotected;
    const uint64_t pn = out.pn =
        decode_packet_number(sp.received.largest_received(), uh.truncated_pn, uh.pn_length * 8);
    DirectionalKeys* keys = header.type == PacketType::kInitial
                                ? &initial_read_keys(header.version)
                                : read_keys_for(header.type, uh.key_phase, pn, out.next_phase);
    if (!keys || !keys->packet) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kKeyUnavailable);
        return false;
    }
    if (sp.received.is_duplicate(pn)) {
        trace_drop(now, header.type, packet.size(), trace::DropReason::kDuplicate);
        return false;
    }
    auto plain = open_packet_payload(packet, uh, pn, *keys->packet);
    if (!plain) {
        trace_drop(now, header.type, packet.size(),
                   trace::DropReason::kPayloadDecryptError);  // RFC 9001 §5.5
        if (header.type != PacketType::kInitial) on_authentication_failure(now);
        return false;
    }
    out.payload = ByteSpan(packet.data() + uh.header_length, *plain);
    return true;
}

void ConnectionImpl::on_packet_opened(Time now, const Path& path, Ecn ecn,
                                      const PacketHeader& header, size_t packet_size,
                                      size_t datagram_size, const OpenedPacket& op) {
    const UnprotectedHeader& uh = op.header;
    const uint64_t pn = op.pn;
    const ByteSpan payload = op.payload;
    PacketSpace& sp = space(space_of(header.type));
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
        if (op.next_phase) {
            // RFC 9001 §6.1: no key update before the handshake is confirmed. A client is
            // confirmed once it received HANDSHAKE_DONE, so not before we sent it; a server
            // once its handshake completed, so not before it had our Finished.
            const bool premature =
                role_ == Role::kServer ? !handshake_done_sent_ : !handshake_complete_;
            if (premature) {
                close_with_error(now, Error::transport(TransportErrorCode::kKeyUpdateError,
                                                       "key update before the handshake is "
                                                       "confirmed"));
                return;
            }
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

    // The path it came on (a server meeting a new 4-tuple starts validating it, §9.3).
    receiving_path(now, path, header.type, datagram_size);
    stats_.packets_received++;
    if (header.type == PacketType::kZeroRtt) stats_.packets_received_0rtt++;
    trace_packet(now, false, header.type, pn, &header, packet_size, uh.key_phase, payload);
    const auto largest_before = sp.received.largest_received();
    const bool is_largest = !largest_before || pn > *largest_before;
    bool ack_eliciting = false, probing_only = true;
    Status st = process_frames(now, header.type, payload, ack_eliciting, probing_only);
    if (!st.ok()) {
        close_with_error(now, std::move(st).error());
        return;
    }
    if (state_ == ConnectionState::kDraining || state_ == ConnectionState::kClosed) return;
    // Data dropped at a reassembly cap (checklist 19): the packet stays unacknowledged, so the
    // peer sends the data again rather than believe it delivered (the stream would stall).
    const bool stream_dropped = streams_.take_frame_dropped();
    const bool crypto_dropped = std::exchange(crypto_frame_dropped_, false);
    const bool frame_dropped = stream_dropped || crypto_dropped;
    if (!sp.discarded && !frame_dropped)
        sp.received.on_packet_received(pn, ack_eliciting, ecn, now);
    // §17.4: the spin value follows the peer's packet with the largest number.
    if (header.type == PacketType::kOneRtt && is_largest)
        spin_.on_largest_received((header.first_byte & kSpinBitMask) != 0);
    // §9.3: a non-probing packet with the largest packet number from a new 4-tuple moves the
    // connection there (a NAT rebinding, or a client migrating). Only servers follow (§9).
    if (role_ == Role::kServer && header.type == PacketType::kOneRtt && is_largest &&
        !probing_only && !(path == path_.addresses()) && handshake_confirmed_)
        on_peer_address_change(now, path);
    reset_idle_timer(now);
    ack_eliciting_since_last_receive_ = false;
    last_received_at_ = now;
    if (ack_eliciting) quiet_probes_ = 0;
}

void ConnectionImpl::receive_frames_for_testing(Time now, PacketType type, ByteSpan payload) {
    last_now_ = now;
    bool ack_eliciting = false, probing_only = true;
    Status st = process_frames(now, type, payload, ack_eliciting, probing_only);
    if (!st.ok()) close_with_error(now, std::move(st).error());
    (void)streams_.take_frame_dropped();  // no packet to leave unacknowledged
    crypto_frame_dropped_ = false;
}

void ConnectionImpl::receive_frames_on_path_for_testing(Time now, const Path& path,
                                                        ByteSpan payload, size_t datagram_size) {
    last_now_ = now;
    if (PathState* on = find_path(path)) on->on_datagram_received(datagram_size);
    receiving_path(now, path, PacketType::kOneRtt, datagram_size);
    bool ack_eliciting = false, probing_only = true;
    Status st = process_frames(now, PacketType::kOneRtt, payload, ack_eliciting, probing_only);
    if (!st.ok()) close_with_error(now, std::move(st).error());
    (void)streams_.take_frame_dropped();
    crypto_frame_dropped_ = false;
}

bool ConnectionImpl::handle_version_negotiation(Time now, const PacketHeader& header) {
    // §6.2: only a client, only before any other packet from the server (a Retry too) was
    // processed; RFC 9368 §4: never for an attempt that follows a Version Negotiation packet.
    if (role_ != Role::kClient || received_first_packet_ || retry_received_ ||
        acted_on_version_negotiation_)
        return false;
    Status valid = version_negotiation_is_valid(header, chosen_version_, original_dcid_,
                                                cids_.first_local().cid);
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
    // RFC 9368 §2.1: a new first flight in a version both speak.
    if (auto next = version_after_version_negotiation(config_.versions, header.supported_versions))
        return restart_after_version_negotiation(now, *next);
    finish_closed(CloseOrigin::kVersionMismatch,
                  Error::transport(TransportErrorCode::kVersionNegotiationError,
                                   "no shared QUIC version; the server offers " + offered));
    (void)now;
    return true;
}

bool ConnectionImpl::handle_retry(Time now, ByteSpan packet, const PacketHeader& header) {
    // §17.2.5.2: a client accepts at most one Retry, only before any other server packet.
    if (role_ != Role::kClient || retry_received_ || received_first_packet_) return false;
    // RFC 9369 §4: a Retry is in the Chosen Version; others are ignored.
    if (header.scid == original_dcid_ || header.version != chosen_version_ ||
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
    cc_ = make_congestion_controller(to_algorithm(config_.congestion_control), max_udp_payload_,
                                     random_);
    return true;
}

Status ConnectionImpl::process_frames(Time now, PacketType type, ByteSpan payload,
                                      bool& ack_eliciting, bool& probing_only) {
    ByteReader r(payload);
    bool ping_only = true;  // nothing but PING and PADDING
    size_t path_challenges = 0;
    while (!r.empty()) {
        auto frame = parse_frame(r, type);
        if (!frame.ok()) return std::move(frame).error();
        if (is_ack_eliciting(*frame)) ack_eliciting = true;
        if (!is_probing_frame(*frame)) probing_only = false;
        if (!std::holds_alternative<PingFrame>(*frame) &&
            !std::holds_alternative<PaddingFrame>(*frame))
            ping_only = false;
        // §8.2.2: a peer validating a path sends one challenge per packet; more are only
        // more PATH_RESPONSEs for us to queue (checklist 21).
        if (std::holds_alternative<PathChallengeFrame>(*frame) && ++path_challenges > 1)
            QUIC_TRY(glitches_.charge(now, "a second PATH_CHALLENGE in a packet",
                                      to_underlying(FrameType::kPathChallenge)));
        QUIC_TRY(on_frame(now, type, *frame));
        if (state_ == ConnectionState::kDraining || state_ == ConnectionState::kClosed) return {};
    }
    // PTO probes and keep-alives are PING-only too, but a few per round trip; a flood of them
    // only makes us acknowledge (checklist 20).
    if (ping_only && ack_eliciting && handshake_confirmed_)
        QUIC_TRY(glitches_.charge(now, "a packet with nothing but PING",
                                  to_underlying(FrameType::kPing)));
    // Checklist 21: a peer that keeps our congestion window full while making us queue control
    // frames (each kind capped on its own) is cut off at the total.
    if (queued_control_frames() > kMaxQueuedControlFrames)
        return Error::transport(
            TransportErrorCode::kProtocolViolation,
            "too many control frames queued for a peer that does not take them");
    return {};
}

size_t ConnectionImpl::queued_control_frames() const {
    return streams_.streams_with_control_frames() + pending_.retire_connection_ids.size() +
           pending_.new_connection_ids.size();
}

Status ConnectionImpl::on_frame(Time now, PacketType type, const Frame& frame) {
    const PacketNumberSpaceId sid = space_of(type);
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
            [&](const MaxDataFrame& f) -> Status { return streams_.on_max_data(now, f); },
            [&](const MaxStreamsFrame& f) -> Status { return streams_.on_max_streams(now, f); },
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
                on_path_challenge_frame(f);
                return {};
            },
            [&](const PathResponseFrame& f) -> Status {
                on_path_response_frame(now, f);
                return {};
            },
            [&](const ConnectionCloseFrame& f) -> Status {
                on_connection_close_frame(now, f);
                return {};
            },
            [&](const HandshakeDoneFrame&) -> Status { return on_handshake_done_frame(now); },
            [&](const NewTokenFrame& f) -> Status { return on_new_token_frame(f); },
            [&](const DatagramFrame& f) -> Status { return on_datagram_frame(now, f); },
        },
        frame);
}

// --- CRYPTO ----------------------------------------------------------------------------------

Status ConnectionImpl::on_crypto_frame(Time now, PacketSpace& sp, const CryptoFrame& f) {
    auto r = sp.crypto_recv.insert(f.offset, f.data, false);
    if (!r.ok()) return std::move(r).error();
    // Checklist 9: after the handshake, CRYPTO data again is nothing but work for us.
    if (*r == ReceiveBuffer::InsertOutcome::kDuplicate && handshake_confirmed_)
        return glitches_.charge(now, "CRYPTO data already received",
                                to_underlying(FrameType::kCrypto));
    if (*r == ReceiveBuffer::InsertOutcome::kDroppedTooFragmented) crypto_frame_dropped_ = true;
    if (*r == ReceiveBuffer::InsertOutcome::kDuplicate && sp.id == PacketNumberSpaceId::kInitial)
        resend_crypto_on_duplicate_initial();
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

Status ConnectionImpl::on_handshake_done_frame(Time now) {
    // §19.20: only servers send it.
    if (role_ == Role::kServer)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "HANDSHAKE_DONE from a client",
                                to_underlying(FrameType::kHandshakeDone));
    confirm_handshake(now);
    return {};
}

Status ConnectionImpl::on_new_token_frame(const NewTokenFrame& f) {
    // §19.7: only servers send it.
    if (role_ == Role::kServer)
        return Error::transport(TransportErrorCode::kProtocolViolation, "NEW_TOKEN from a client",
                                to_underlying(FrameType::kNewToken));
    if (f.token.size() <= kMaxNewTokenLength)
        emit(NewTokenReceived{Bytes(f.token.begin(), f.token.end())});
    return {};
}

bool ConnectionImpl::is_stateless_reset(ByteSpan datagram) const {
    auto tail = stateless_reset_token_candidate(datagram);
    return tail && cids_.is_stateless_reset_token(*tail);
}

}  // namespace quic
