#include "quic/endpoint.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <vector>

#include "conn/limits.h"
#include "crypto/address_token.h"
#include "crypto/retry_integrity.h"
#include "crypto/stateless_reset.h"
#include "wire/packet_header.h"
#include "wire/stateless_reset.h"
#include "wire/version_negotiation.h"

namespace quic {
namespace {

// Endpoint-level caps (DESIGN.md, "Errors and limits").
// Datagrams the endpoint itself wants to send (VN, Retry, resets): beyond this, new ones are
// dropped, so a flood of junk cannot queue unbounded replies.
constexpr size_t kMaxPendingEndpointDatagrams = 64;
// Stateless resets per 100 ms (RFC 9000 §10.3: endpoints SHOULD limit them).
constexpr unsigned kMaxStatelessResetsPerWindow = 32;
constexpr Duration kStatelessResetWindow = std::chrono::milliseconds(100);
// RFC 9000 §7.2: a client's first Destination Connection ID is at least 8 bytes.
constexpr size_t kMinInitialDcidLength = 8;

// Separate keys for separate primitives, derived from the one static key.
Bytes derive_key(ByteSpan key, const char* label) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, label, std::strlen(label));
    SHA256_Update(&ctx, key.data(), key.size());
    Bytes out(32);
    SHA256_Final(out.data(), &ctx);
    return out;
}

Bytes address_bytes(const SocketAddress& a) {
    std::string s = a.encode();
    return Bytes(s.begin(), s.end());
}

}  // namespace

// Everything the endpoint holds; the public class forwards to it (the header names no
// internal type).
class Endpoint::Impl {
  public:
    Impl(EndpointConfig config, Random& random);

    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer);
    std::optional<Time> next_timeout() const;
    void on_timeout(Time now);
    Result<std::shared_ptr<Connection>> connect(Time now, const Path& path,
                                                const ConnectOptions& options);
    std::shared_ptr<Connection> accept();
    size_t connection_count() const { return connections_.size(); }
    const EndpointConfig& config() const { return config_; }
    const Stats& stats() const { return stats_; }

  private:
    struct Pending {  // endpoint-generated datagrams (VN, Retry, stateless reset, refusals)
        Path path;
        Bytes bytes;
    };

    void handle_unrouted(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    void accept_initial(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram,
                        const PacketHeader& header);
    void send_retry(Time now, const Path& path, const PacketHeader& header);
    void send_stateless_reset(const Path& path, ByteSpan dcid, size_t trigger_size);
    void route_cid_events(const std::shared_ptr<Connection>& c);
    void forget_closed();
    ConnectionId new_connection_id();
    Connection::Params base_params(Role role, const Path& path);
    static EndpointConfig with_key(EndpointConfig c, Random& random);

    EndpointConfig config_;
    Random& random_;
    StatelessResetTokenGenerator reset_tokens_;
    AddressTokenCodec address_tokens_;
    std::unordered_map<ConnectionId, std::shared_ptr<Connection>> by_cid_;
    std::vector<std::shared_ptr<Connection>> connections_;
    std::deque<std::shared_ptr<Connection>> accept_queue_;
    std::deque<Pending> pending_;
    size_t next_poll_ = 0;  // round-robin over connections in poll_transmit
    Time last_now_{};
    // Stateless resets sent within the current 100 ms window (a peer's junk must not make us a
    // packet reflector, RFC 9000 §10.3).
    Time reset_window_start_{};
    unsigned resets_in_window_ = 0;
    Stats stats_;
};

EndpointConfig Endpoint::Impl::with_key(EndpointConfig c, Random& random) {
    if (c.static_key.size() != 32) {
        c.static_key.assign(32, 0);
        random.fill(c.static_key);
    }
    return c;
}

Endpoint::Impl::Impl(EndpointConfig config, Random& random)
    : config_(with_key(std::move(config), random)),
      random_(random),
      reset_tokens_(derive_key(config_.static_key, "quiver stateless reset")),
      address_tokens_(derive_key(config_.static_key, "quiver address token")) {}

