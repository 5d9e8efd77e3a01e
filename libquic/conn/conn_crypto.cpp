// TLS glue, keys per encryption level, transport parameters, resumption tickets and key
// update (RFC 9001 §4-§6, RFC 9000 §7).
#include <algorithm>

#include "conn/connection_impl.h"
#include "conn/version_negotiation.h"
#include "crypto/packet_keys.h"

namespace quic {
namespace {

// A resumption ticket is our own blob: the TLS session and the server's transport parameters,
// which a 0-RTT client must remember (RFC 9000 §7.4.1).
Bytes make_ticket(ByteSpan session, ByteSpan params) {
    Bytes out(16 + session.size() + params.size());
    ByteWriter w(out);
    w.write_varint(session.size())
        .write_bytes(session)
        .write_varint(params.size())
        .write_bytes(params);
    out.resize(w.size());
    return out;
}

bool split_ticket(ByteSpan ticket, ByteSpan& session, ByteSpan& params) {
    ByteReader r(ticket);
    uint64_t n = 0;
    if (!r.read_varint(n) || !r.read_bytes(n, session)) return false;
    if (!r.read_varint(n) || !r.read_bytes(n, params)) return false;
    return r.empty();
}

}  // namespace

TransportParameters ConnectionImpl::local_transport_parameters() const {
    TransportParameters tp;
    tp.max_idle_timeout_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.max_idle_timeout).count();
    tp.max_udp_payload_size = config_.max_udp_payload_size;
    tp.initial_max_data = config_.initial_connection_receive_window;
    tp.initial_max_stream_data_bidi_local = config_.initial_stream_receive_window;
    tp.initial_max_stream_data_bidi_remote = config_.initial_stream_receive_window;
    tp.initial_max_stream_data_uni = config_.initial_stream_receive_window;
    tp.initial_max_streams_bidi = config_.max_incoming_streams;
    tp.initial_max_streams_uni = config_.max_incoming_uni_streams;
    tp.ack_delay_exponent = config_.ack_delay_exponent;
    tp.max_ack_delay_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.max_ack_delay).count();
    tp.disable_active_migration = config_.disable_active_migration;
    tp.active_connection_id_limit = std::min<uint64_t>(
        std::max<uint64_t>(config_.active_connection_id_limit, 2), kMaxActiveConnectionIdLimit);
    tp.initial_source_connection_id = cids_.first_local().cid;
    if (config_.max_datagram_frame_size)
        tp.max_datagram_frame_size = config_.max_datagram_frame_size;
    if (role_ == Role::kServer) {
        // §7.3: the server echoes the client's first DCID, and the Retry's SCID if it sent one.
        tp.original_destination_connection_id = original_dcid_;
        if (retry_source_cid_) tp.retry_source_connection_id = *retry_source_cid_;
        tp.stateless_reset_token = cids_.first_local().token;
        tp.preferred_address = preferred_address_;
    }
    // RFC 9368 §3 (RFC 9369 §4: a v2 endpoint MUST send it).
    tp.version_information = role_ == Role::kClient
                                 ? client_version_information(chosen_version_, config_.versions)
                                 : server_version_information(version_, config_.versions);
    return tp;
}

// What 0-RTT acceptance is bound to (RFC 9001 §4.6.1): our transport parameters minus the
// per-connection fields, so a ticket from a server with other limits gets its 0-RTT rejected.
Bytes ConnectionImpl::early_data_context() const {
    TransportParameters tp = local_transport_parameters();
    tp.original_destination_connection_id.reset();
    tp.initial_source_connection_id.reset();
    tp.retry_source_connection_id.reset();
    tp.stateless_reset_token.reset();
    tp.preferred_address.reset();  // its connection ID is per connection
    auto enc = encode_transport_parameters(tp, Role::kServer);
    return enc.ok() ? std::move(enc).value() : Bytes{};
}

// RFC 9369 §5: a ticket belongs to the version of the connection that issued it (the
// remembered Version Information names it), so the first flight goes out in that version if
// we offer it; a ticket of a version we no longer offer is not used.
void ConnectionImpl::adopt_ticket_version() {
    ByteSpan session, params;
    if (!split_ticket(resumption_ticket_, session, params)) return;
    auto remembered = decode_transport_parameters(params, Role::kServer);
    if (!remembered.ok() || !remembered->version_information) return;
    const Version v = remembered->version_information->chosen_version;
    if (v == version_) return;
    if (is_supported_version(v) &&
        std::find(config_.versions.begin(), config_.versions.end(), v) != config_.versions.end()) {
        version_ = chosen_version_ = v;
        info_.version = v;
    } else {
        resumption_ticket_.clear();
    }
}

