// Paths (RFC 9000 §8.2, §9): the active path, candidate paths being validated beside it, the
// move from one to the other, the server's preferred address (§9.6) and the fallback when a
// new path fails validation (§9.3.2).
//
// Who moves: a server follows the client to the 4-tuple of its latest non-probing packet (a
// NAT rebinding or a migration, §9.3) at once, validating it afterwards with the old path kept
// to fall back to; a client probes first (its preferred-address move or a new local address,
// §9.2, §9.6.1) and moves only once the new path is validated, so a failed probe just stays on
// the old path. Every new 4-tuple, including one seen only in probing packets, gets a
// PATH_CHALLENGE in the first packet we send there.
//
// §9.4, congestion control and RTT: they stay connection-wide. On a move to a new peer IP
// address both are reset to their initial state; a change of port alone (a NAT rebinding, or
// a preferred address on the same host) keeps them, as §9.4 allows.
#include <algorithm>

#include "conn/connection_impl.h"

namespace quic {

PathState* ConnectionImpl::find_path(const Path& addresses) {
    if (path_.addresses() == addresses) return &path_;
    for (PathState& c : candidates_)
        if (c.addresses() == addresses) return &c;
    return nullptr;
}

// §8.2.4: three times the larger of the current PTO and the PTO of a new path (kInitialRtt).
Duration ConnectionImpl::path_validation_timeout() const {
    const Duration new_path_pto =
        3 * config_.initial_rtt + std::chrono::milliseconds(peer_params_.max_ack_delay_ms);
    return 3 * std::max(pto_duration(), new_path_pto);
}

// The path a packet arrived on: a server meeting a new 4-tuple after the handshake is
// confirmed opens a candidate for it (and will challenge it, §9.3, §8.2.1); anything else from
// an unknown 4-tuple counts as the active path (a client never follows the server, §9).
PathState& ConnectionImpl::receiving_path(Time now, const Path& addresses, PacketType type,
                                          size_t datagram_size) {
    rx_path_ = addresses;
    if (PathState* p = find_path(addresses)) return *p;
    if (role_ != Role::kServer || type != PacketType::kOneRtt || !handshake_confirmed_)
        return path_;
    PathState& c = add_candidate(now, addresses, false);
    c.on_datagram_received(datagram_size);
    return c;
}

PathState& ConnectionImpl::add_candidate(Time now, const Path& addresses, bool ours) {
    if (candidates_.size() >= kMaxCandidatePaths) drop_candidate(candidates_.begin());
    candidates_.emplace_back(addresses, false, config_.enable_ecn);
    PathState& c = candidates_.back();
    c.set_amplification_limited(!ours);
    // §9.5: a new local address, or a client's new path, sends with a connection ID not used
    // elsewhere; a server answering a peer's new remote address from the same local address
    // may keep the current one (the peer's NAT changed, not us).
    const bool new_local = !(addresses.local == path_.addresses().local);
    if (ours || new_local) {
        if (auto cid = cids_.take_unused_peer_cid())
            c.set_peer_cid(PathState::PeerCid{cid->first, cid->second});
    }
    c.start_validation(random_, now + path_validation_timeout());
    stats_.paths_probed++;
    return c;
}

void ConnectionImpl::drop_candidate(std::list<PathState>::iterator it) {
    if (it->peer_cid()) cids_.release_peer_cid(it->peer_cid()->sequence_number);
    candidates_.erase(it);
}

// The candidate becomes the active path; the old one stays as the fallback when it was
// validated (§9.3.2).
void ConnectionImpl::promote(Time now, std::list<PathState>::iterator it) {
    PathState next = std::move(*it);
    candidates_.erase(it);
    const bool new_ip = !next.addresses().remote.same_ip(path_.addresses().remote);
    stats_.path_migrations++;
    if (new_ip) {
        // §9.4: a new network path: start congestion control and RTT over.
        loss_.rtt().reset(config_.initial_rtt);
        cc_ = make_congestion_controller(to_algorithm(config_.congestion_control), max_udp_payload_,
                                         random_);
        restart_pmtud(now);
    }
    if (next.peer_cid()) {
        cids_.use_peer_cid(next.peer_cid()->sequence_number);
        next.set_peer_cid(std::nullopt);
        spin_.on_connection_id_changed();  // §17.4
    }
    if (path_.validated()) fallback_path_ = std::make_unique<PathState>(std::move(path_));
    path_ = std::move(next);
    loss_.on_context_changed(recovery_context(), now);
}

// The path MTU belongs to the path (RFC 9000 §14.3): on a new network path, datagrams go back
// to 1200 bytes and DPLPMTUD searches again, within our and the peer's limits.
void ConnectionImpl::restart_pmtud(Time now) {
    pmtud_ =
        PmtuDiscovery(config_.enable_pmtud ? static_cast<size_t>(config_.max_udp_payload_size) : 0);
    if (peer_params_applied_)
        pmtud_.lower_ceiling(static_cast<size_t>(
            std::min<uint64_t>(peer_params_.max_udp_payload_size, config_.max_udp_payload_size)));
    pmtu_search_done_traced_ = false;
    on_pmtu_changed(now);
}

// §9.3: a non-probing packet with the largest packet number from a new 4-tuple moves a server
// there (its candidate, made by receiving_path, keeps what it learnt while probing).
void ConnectionImpl::on_peer_address_change(Time now, const Path& path) {
    for (auto it = candidates_.begin(); it != candidates_.end(); ++it)
        if (it->addresses() == path) return promote(now, it);
}

void ConnectionImpl::on_path_challenge_frame(const PathChallengeFrame& f) {
    // §8.2.2: the response goes on the path the challenge arrived on.
    PathState* p = find_path(rx_path_);
    (p ? *p : path_).on_path_challenge(f.data);
}

// §8.2.3: a response on any path validates the path its challenge was sent on. A client moves
// to its candidate once it is validated.
void ConnectionImpl::on_path_response_frame(Time now, const PathResponseFrame& f) {
    if (path_.on_path_response(f.data)) {
        fallback_path_.reset();  // the new path holds: nothing to go back to
        return;
    }
    for (auto it = candidates_.begin(); it != candidates_.end(); ++it) {
        if (!it->on_path_response(f.data)) continue;
        if (role_ == Role::kClient) promote(now, it);
        return;
    }
}

void ConnectionImpl::on_path_challenge_lost(const PathState::Challenge& data) {
    if (path_.on_path_challenge_lost(data)) return;
    for (PathState& c : candidates_)
        if (c.on_path_challenge_lost(data)) return;
}

// §9.6.1: once the handshake is confirmed, a client offered a preferred address of its own
// address family probes it with the connection ID that came with it, and moves there when the
// probe is answered.
void ConnectionImpl::probe_preferred_address(Time now) {
    if (role_ != Role::kClient || preferred_address_probed_ || !config_.use_preferred_address ||
        !peer_params_.preferred_address)
        return;
    preferred_address_probed_ = true;
    const PreferredAddress& pa = *peer_params_.preferred_address;
    const SocketAddress& remote = path_.addresses().remote;
    SocketAddress target;
    if (remote.family() == SocketAddress::Family::kIpv4 && pa.ipv4_port != 0 &&
        pa.ipv4_address != std::array<uint8_t, 4>{})
        target = SocketAddress::ipv4(pa.ipv4_address, pa.ipv4_port);
    else if (remote.family() == SocketAddress::Family::kIpv6 && pa.ipv6_port != 0 &&
             pa.ipv6_address != std::array<uint8_t, 16>{})
        target = SocketAddress::ipv6(pa.ipv6_address, pa.ipv6_port);
    if (target.empty() || target == remote) return;
    add_candidate(now, Path{path_.addresses().local, target}, true);
}

// A client's active migration (§9.2): probe from a new local address, move once validated.
Status ConnectionImpl::migrate(Time now, const SocketAddress& new_local) {
    last_now_ = now;
    if (role_ != Role::kClient || !handshake_confirmed_ || state_ != ConnectionState::kEstablished)
        return Error::transport(TransportErrorCode::kInternalError,
                                "only a client with a confirmed handshake migrates");
    // §18.2: the server asked not to.
    if (peer_params_.disable_active_migration)
        return Error::transport(TransportErrorCode::kInternalError,
                                "the server disabled active migration");
    const Path next{new_local, path_.addresses().remote};
    if (find_path(next)) return {};
    PathState& c = add_candidate(now, next, true);
    // §9.5: a client must not reuse a connection ID from a new local address.
    if (!c.peer_cid()) {
        drop_candidate(std::prev(candidates_.end()));
        return Error::transport(TransportErrorCode::kInternalError,
                                "the server gave no spare connection ID to migrate with");
    }
    return {};
}

std::optional<Time> ConnectionImpl::next_path_timeout() const {
    std::optional<Time> t;
    auto take = [&t](std::optional<Time> c) {
        if (c && (!t || *c < *t)) t = c;
    };
    for (const PathState* p : {&path_}) {
        take(p->validation_deadline());
        take(p->challenge_resend_at());
    }
    for (const PathState& c : candidates_) {
        take(c.validation_deadline());
        take(c.challenge_resend_at());
    }
    return t;
}

// §8.2.4: validation gave up. A candidate is forgotten; an active path that failed (a server
// that followed the peer) goes back to the last validated path (§9.3.2), or, with none, the
// connection is closed silently.
void ConnectionImpl::on_path_timeout(Time now) {
    path_.on_resend_timer(now);
    for (PathState& c : candidates_) c.on_resend_timer(now);
    for (auto it = candidates_.begin(); it != candidates_.end();) {
        auto d = it->validation_deadline();
        if (d && now >= *d) {
            stats_.path_validation_failures++;
            if (it->peer_cid()) cids_.release_peer_cid(it->peer_cid()->sequence_number);
            it = candidates_.erase(it);
        } else {
            ++it;
        }
    }
    auto d = path_.validation_deadline();
    if (!d || now < *d) return;
    stats_.path_validation_failures++;
    if (fallback_path_) {
        const bool new_ip = !fallback_path_->addresses().remote.same_ip(path_.addresses().remote);
        path_ = std::move(*fallback_path_);
        fallback_path_.reset();
        stats_.path_migrations++;
        if (new_ip) {
            loss_.rtt().reset(config_.initial_rtt);
            cc_ = make_congestion_controller(to_algorithm(config_.congestion_control),
                                             max_udp_payload_, random_);
        }
        return;
    }
    finish_closed(CloseOrigin::kIdleTimeout,
                  Error::transport(TransportErrorCode::kNoError,
                                   "path validation failed with no validated path to return to"));
}

}  // namespace quic