ConnectionId Endpoint::Impl::new_connection_id() {
    uint8_t buf[kMaxConnectionIdLength];
    const size_t len = std::clamp<size_t>(config_.connection.connection_id_length, 4, 20);
    for (;;) {
        random_.fill(std::span(buf, len));
        ConnectionId cid(std::span<const uint8_t>(buf, len));
        if (!by_cid_.count(cid)) return cid;
    }
}

Connection::Params Endpoint::Impl::base_params(Role role, const Path& path) {
    Connection::Params p;
    p.role = role;
    p.config = config_.connection;
    p.random = &random_;
    p.path = path;
    p.reset_token_for = [this](const ConnectionId& cid) { return reset_tokens_.token_for(cid); };
    p.new_connection_id = [this] { return new_connection_id(); };
    return p;
}

// --- the client side -----------------------------------------------------------------------

Result<std::shared_ptr<Connection>> Endpoint::Impl::connect(Time now, const Path& path,
                                                            const ConnectOptions& options) {
    last_now_ = now;
    if (!config_.client_tls)
        return Error::transport(TransportErrorCode::kInternalError, "no client TLS configuration");
    Connection::Params p = base_params(Role::kClient, path);
    p.tls = config_.client_tls;
    p.version = config_.connection.versions.empty() ? kVersion1 : config_.connection.versions[0];
    // §7.2: an unpredictable DCID of at least 8 bytes.
    uint8_t dcid[8];
    random_.fill(dcid);
    p.original_dcid = ConnectionId(dcid);
    p.local_cid = new_connection_id();
    p.server_name = options.server_name;
    p.resumption_ticket = options.resumption_ticket;
    p.token = options.token;
    if (config_.tracer_factory) p.tracer = config_.tracer_factory(Role::kClient, p.original_dcid);
    ConnectionId local = p.local_cid;
    auto created = Connection::create(now, std::move(p));
    if (!created.ok()) return std::move(created).error();
    std::shared_ptr<Connection> conn = std::move(created).value();
    by_cid_[local] = conn;
    connections_.push_back(conn);
    return conn;
}

// --- datagrams in ----------------------------------------------------------------------------

void Endpoint::Impl::on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) {
    last_now_ = now;
    stats_.datagrams_received++;
    auto inv = parse_invariant_header(datagram, config_.connection.connection_id_length);
    if (!inv.ok()) {
        stats_.datagrams_dropped++;
        return;
    }
    ConnectionId dcid;
    if (ConnectionId::from_bytes(inv->dcid, dcid)) {
        auto it = by_cid_.find(dcid);
        if (it != by_cid_.end()) {
            std::shared_ptr<Connection> conn = it->second;
            conn->on_datagram(now, path, ecn, datagram);
            route_cid_events(conn);
            return;
        }
    }
    handle_unrouted(now, path, ecn, datagram);
}