Status ConnectionImpl::restore_from_ticket() {
    ByteSpan session, params;
    if (!split_ticket(resumption_ticket_, session, params)) return {};  // ignore a bad ticket
    auto remembered = decode_transport_parameters(params, Role::kServer);
    if (!remembered.ok()) return {};
    if (!tls_->set_resumption_session(session)) return {};
    if (!config_.enable_0rtt || !TlsSession::session_allows_early_data(*tls_context_, session))
        return {};
    // §7.4.1: 0-RTT uses the remembered limits until the new ones arrive.
    const TransportParameters& r = *remembered;
    peer_params_.initial_max_data = r.initial_max_data;
    peer_params_.initial_max_stream_data_bidi_local = r.initial_max_stream_data_bidi_local;
    peer_params_.initial_max_stream_data_bidi_remote = r.initial_max_stream_data_bidi_remote;
    peer_params_.initial_max_stream_data_uni = r.initial_max_stream_data_uni;
    peer_params_.initial_max_streams_bidi = r.initial_max_streams_bidi;
    peer_params_.initial_max_streams_uni = r.initial_max_streams_uni;
    peer_params_.active_connection_id_limit = r.active_connection_id_limit;
    peer_params_.max_datagram_frame_size = r.max_datagram_frame_size;
    streams_.on_peer_transport_parameters(peer_params_, false);
    early_data_attempted_ = true;
    info_.early_data_attempted = true;  // stays set when rejected: the application counts both
    return {};
}

// --- TlsSession::Handler ----------------------------------------------------------------------

bool ConnectionImpl::on_secret(EncryptionLevel level, bool for_writing, uint16_t cipher_id,
                               ByteSpan secret) {
    auto suite = cipher_suite_from_tls_id(cipher_id);
    if (!suite) return false;
    if (tracer_) {
        // Which side's key this is: ours when writing.
        const bool client_key = (role_ == Role::kClient) == for_writing;
        using trace::KeyKind;
        KeyKind kind = level == EncryptionLevel::kEarlyData ? KeyKind::kZeroRtt
                       : level == EncryptionLevel::kHandshake
                           ? (client_key ? KeyKind::kHandshakeClient : KeyKind::kHandshakeServer)
                           : (client_key ? KeyKind::kOneRttClient : KeyKind::kOneRttServer);
        trace_key(last_now_, kind, false, trace::KeyTrigger::kTls);
    }
    switch (level) {
        case EncryptionLevel::kInitial:
            return false;  // Initial keys come from the DCID, never from TLS
        case EncryptionLevel::kEarlyData:
            // Client writes 0-RTT; server reads it (RFC 9001 §4.1.4). A server that does not
            // accept 0-RTT never installs the key, so 0-RTT packets are dropped.
            // 0-RTT stays in the client's Chosen Version (RFC 9369 §4).
            zero_rtt_keys_ = make_keys(*suite, secret, chosen_version_);
            return zero_rtt_keys_.valid();
        case EncryptionLevel::kHandshake: {
            PacketSpace& hs = space(PacketNumberSpaceId::kHandshake);
            (for_writing ? hs.write : hs.read) = make_keys(*suite, secret, version_);
            return (for_writing ? hs.write : hs.read).valid();
        }
        case EncryptionLevel::kApplication:
            install_one_rtt(for_writing, *suite, secret);
            return true;
    }
    return false;
}

void ConnectionImpl::install_one_rtt(bool for_writing, CipherSuite suite, ByteSpan secret) {
    OneRttKeys& k = one_rtt_;
    k.suite = suite;
    if (for_writing) {
        k.write_secret.assign(secret.begin(), secret.end());
        DirectionalKeys keys = make_keys(suite, secret, version_);
        k.write_packet = std::move(keys.packet);
        k.write_header = std::move(keys.header);
        has_one_rtt_write_ = true;
    } else {
        k.read_secret.assign(secret.begin(), secret.end());
        DirectionalKeys keys = make_keys(suite, secret, version_);
        k.read_current.packet = std::move(keys.packet);
        k.read_header = std::move(keys.header);
        // Precompute the next generation so a key update costs nothing on the hot path; its
        // packet key only: read_header serves every generation (§6), and an unused header
        // key is 256 bytes in every connection (issue 14).
        Bytes next = next_generation_secret(suite, k.read_secret, version_);
        k.read_next.packet = std::move(make_keys(suite, next, version_).packet);
        has_one_rtt_read_ = true;
    }
}

