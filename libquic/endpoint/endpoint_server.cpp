// Datagrams that belong to no connection: a peer's stateless reset, a datagram for a connection
// we lost (answered with a reset of our own), an unknown version (Version Negotiation), or a
// client's first Initial. Nothing here keeps state for a packet that did not decrypt, and every
// reply is rate-limited (endpoint/limits.h).
#include <algorithm>

#include "conn/limits.h"
#include "crypto/retry_integrity.h"
#include "endpoint/endpoint_impl.h"
#include "endpoint/initial_packet.h"
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
        send_stateless_reset(now, path, inv->dcid, datagram.size());
        return;
    }
    // §6.1: a Version Negotiation packet is never answered (and a client has no use for one
    // that reaches no connection).
    if (!config_.server_tls || inv->version == kVersionNegotiationVersion) {
        stats_.datagrams_dropped++;
        return;
    }
    const auto& versions = config_.connection.versions;
    if (std::find(versions.begin(), versions.end(), inv->version) == versions.end()) {
        send_version_negotiation(now, path, *inv, datagram.size());
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

// §6.1, §14.1: only for datagrams large enough to be a client's first (the interop runner's
// probe is 1207 bytes), so that the reply is always smaller than what triggered it.
void Endpoint::Impl::send_version_negotiation(Time now, const Path& path,
                                              const InvariantHeader& inv, size_t datagram_size) {
    if (datagram_size < kMinInitialDatagramSize) {
        stats_.datagrams_dropped++;
        return;
    }
    if (!may_reply(now, &version_negotiation_limiter_)) return;
    uint8_t rnd = 0;
    random_.fill(std::span(&rnd, 1));
    Bytes vn = build_version_negotiation(inv.scid, inv.dcid, config_.connection.versions, rnd);
    if (queue_reply(path, std::move(vn))) stats_.version_negotiations_sent++;
}

bool Endpoint::Impl::may_reply(Time now, RateLimiter* limiter) {
    if (pending_.size() < kMaxPendingEndpointDatagrams && (!limiter || limiter->allow(now)))
        return true;
    stats_.replies_rate_limited++;
    stats_.datagrams_dropped++;
    return false;
}

bool Endpoint::Impl::queue_reply(const Path& path, Bytes bytes) {
    if (bytes.empty()) return false;
    pending_.push_back({path, std::move(bytes)});
    return true;
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

// --- new clients -------------------------------------------------------------------------------

// RFC 9001 §5.2, §5.4: open the Initial first; junk gets nothing, not even a reply. Then the
// token, then room: a full server refuses (§10.2.3), a loaded one asks for a Retry (§8.1.2).
void Endpoint::Impl::accept_initial(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram,
                                    const PacketHeader& header) {
    auto keys = open_client_initial(header, datagram.first(header.packet_size), scratch_);
    if (!keys) {
        stats_.initials_undecryptable++;
        stats_.datagrams_dropped++;
        return;
    }
    auto admission = check_token(now, path, header);
    if (!admission) {
        // §8.1.2: a client with an invalid Retry token will not accept another Retry.
        stats_.invalid_tokens++;
        send_initial_close(now, path, header, *keys, TransportErrorCode::kInvalidToken,
                           "invalid token");
        return;
    }
    switch (decide(path, *admission)) {
        case Decision::kRetry:
            send_retry(now, path, header);
            return;
        case Decision::kRefuse:
            stats_.connections_refused++;
            send_initial_close(now, path, header, *keys, TransportErrorCode::kConnectionRefused,
                               "server busy");
            return;
        case Decision::kCreate:
            create_server_connection(now, path, ecn, datagram, header, *admission);
            return;
    }
}

std::optional<Endpoint::Impl::Admission> Endpoint::Impl::check_token(Time now, const Path& path,
                                                                     const PacketHeader& header) {
    Admission a;
    if (header.token.empty()) return a;
    const auto kind = AddressTokenCodec::peek_kind(header.token);
    const Duration max_age = kind == AddressTokenKind::kRetry ? config_.retry_token_lifetime
                                                              : config_.new_token_lifetime;
    auto token = address_tokens_.open(header.token, address_bytes(path.remote), now, max_age);
    // RFC 9369 §4, §5: a token only counts in the version it was issued for (a client must
    // not switch versions after a Retry; a NEW_TOKEN token is for the negotiated version).
    if (token.ok() && token->version != header.version)
        token = Error::transport(TransportErrorCode::kInvalidToken, "token for another version");
    if (token.ok() && token->kind == AddressTokenKind::kRetry && token->retry_scid == header.dcid) {
        // §8.1.2, §7.3: the Retry proved the address; the original DCID comes from the token.
        a.validated = true;
        a.original_dcid = token->original_dcid;
        a.retry_scid = token->retry_scid;
    } else if (token.ok() && token->kind == AddressTokenKind::kNewToken) {
        a.validated = true;  // §8.1.3
    } else if (kind == AddressTokenKind::kRetry) {
        return std::nullopt;
    }
    // §8.1.3: any other token (expired, foreign, for another address) is ignored.
    return a;
}

Endpoint::Impl::Decision Endpoint::Impl::decide(const Path& path, const Admission& a) {
    if (accept_queue_.size() >= config_.max_accept_queue) {
        // Connections that closed while queued do not count.
        std::erase_if(accept_queue_, [](const auto& c) { return c->is_closed(); });
        if (accept_queue_.size() >= config_.max_accept_queue) return Decision::kRefuse;
    }
    if (half_open_ >= config_.max_concurrent_handshakes) return Decision::kRefuse;
    const size_t from_source = half_open_from(path.remote, a.validated);
    if (a.validated) {
        return from_source >= config_.max_half_open_per_source ? Decision::kRefuse
                                                               : Decision::kCreate;
    }
    // An unvalidated client: a Retry makes it prove its address; a source over its share can
    // still come back validated (its validated share is apart, so a spoofer filling a victim's
    // unvalidated share does not lock the victim out).
    const bool source_full = from_source >= config_.max_half_open_per_source;
    switch (config_.retry) {
        case RetryPolicy::kAlways:
            return Decision::kRetry;
        case RetryPolicy::kNever:
            return source_full ? Decision::kRefuse : Decision::kCreate;
        case RetryPolicy::kAutomatic:
            return source_full || half_open_ >= config_.retry_threshold ? Decision::kRetry
                                                                        : Decision::kCreate;
    }
    return Decision::kRefuse;
}

void Endpoint::Impl::create_server_connection(Time now, const Path& path, Ecn ecn,
                                              MutableByteSpan datagram, const PacketHeader& header,
                                              const Admission& a) {
    const SlotRef slot = reserve_slot();
    Connection::Params p = base_params(Role::kServer, path, slot);
    p.tls = config_.server_tls;
    p.version = header.version;
    p.original_dcid = a.original_dcid.value_or(header.dcid);
    if (a.retry_scid) {
        p.initial_keys_dcid = header.dcid;
        p.retry_source_cid = a.retry_scid;
    }
    p.address_validated = a.validated;
    p.peer_cid = header.scid;
    p.local_cid = new_connection_id();
    p.new_token_for = [this](const SocketAddress& addr, Version version) {
        AddressToken t;
        t.kind = AddressTokenKind::kNewToken;
        t.issued = last_now_;
        t.version = version;
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
    install(slot, conn, {local, header.dcid});
    enter_half_open(slots_[slot.index], path.remote, a.validated, now);
    accept_queue_.push_back(conn);
    conn->on_datagram(now, path, ecn, datagram);
    mark_ready(slot);
    sync(slot);
}

void Endpoint::Impl::send_retry(Time now, const Path& path, const PacketHeader& header) {
    // Not rate-limited beyond the pending cap: a Retry is the answer to load, smaller than the
    // Initial it answers, and only for Initials that decrypted.
    if (!may_reply(now, nullptr)) return;
    AddressToken t;
    t.kind = AddressTokenKind::kRetry;
    t.issued = now;
    t.version = header.version;
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
    if (queue_reply(path, std::move(retry))) stats_.retries_sent++;
}

void Endpoint::Impl::send_initial_close(Time now, const Path& path, const PacketHeader& header,
                                        InitialKeys& keys, TransportErrorCode code,
                                        std::string_view reason) {
    if (!may_reply(now, &initial_close_limiter_)) return;
    queue_reply(path, build_initial_close(header.version, header.scid, header.dcid, code, reason,
                                          keys.server));
}

void Endpoint::Impl::send_stateless_reset(Time now, const Path& path, ByteSpan dcid,
                                          size_t trigger_size) {
    // §10.3.3: smaller than the trigger, so two endpoints cannot loop; none for tiny triggers.
    auto size = stateless_reset_size_for(trigger_size);
    ConnectionId cid;
    if (!size || !ConnectionId::from_bytes(dcid, cid) || cid.empty()) {
        stats_.datagrams_dropped++;
        return;
    }
    if (!may_reply(now, &stateless_reset_limiter_)) return;
    if (queue_reply(path, build_stateless_reset(*size, reset_tokens_.token_for(cid), random_)))
        stats_.stateless_resets_sent++;
}

}  // namespace quic