void Endpoint::Impl::handle_unrouted(Time now, const Path& path, Ecn ecn,
                                     MutableByteSpan datagram) {
    auto inv = parse_invariant_header(datagram, config_.connection.connection_id_length);
    if (!inv->long_header) {
        // §10.3.1: a datagram we cannot route may be a peer's stateless reset: its last 16
        // bytes match a token one of our connections was given. Otherwise we may be the one
        // that lost state: answer with a reset of our own.
        for (const auto& c : connections_)
            if (c->is_stateless_reset(datagram)) {
                c->on_stateless_reset(now);
                return;
            }
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

void Endpoint::Impl::accept_initial(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram,
                                    const PacketHeader& header) {
    size_t handshaking = 0;
    for (const auto& c : connections_)
        if (c->role() == Role::kServer && !c->is_handshake_complete()) ++handshaking;
    if (accept_queue_.size() >= config_.max_accept_queue ||
        handshaking >= config_.max_concurrent_handshakes) {
        stats_.connections_refused++;
        return;
    }
    Connection::Params p = base_params(Role::kServer, path);
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
            stats_.datagrams_dropped++;
            return;
        }
    }
    if (config_.require_retry && !p.address_validated) {
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
        stats_.connections_refused++;
        return;
    }
    std::shared_ptr<Connection> conn = std::move(created).value();
    by_cid_[local] = conn;
    // The client keeps using its chosen DCID until it sees our SCID (§7.2).
    by_cid_[header.dcid] = conn;
    connections_.push_back(conn);
    accept_queue_.push_back(conn);
    conn->on_datagram(now, path, ecn, datagram);
    route_cid_events(conn);
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

// --- connection bookkeeping ------------------------------------------------------------------

void Endpoint::Impl::route_cid_events(const std::shared_ptr<Connection>& c) {
    while (auto ev = c->poll_cid_event()) {
        if (ev->issued)
            by_cid_[ev->cid] = c;
        else
            by_cid_.erase(ev->cid);
    }
}

void Endpoint::Impl::forget_closed() {
    for (size_t i = 0; i < connections_.size();) {
        if (!connections_[i]->is_closed()) {
            ++i;
            continue;
        }
        const Connection* dead = connections_[i].get();
        for (auto it = by_cid_.begin(); it != by_cid_.end();)
            it = it->second.get() == dead ? by_cid_.erase(it) : std::next(it);
        connections_.erase(connections_.begin() + static_cast<std::ptrdiff_t>(i));
    }
}

std::shared_ptr<Connection> Endpoint::Impl::accept() {
    while (!accept_queue_.empty()) {
        std::shared_ptr<Connection> c = std::move(accept_queue_.front());
        accept_queue_.pop_front();
        if (!c->is_closed()) return c;
    }
    return nullptr;
}

// --- datagrams out and timers ----------------------------------------------------------------

std::optional<Transmit> Endpoint::Impl::poll_transmit(Time now, MutableByteSpan buffer) {
    last_now_ = now;
    if (!pending_.empty()) {
        Pending p = std::move(pending_.front());
        pending_.pop_front();
        const size_t n = std::min(p.bytes.size(), buffer.size());
        std::memcpy(buffer.data(), p.bytes.data(), n);
        return Transmit{p.path, Ecn::kNotEct, n, 0};
    }
    const size_t count = connections_.size();
    for (size_t i = 0; i < count; ++i) {
        const size_t idx = (next_poll_ + i) % count;
        std::shared_ptr<Connection> c = connections_[idx];
        auto t = c->poll_transmit(now, buffer);
        route_cid_events(c);
        if (t) {
            next_poll_ = (idx + 1) % count;
            return t;
        }
    }
    forget_closed();
    return std::nullopt;
}

std::optional<Time> Endpoint::Impl::next_timeout() const {
    std::optional<Time> t;
    if (!pending_.empty()) t = last_now_;
    for (const auto& c : connections_)
        if (auto ct = c->next_timeout(); ct && (!t || *ct < *t)) t = ct;
    return t;
}

void Endpoint::Impl::on_timeout(Time now) {
    last_now_ = now;
    // Copy: a timeout may close a connection, and forget_closed edits the list.
    std::vector<std::shared_ptr<Connection>> due;
    for (const auto& c : connections_)
        if (auto ct = c->next_timeout(); ct && *ct <= now) due.push_back(c);
    for (const auto& c : due) {
        c->on_timeout(now);
        route_cid_events(c);
    }
    forget_closed();
}

// --- the facade --------------------------------------------------------------------------------

Endpoint::Endpoint(EndpointConfig config, Random& random)
    : impl_(std::make_unique<Impl>(std::move(config), random)) {}
Endpoint::~Endpoint() = default;
void Endpoint::on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) {
    impl_->on_datagram(now, path, ecn, datagram);
}
std::optional<Transmit> Endpoint::poll_transmit(Time now, MutableByteSpan buffer) {
    return impl_->poll_transmit(now, buffer);
}
std::optional<Time> Endpoint::next_timeout() const {
    return impl_->next_timeout();
}
void Endpoint::on_timeout(Time now) {
    impl_->on_timeout(now);
}
Result<std::shared_ptr<Connection>> Endpoint::connect(Time now, const Path& path,
                                                      const ConnectOptions& options) {
    return impl_->connect(now, path, options);
}
std::shared_ptr<Connection> Endpoint::accept() {
    return impl_->accept();
}
size_t Endpoint::connection_count() const {
    return impl_->connection_count();
}
const EndpointConfig& Endpoint::config() const {
    return impl_->config();
}
const Endpoint::Stats& Endpoint::stats() const {
    return impl_->stats();
}

}  // namespace quic