void ConnectionImpl::on_handshake_data(EncryptionLevel level, ByteSpan data) {
    // 0-RTT carries no CRYPTO frames; BoringSSL never writes there.
    PacketSpace& s = space(space_of(level));
    s.crypto_send.write(data);
}

void ConnectionImpl::on_session_ticket(Bytes session) {
    if (role_ != Role::kClient || !peer_params_applied_) return;
    TransportParameters remembered = peer_params_;
    // §7.4.1: only these are remembered; connection IDs and tokens are per connection.
    remembered.original_destination_connection_id.reset();
    remembered.initial_source_connection_id.reset();
    remembered.retry_source_connection_id.reset();
    remembered.stateless_reset_token.reset();
    remembered.preferred_address.reset();
    auto params = encode_transport_parameters(remembered, Role::kServer);
    if (!params.ok()) return;
    emit(SessionTicketReceived{make_ticket(session, *params)});
}

void ConnectionImpl::on_early_data_rejected() {
    // RFC 9001 §4.6.2: everything sent in 0-RTT is lost; streams start over in 1-RTT with the
    // new limits. The loss detector gives back the 0-RTT packets so their data is resent.
    zero_rtt_keys_ = DirectionalKeys{};
    early_data_attempted_ = false;
    emit(ZeroRttRejected{});
}

// --- driving TLS ------------------------------------------------------------------------------

Status ConnectionImpl::feed_tls(Time now) {
    if (!tls_) {
        // A server's TLS is released once its handshake completes (below). A client has no
        // TLS message left to send then: KeyUpdate is forbidden (RFC 9001 §6), post-handshake
        // authentication too (§4.4). TLS would answer any with unexpected_message (§4.8).
        uint8_t byte;
        if (space(PacketNumberSpaceId::kApplicationData).crypto_recv.read({&byte, 1}) == 0)
            return {};
        return tls_alert_error(kTlsAlertUnexpectedMessage,
                               "TLS handshake data after the handshake completed");
    }
    for (size_t i = 0; i < spaces_.size(); ++i) {
        PacketSpace& s = *spaces_[i];
        if (s.discarded) continue;
        uint8_t buf[4096];
        for (;;) {
            size_t n = s.crypto_recv.read(buf);
            if (n == 0) break;
            EncryptionLevel level = i == 0   ? EncryptionLevel::kInitial
                                    : i == 1 ? EncryptionLevel::kHandshake
                                             : EncryptionLevel::kApplication;
            QUIC_TRY(tls_->provide_data(level, ByteSpan(buf, n)));
        }
    }
    const bool was_complete = handshake_complete_;
    QUIC_TRY(tls_->advance());
    if (!peer_params_applied_ && !tls_->peer_transport_parameters().empty())
        QUIC_TRY(apply_peer_transport_parameters(now));
    if (!was_complete && tls_->handshake_complete()) {
        QUIC_TRY(on_handshake_complete(now));
        // A server's handshake is over here (its session tickets were written with it): the
        // SSL object and what BoringSSL keeps after a handshake, about 2.5 KiB, are freed
        // rather than held for the connection's life (issue 14). A client keeps its TLS for
        // the tickets that arrive after the handshake (RFC 8446 §4.6.1).
        if (role_ == Role::kServer) tls_.reset();
    }
    return {};
}

