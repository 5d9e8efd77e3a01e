// Datagrams that belong to no connection: a peer's stateless reset, a datagram for a connection
// we lost (answered with a reset of our own), an unknown version (Version Negotiation), or a
// client's first Initial.
#include <algorithm>

#include "conn/limits.h"
#include "crypto/retry_integrity.h"
#include "endpoint/endpoint_impl.h"
#include "endpoint/limits.h"
#include "wire/stateless_reset.h"
#include "wire/version_negotiation.h"

namespace quic {
namespace {

Bytes address_bytes(const SocketAddress& a) {
    std::string s = a.encode();
    return Bytes(s.begin(), s.end());
}

}  // namespace

void Endpoint::Impl::handle_unrouted(Time now, const Path& path, Ecn ecn,
                                     MutableByteSpan datagram) {
    auto inv = parse_invariant_header(datagram, config_.connection.connection_id_length);
    if (!inv->long_header) {
        // §10.3.1: a datagram we cannot route may be a peer's stateless reset: its last 16
        // bytes match a token one of our connections was given. Otherwise we may be the one
        // that lost state: answer with a reset of our own.
        if (is_stateless_reset_for_us(now, datagram)) return;
        send_stateless_reset(path, inv->dcid, datagram.size());
        return;
    }
    if (!config_.server_tls) {
        stats_.datagrams_dropped++;
        return;
    }
    const auto& versions = config_.connection.versions;
    if (std::find(versions.begin(), versions.end(), inv->version) == versions.end()) {
        // §6.1 and §14.1: answer an unknown version with Version Negotiation, but only for
        // datagrams large enough to be a client's first (the runner's probe is 1207 bytes).
        if (datagram.size() < kMinInitialDatagramSize ||
            pending_.size() >= kMaxPendingEndpointDatagrams) {
            stats_.datagrams_dropped++;
            return;
        }
        uint8_t rnd = 0;
        random_.fill(std::span(&rnd, 1));
        pending_.push_back({path, build_version_negotiation(inv->scid, inv->dcid, versions, rnd)});
        stats_.version_negotiations_sent++;
        return;
    }
    auto header = parse_packet_header(datagram, config_.connection.connection_id_length);
    if (!header.ok() || header->type != PacketType::kInitial) {
        stats_.datagrams_dropped++;  // 0-RTT or Handshake for no connection: nothing to do
        return;
    }
    // §14.1: a server drops Initial datagrams smaller than 1200 bytes.
    if (datagram.size() < kMinInitialDatagramSize || header->dcid.size() < kMinInitialDcidLength) {
        stats_.datagrams_dropped++;
        return;
    }
    accept_initial(now, path, ecn, datagram, *header);
}

bool Endpoint::Impl::is_stateless_reset_for_us(Time now, ByteSpan datagram) {
    auto tail = stateless_reset_token_candidate(datagram);
    if (!tail) return false;
    auto it = by_reset_token_.find(*tail);
    if (it == by_reset_token_.end()) return false;
    const SlotRef ref = it->second;
    Slot* s = live(ref);
    if (!s || !s->conn->is_stateless_reset(datagram)) return false;
    std::shared_ptr<Connection> conn = s->conn;
    conn->on_stateless_reset(now);
    sync(ref);
    return true;
}

void Endpoint::Impl::accept_initial(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram,
                                    const PacketHeader& header) {
    if (accept_queue_.size() >= config_.max_accept_queue ||
        half_open_ >= config_.max_concurrent_handshakes) {
        stats_.connections_refused++;
        return;
    }
    const SlotRef slot = reserve_slot();
    Connection::Params p = base_params(Role::kServer, path, slot);
    p.tls = config_.server_tls;
    p.version = header.version;
    p.original_dcid = header.dcid;
    p.peer_cid = header.scid;
    p.local_cid = new_connection_id();
    const Bytes client_address = address_bytes(path.remote);
    if (!header.token.empty()) {
        auto kind = AddressTokenCodec::peek_kind(header.token);
        Duration max_age = kind == AddressTokenKind::kRetry ? config_.retry_token_lifetime
                                                            : config_.new_token_lifetime;
        auto token = address_tokens_.open(header.token, client_address, now, max_age);
        if (token.ok() && token->kind == AddressTokenKind::kRetry &&
            token->retry_scid == header.dcid) {
            // §8.1.2, §7.3: the Retry proved the address; the original DCID comes from the token.
            p.address_validated = true;
            p.original_dcid = token->original_dcid;
            p.initial_keys_dcid = header.dcid;
            p.retry_source_cid = token->retry_scid;
        } else if (token.ok() && token->kind == AddressTokenKind::kNewToken) {
            p.address_validated = true;  // §8.1.3
        } else if (kind == AddressTokenKind::kRetry) {
            // §8.1.2: an invalid Retry token; without a way to prove the address again we drop
            // (a CONNECTION_CLOSE with INVALID_TOKEN would need Initial keys for this DCID).
            release_slot(slot.index);
            stats_.datagrams_dropped++;
            return;
        }
    }
    if (config_.require_retry && !p.address_validated) {
        release_slot(slot.index);
        send_retry(now, path, header);
        return;
    }
    p.new_token_for = [this](const SocketAddress& addr) {
        AddressToken t;
        t.kind = AddressTokenKind::kNewToken;
        t.issued = last_now_;
        t.client_address = address_bytes(addr);
        return address_tokens_.seal(t, random_);
    };
    if (config_.tracer_factory) p.tracer = config_.tracer_factory(Role::kServer, p.original_dcid);
    const ConnectionId local = p.local_cid;
    auto created = Connection::create(now, std::move(p));
    if (!created.ok()) {
        release_slot(slot.index);
        stats_.connections_refused++;
        return;
    }
    std::shared_ptr<Connection> conn = std::move(created).value();
    // The client keeps using its chosen DCID until it sees our SCID (§7.2).
    install(slot, conn, true, {local, header.dcid});
    accept_queue_.push_back(conn);
    conn->on_datagram(now, path, ecn, datagram);
    mark_ready(slot);
    sync(slot);
}

void Endpoint::Impl::send_retry(Time now, const Path& path, const PacketHeader& header) {
    if (pending_.size() >= kMaxPendingEndpointDatagrams) return;
    AddressToken t;
    t.kind = AddressTokenKind::kRetry;
    t.issued = now;
    t.client_address = address_bytes(path.remote);
    t.original_dcid = header.dcid;
    t.retry_scid = new_connection_id();
    Bytes token = address_tokens_.seal(t, random_);
    uint8_t rnd = 0;
    random_.fill(std::span(&rnd, 1));
    Bytes retry = build_retry_without_tag(header.version, header.scid, t.retry_scid, token, rnd);
    if (retry.empty()) return;
    RetryIntegrityTag tag = retry_integrity_tag(header.version, header.dcid, retry);
    retry.insert(retry.end(), tag.begin(), tag.end());
    pending_.push_back({path, std::move(retry)});
    stats_.retries_sent++;
}

void Endpoint::Impl::send_stateless_reset(const Path& path, ByteSpan dcid, size_t trigger_size) {
    // §10.3.3: smaller than the trigger, so two endpoints cannot loop; none for tiny triggers.
    auto size = stateless_reset_size_for(trigger_size);
    ConnectionId cid;
    if (!size || !ConnectionId::from_bytes(dcid, cid) || cid.empty() ||
        pending_.size() >= kMaxPendingEndpointDatagrams) {
        stats_.datagrams_dropped++;
        return;
    }
    if (last_now_ - reset_window_start_ > kStatelessResetWindow) {
        reset_window_start_ = last_now_;
        resets_in_window_ = 0;
    }
    if (++resets_in_window_ > kMaxStatelessResetsPerWindow) {
        stats_.datagrams_dropped++;
        return;
    }
    pending_.push_back({path, build_stateless_reset(*size, reset_tokens_.token_for(cid), random_)});
    stats_.stateless_resets_sent++;
}

}  // namespace quic
