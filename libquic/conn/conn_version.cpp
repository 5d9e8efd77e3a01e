// Version negotiation in the connection (RFC 9368, RFC 9369 §4). A server upgrades when the
// ClientHello's Version Information offers a version it prefers (compatible negotiation: the
// same connection, new Initial keys, every Handshake and 1-RTT packet in the negotiated
// version); a client follows the first server Initial in another offered version; a client
// answered with Version Negotiation starts a new first flight in a version both speak
// (incompatible negotiation, the same connection object). Both check the peer's Version
// Information against what the packets showed (downgrade prevention, §4).
#include <algorithm>

#include "conn/connection_impl.h"
#include "conn/version_negotiation.h"
#include "crypto/initial_secrets.h"

namespace quic {

// Server (RFC 9368 §2.3): the ClientHello's transport parameters are known before anything of
// ours is written; choose the negotiated version and name it in our own parameters.
bool ConnectionImpl::on_client_hello(ByteSpan peer_transport_parameters) {
    if (role_ != Role::kServer) return true;
    auto decoded = decode_transport_parameters(peer_transport_parameters, Role::kClient);
    // A malformed or lying Version Information is reported once TLS hands the parameters over
    // (apply_peer_transport_parameters); here it only means: no upgrade.
    if (!decoded.ok()) return true;
    const auto& vi = decoded->version_information;
    if (!validate_client_version_information(vi, chosen_version_).ok()) return true;
    const Version negotiated = negotiate_compatible_version(chosen_version_, vi, config_.versions);
    if (negotiated == version_) return true;
    switch_version(negotiated);
    auto params = encode_transport_parameters(local_transport_parameters(), role_, &random_);
    if (!params.ok() || !tls_->set_transport_parameters(*params).ok()) return false;
    // 0-RTT acceptance is bound to the version (RFC 9369 §5): the context names it.
    if (config_.enable_0rtt && !tls_->set_early_data_context(early_data_context()).ok())
        return false;
    return true;
}

// New Initial keys in the negotiated version (RFC 9369 §3.3.1: its own salt, from the same
// DCID). A server keeps the Chosen Version's read keys for the client's Initials that were
// sent before it learned the negotiated version.
void ConnectionImpl::switch_version(Version negotiated) {
    InitialKeys keys = make_initial_keys(negotiated, initial_dcid_for_keys_);
    PacketSpace& init = space(PacketNumberSpaceId::kInitial);
    if (role_ == Role::kServer) {
        chosen_version_initial_read_ = std::move(init.read);
        init.read = std::move(keys.client);
        init.write = std::move(keys.server);
    } else {
        init.read = std::move(keys.server);
        init.write = std::move(keys.client);
    }
    version_ = negotiated;
    info_.version = negotiated;
}

// Client (RFC 9369 §4): "The client learns the negotiated version by observing the first long
// header Version field that differs from the original version"; a server CRYPTO frame in the
// Chosen Version settles it too (its Handshake keys then exist).
bool ConnectionImpl::may_switch_to(const PacketHeader& header) const {
    if (role_ != Role::kClient || !header.long_header || header.type != PacketType::kInitial)
        return false;
    if (header.version == version_ || version_ != chosen_version_) return false;
    if (space(PacketNumberSpaceId::kHandshake).read.valid()) return false;
    const VersionInformation offered =
        client_version_information(chosen_version_, config_.versions);
    return std::find(offered.available_versions.begin(), offered.available_versions.end(),
                     header.version) != offered.available_versions.end();
}

// The switch is only kept when the packet opens with the new version's keys (anyone can
// write a long header; Initial keys are public, so the real check is the server's Version
// Information, validate_peer_version_information).
bool ConnectionImpl::open_in_negotiated_version(Time now, const Path& path, Ecn ecn,
                                                MutableByteSpan packet, const PacketHeader& header,
                                                OpenedPacket& out) {
    PacketSpace& init = space(PacketNumberSpaceId::kInitial);
    DirectionalKeys read = std::move(init.read);
    DirectionalKeys write = std::move(init.write);
    const Version before = version_;
    switch_version(header.version);
    if (open_packet(now, path, ecn, packet, header, out)) return true;
    init.read = std::move(read);
    init.write = std::move(write);
    version_ = before;
    info_.version = before;
    return false;
}

// The keys a server's Initial from the client opens with: the negotiated version's, or the
// Chosen Version's for Initials the client sent before it learned (RFC 9369 §4).
DirectionalKeys& ConnectionImpl::initial_read_keys(Version packet_version) {
    if (role_ == Role::kServer && packet_version != version_ && packet_version == chosen_version_ &&
        chosen_version_initial_read_.valid())
        return chosen_version_initial_read_;
    return space(PacketNumberSpaceId::kInitial).read;
}

// Client, RFC 9368 §2.1: a new first flight in `next`, conceptually a new connection (new
// TLS handshake, a new unpredictable Destination Connection ID as RFC 9000 §7.2 asks of a
// first Initial, new Initial keys); packet numbers keep rising as after a Retry. The new DCID
// also keeps the new attempt apart from any server state the first one made (a forged
// Version Negotiation packet). 0-RTT is given up: a ticket belongs to the version that
// issued it (RFC 9369 §5).
bool ConnectionImpl::restart_after_version_negotiation(Time now, Version next) {
    acted_on_version_negotiation_ = true;
    std::array<uint8_t, kMaxConnectionIdLength> fresh{};
    const size_t dcid_length = std::max<size_t>(original_dcid_.size(), 8);
    random_.fill(std::span(fresh.data(), dcid_length));
    original_dcid_ = ConnectionId(std::span<const uint8_t>(fresh.data(), dcid_length));
    initial_dcid_for_keys_ = original_dcid_;
    cids_.on_server_source_cid(original_dcid_);
    for (const SentPacket& p : loss_.on_retry_received(now)) {
        if (p.in_flight) cc_->on_packets_discarded(p.sent_bytes);
        on_packet_lost(PacketNumberSpaceId::kInitial, p);
    }
    if (early_data_attempted_) {
        early_data_attempted_ = false;
        zero_rtt_keys_ = DirectionalKeys{};
        emit(ZeroRttRejected{});
    }
    resumption_ticket_.clear();
    token_.clear();  // a NEW_TOKEN token is for the version that issued it (RFC 9369 §5)
    PacketSpace& init = space(PacketNumberSpaceId::kInitial);
    init.crypto_send = SendBuffer{};  // the new ClientHello starts at offset 0
    chosen_version_ = next;
    switch_version(next);
    cc_ = make_congestion_controller(to_algorithm(config_.congestion_control), max_udp_payload_,
                                     random_);
    auto session = TlsSession::create(*tls_context_, *this, server_name_);
    if (!session.ok()) {
        close_with_error(now, std::move(session).error());
        return false;
    }
    tls_ = std::move(session).value();
    auto params = encode_transport_parameters(local_transport_parameters(), role_, &random_);
    Status st = params.ok() ? tls_->set_transport_parameters(*params) : std::move(params).error();
    if (st.ok()) st = tls_->advance();
    if (!st.ok()) {
        close_with_error(now, std::move(st).error());
        return false;
    }
    return true;
}

Status ConnectionImpl::validate_peer_version_information(const TransportParameters& tp) const {
    if (role_ == Role::kServer)
        return validate_client_version_information(tp.version_information, chosen_version_);
    std::vector<Version> ours = config_.versions;
    if (ours.empty()) ours.push_back(chosen_version_);
    return validate_server_version_information(tp.version_information, version_, ours,
                                               acted_on_version_negotiation_,
                                               version_ != chosen_version_);
}

}  // namespace quic