Status ConnectionImpl::apply_peer_transport_parameters(Time now) {
    const Role peer_role = role_ == Role::kClient ? Role::kServer : Role::kClient;
    auto decoded = decode_transport_parameters(tls_->peer_transport_parameters(), peer_role);
    if (!decoded.ok()) return std::move(decoded).error();
    TransportParameters tp = std::move(decoded).value();
    QUIC_TRY(validate_peer_version_information(tp));
    // §7.3: authenticate the connection IDs of the handshake.
    const ConnectionId& peer_scid =
        role_ == Role::kClient ? cids_.peer_cid() : cids_.first_peer_cid();
    const ConnectionId* odcid = role_ == Role::kClient ? &original_dcid_ : nullptr;
    const ConnectionId* retry_scid =
        role_ == Role::kClient && retry_source_cid_ ? &*retry_source_cid_ : nullptr;
    QUIC_TRY(validate_connection_id_parameters(tp, peer_role, peer_scid, odcid, retry_scid));
    if (role_ == Role::kClient && early_data_attempted_) {
        // RFC 9000 §7.4.1: a server accepting 0-RTT must not reduce the remembered limits.
        if (tp.initial_max_data < peer_params_.initial_max_data ||
            tp.initial_max_streams_bidi < peer_params_.initial_max_streams_bidi ||
            tp.initial_max_streams_uni < peer_params_.initial_max_streams_uni ||
            tp.initial_max_stream_data_bidi_remote <
                peer_params_.initial_max_stream_data_bidi_remote ||
            tp.initial_max_stream_data_uni < peer_params_.initial_max_stream_data_uni)
            return Error::transport(TransportErrorCode::kProtocolViolation,
                                    "0-RTT accepted with reduced limits");
    }
    peer_params_ = tp;
    peer_params_applied_ = true;
    if (tracer_) tracer_->parameters_set(now, false, tp);
    streams_.on_peer_transport_parameters(tp, true);
    // §14: the peer's max_udp_payload_size caps what we send, and what DPLPMTUD probes.
    max_udp_payload_ = std::min<uint64_t>(max_udp_payload_, tp.max_udp_payload_size);
    pmtud_.lower_ceiling(static_cast<size_t>(
        std::min<uint64_t>(tp.max_udp_payload_size, config_.max_udp_payload_size)));
    if (tp.stateless_reset_token) cids_.set_first_peer_reset_token(*tp.stateless_reset_token);
    if (tp.preferred_address) {
        // §18.2: a server using a zero-length connection ID must not offer one.
        if (cids_.peer_cid().empty())
            return Error::transport(TransportErrorCode::kTransportParameterError,
                                    "preferred_address with a zero-length connection ID");
        // §5.1.1: its connection ID is sequence number 1, with its reset token (§10.3).
        cids_.add_preferred_address_cid(tp.preferred_address->connection_id,
                                        tp.preferred_address->stateless_reset_token);
    }
    info_.datagrams_supported = config_.max_datagram_frame_size > 0 && tp.max_datagram_frame_size &&
                                *tp.max_datagram_frame_size > 0;
    reset_idle_timer(now);
    return {};
}

Status ConnectionImpl::on_handshake_complete(Time now) {
    handshake_complete_ = true;
    handshake_completed_at_ = now;
    set_state(now, ConnectionState::kEstablished);
    handshake_deadline_.reset();
    info_.alpn = tls_->alpn();
    info_.cipher = tls_->cipher_name();
    info_.resumed = tls_->session_resumed();
    info_.early_data_accepted = tls_->early_data_accepted();
    if (role_ == Role::kServer) info_.server_name = tls_->server_name();
    if (!peer_params_applied_)
        return Error::transport(TransportErrorCode::kTransportParameterError,
                                "the peer sent no transport parameters");
    if (tracer_) {
        tracer_->alpn_information(now, info_.alpn);
        std::span<const Version> peer;
        if (peer_params_.version_information)
            peer = peer_params_.version_information->available_versions;
        tracer_->version_information(now, config_.versions, peer, version_);
    }
    emit(HandshakeCompleted{});
    if (role_ == Role::kServer) {
        // RFC 9001 §4.1.2: the server's handshake is confirmed when it completes.
        pending_.handshake_done = true;
        if (new_token_for_) {
            Bytes t = new_token_for_(path_.addresses().remote, version_);
            if (!t.empty()) pending_.new_token = std::move(t);
        }
        confirm_handshake(now);
    }
    if (role_ == Role::kClient && early_data_attempted_ && !info_.early_data_accepted) {
        // 0-RTT was rejected: requeue what the 0-RTT packets carried (RFC 9001 §4.6.2).
        zero_rtt_keys_ = DirectionalKeys{};
    }
    cids_.start_issuing(peer_params_.active_connection_id_limit);
    return {};
}

void ConnectionImpl::confirm_handshake(Time now) {
    if (handshake_confirmed_) return;
    handshake_confirmed_ = true;
    // RFC 9001 §4.9.2: Handshake keys are discarded once the handshake is confirmed.
    discard_space(now, PacketNumberSpaceId::kHandshake);
    emit(HandshakeConfirmed{});
    loss_.on_context_changed(recovery_context(), now);
    probe_preferred_address(now);  // §9.6.1: a client moves only once confirmed
}

void ConnectionImpl::discard_space(Time now, PacketNumberSpaceId id) {
    PacketSpace& s = space(id);
    if (s.discarded) return;
    s.discarded = true;
    if (tracer_) {
        using trace::KeyKind;
        const bool initial = id == PacketNumberSpaceId::kInitial;
        trace_key(now, initial ? KeyKind::kInitialClient : KeyKind::kHandshakeClient, true, {});
        trace_key(now, initial ? KeyKind::kInitialServer : KeyKind::kHandshakeServer, true, {});
    }
    s.read = DirectionalKeys{};
    s.write = DirectionalKeys{};
    // Nothing is sent or read in the space any more: its CRYPTO data goes too (a flight whose
    // ACK never came would otherwise stay for the connection's life).
    s.crypto_send = SendBuffer{};
    s.crypto_recv.discard();
    if (id == PacketNumberSpaceId::kInitial) chosen_version_initial_read_ = DirectionalKeys{};
    s.probes_pending = 0;
    // RFC 9002 §6.4: in-flight packets of the space no longer count.
    size_t bytes = 0;
    for (const SentPacket& p : loss_.discard_space(id, now))
        if (p.in_flight) bytes += p.sent_bytes;
    if (bytes) cc_->on_packets_discarded(bytes);
}

RecoveryContext ConnectionImpl::recovery_context() const {
    RecoveryContext ctx;
    ctx.handshake_confirmed = handshake_confirmed_;
    ctx.max_ack_delay = std::chrono::milliseconds(peer_params_.max_ack_delay_ms);
    // A server's peer (the client) needs no validation; a client knows the server validated
    // it once a Handshake packet was acknowledged or the handshake is confirmed (§8.1).
    ctx.peer_completed_address_validation =
        role_ == Role::kServer || peer_address_validated_ || handshake_confirmed_;
    auto budget = amplification_budget();
    ctx.amplification_blocked = budget && *budget == 0;
    ctx.has_handshake_keys = space(PacketNumberSpaceId::kHandshake).write.valid();
    return ctx;
}

// --- key update (RFC 9001 §6) -----------------------------------------------------------------

Status ConnectionImpl::initiate_key_update() {
    if (!handshake_confirmed_ || !has_one_rtt_write_)
        return Error::transport(TransportErrorCode::kKeyUpdateError,
                                "key update before the handshake is confirmed");
    // §6.1: not before the previous update was acknowledged by a packet of the new phase.
    if (!one_rtt_.update_acknowledged)
        return Error::transport(TransportErrorCode::kKeyUpdateError, "previous key update pending");
    update_write_keys();
    return {};
}

void ConnectionImpl::update_write_keys() {
    OneRttKeys& k = one_rtt_;
    k.write_secret = next_generation_secret(k.suite, k.write_secret, version_);
    DirectionalKeys keys = make_keys(k.suite, k.write_secret, version_);
    k.write_packet = std::move(keys.packet);
    k.write_phase = !k.write_phase;
    k.first_pn_written_in_phase.reset();
    k.update_acknowledged = false;
    k.packets_written_in_phase = 0;
    stats_.key_updates++;
    trace_key(
        last_now_,
        role_ == Role::kClient ? trace::KeyKind::kOneRttClient : trace::KeyKind::kOneRttServer,
        false, trace::KeyTrigger::kLocalUpdate, ++key_generation_);
}

// The peer's packets switched phase and opened with read_next: rotate the read keys, and
// answer with our own update if we did not start it (§6.2).
void ConnectionImpl::roll_read_keys(Time now) {
    OneRttKeys& k = one_rtt_;
    k.read_previous = std::move(k.read_current);
    k.read_current = std::move(k.read_next);
    k.read_phase = !k.read_phase;
    k.read_secret = next_generation_secret(k.suite, k.read_secret, version_);
    Bytes next = next_generation_secret(k.suite, k.read_secret, version_);
    k.read_next = DirectionalKeys{};
    k.read_next.packet = std::move(make_keys(k.suite, next, version_).packet);
    // §6.5: old keys are kept for about 3 PTO for reordered packets.
    k.discard_previous_at = now + 3 * pto_duration();
    if (k.write_phase != k.read_phase) {
        k.write_secret = next_generation_secret(k.suite, k.write_secret, version_);
        DirectionalKeys keys = make_keys(k.suite, k.write_secret, version_);
        k.write_packet = std::move(keys.packet);
        k.write_phase = k.read_phase;
        k.first_pn_written_in_phase.reset();
        k.packets_written_in_phase = 0;
        k.update_acknowledged = false;
        stats_.key_updates++;
        ++key_generation_;
    }
    trace_key(
        now, role_ == Role::kClient ? trace::KeyKind::kOneRttServer : trace::KeyKind::kOneRttClient,
        false, trace::KeyTrigger::kRemoteUpdate, key_generation_);
    k.first_pn_read_in_phase.reset();
}

// --- AEAD limits (RFC 9001 §6.6) ---------------------------------------------------------------

uint64_t ConnectionImpl::confidentiality_limit() const {
    if (config_.aead_limit_override_for_testing) return config_.aead_limit_override_for_testing;
    return quic::confidentiality_limit(one_rtt_.suite);
}

uint64_t ConnectionImpl::integrity_limit() const {
    if (config_.aead_limit_override_for_testing) return config_.aead_limit_override_for_testing;
    return quic::integrity_limit(one_rtt_.suite);
}

// After each 1-RTT packet sent: update the keys well before the confidentiality limit (at
// three quarters, so that the update has time to be acknowledged); if that is not possible and
// the limit is reached, stop using the connection (§6.6: AEAD_LIMIT_REACHED).
void ConnectionImpl::check_confidentiality_limit(Time now) {
    const uint64_t limit = confidentiality_limit();
    const uint64_t sent = one_rtt_.packets_written_in_phase;
    if (sent >= limit - limit / 4 && handshake_confirmed_ && one_rtt_.update_acknowledged) {
        (void)initiate_key_update();
        return;
    }
    if (sent >= limit)
        close_with_error(now, Error::transport(TransportErrorCode::kAeadLimitReached,
                                               "confidentiality limit reached without a key "
                                               "update (RFC 9001 §6.6)"));
}

// A packet failed authentication: true when the integrity limit is now exceeded and the
// connection closed. Initial packets are not counted: their keys derive from a connection ID
// anyone sees, so their failures prove nothing about the AEAD.
bool ConnectionImpl::on_authentication_failure(Time now) {
    if (++authentication_failures_ <= integrity_limit()) return false;
    close_with_error(now, Error::transport(TransportErrorCode::kAeadLimitReached,
                                           "integrity limit exceeded (RFC 9001 §6.6)"));
    return true;
}

// Which keys open a packet of this type; for 1-RTT, by key phase and packet number (§6.3, §6.5).
DirectionalKeys* ConnectionImpl::read_keys_for(PacketType type, bool key_phase, uint64_t pn,
                                               bool& is_next_phase) {
    is_next_phase = false;
    switch (type) {
        case PacketType::kInitial:
            return &space(PacketNumberSpaceId::kInitial).read;
        case PacketType::kHandshake:
            return &space(PacketNumberSpaceId::kHandshake).read;
        case PacketType::kZeroRtt:
            return &zero_rtt_keys_;
        case PacketType::kOneRtt:
            break;
        default:
            return nullptr;
    }
    OneRttKeys& k = one_rtt_;
    if (key_phase == k.read_phase) return &k.read_current;
    // A different phase: older packets of the previous phase, or the peer's next phase.
    if (k.first_pn_read_in_phase && pn < *k.first_pn_read_in_phase && k.read_previous.packet)
        return &k.read_previous;
    if (!handshake_confirmed_ && role_ == Role::kServer && !k.read_previous.packet &&
        k.first_pn_read_in_phase && pn < *k.first_pn_read_in_phase)
        return nullptr;
    is_next_phase = true;
    return &k.read_next;
}

}  // namespace quic
