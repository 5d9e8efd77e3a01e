#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "endpoint/endpoint_impl.h"
#include "endpoint/limits.h"

namespace quic {
namespace {

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

}  // namespace

EndpointConfig Endpoint::Impl::with_defaults(EndpointConfig c, Random& random) {
    if (c.static_key.size() != 32) {
        c.static_key.assign(32, 0);
        random.fill(c.static_key);
    }
    if (!c.unvalidated_handshake_timeout)
        c.unvalidated_handshake_timeout =
            std::max(kDefaultUnvalidatedHandshakeTimeout, c.connection.handshake_timeout / 2);
    return c;
}

Endpoint::Impl::Impl(EndpointConfig config, Random& random)
    : config_(with_defaults(std::move(config), random)),
      random_(random),
      reset_tokens_(derive_key(config_.static_key, "quiver stateless reset")),
      address_tokens_(derive_key(config_.static_key, "quiver address token")),
      hash_(random),
      by_cid_(0, hash_),
      by_reset_token_(0, hash_),
      half_open_by_source_(0, hash_),
      by_remote_ip_(0, hash_),
      version_negotiation_limiter_(kVersionNegotiationsPerSecond, kVersionNegotiationBurst),
      stateless_reset_limiter_(kStatelessResetsPerSecond, kStatelessResetBurst),
      initial_close_limiter_(kInitialClosesPerSecond, kInitialCloseBurst) {}

Endpoint::Impl::~Impl() = default;

ConnectionId Endpoint::Impl::new_connection_id() {
    uint8_t buf[kMaxConnectionIdLength];
    const size_t len = std::clamp<size_t>(config_.connection.connection_id_length, 4, 20);
    if (config_.connection_id_generator) {
        ConnectionId cid = config_.connection_id_generator();
        if (cid.size() == len && !by_cid_.count(cid)) return cid;
        ++stats_.generated_connection_ids_replaced;
    }
    for (;;) {
        random_.fill(std::span(buf, len));
        ConnectionId cid(std::span<const uint8_t>(buf, len));
        if (!by_cid_.count(cid)) return cid;
    }
}

Connection::Params Endpoint::Impl::base_params(Role role, const Path& path, SlotRef slot) {
    Connection::Params p;
    p.role = role;
    p.config = config_.connection;
    p.random = &random_;
    p.path = path;
    p.reset_token_for = [this](const ConnectionId& cid) { return reset_tokens_.token_for(cid); };
    p.new_connection_id = [this] { return new_connection_id(); };
    p.wake = [this, slot] { mark_ready(slot); };
    return p;
}

// --- the client side -----------------------------------------------------------------------

Result<std::shared_ptr<Connection>> Endpoint::Impl::connect(Time now, const Path& path,
                                                            const ConnectOptions& options) {
    last_now_ = now;
    if (!config_.client_tls)
        return Error::transport(TransportErrorCode::kInternalError, "no client TLS configuration");
    const SlotRef slot = reserve_slot();
    Connection::Params p = base_params(Role::kClient, path, slot);
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
    const ConnectionId local = p.local_cid;
    auto created = Connection::create(now, std::move(p));
    if (!created.ok()) {
        release_slot(slot.index);
        return std::move(created).error();
    }
    std::shared_ptr<Connection> conn = std::move(created).value();
    install(slot, conn, {local});
    mark_ready(slot);  // its first Initial
    sync(slot);
    return conn;
}

std::shared_ptr<Connection> Endpoint::Impl::accept() {
    while (!accept_queue_.empty()) {
        std::shared_ptr<Connection> c = std::move(accept_queue_.front());
        accept_queue_.pop_front();
        if (!c->is_closed()) return c;
    }
    return nullptr;
}

// --- datagrams in ----------------------------------------------------------------------------

void Endpoint::Impl::on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) {
    last_now_ = now;
    maybe_shrink();
    stats_.datagrams_received++;
    auto inv = parse_invariant_header(datagram, config_.connection.connection_id_length);
    if (!inv.ok()) {
        stats_.datagrams_dropped++;
        return;
    }
    ConnectionId dcid;
    SlotRef ref;
    if (ConnectionId::from_bytes(inv->dcid, dcid) && find_by_cid(dcid, ref)) {
        // Keep the connection alive across the call: it may close and be forgotten in sync().
        std::shared_ptr<Connection> conn = live(ref)->conn;
        conn->on_datagram(now, path, ecn, datagram);
        mark_ready(ref);
        sync(ref);
        return;
    }
    handle_unrouted(now, path, ecn, datagram);
}

// --- datagrams out and timers ----------------------------------------------------------------

std::optional<Transmit> Endpoint::Impl::poll_transmit(Time now, MutableByteSpan buffer) {
    last_now_ = now;
    maybe_shrink();
    if (!pending_.empty()) {
        Pending p = std::move(pending_.front());
        pending_.pop_front();
        const size_t n = std::min(p.bytes.size(), buffer.size());
        std::memcpy(buffer.data(), p.bytes.data(), n);
        return Transmit{p.path, Ecn::kNotEct, n, 0};
    }
    // Round robin over the connections that were touched: one that sent goes to the back.
    while (!ready_.empty()) {
        const SlotRef ref = ready_.front();
        ready_.pop_front();
        Slot* s = live(ref);
        if (!s || !s->ready) continue;
        std::shared_ptr<Connection> conn = s->conn;
        auto t = conn->poll_transmit(now, buffer);
        if (t) {
            t->flow = ref.generation;
            ready_.push_back(ref);
            sync(ref);
            return t;
        }
        s->ready = false;
        sync(ref);
    }
    return std::nullopt;
}

std::optional<Time> Endpoint::Impl::next_timeout() const {
    if (!pending_.empty()) return last_now_;
    return timers_.earliest();
}

void Endpoint::Impl::on_timeout(Time now) {
    last_now_ = now;
    maybe_shrink();
    // Collect first: handling one connection's timeout re-arms its timer, possibly at `now`
    // (it then fires on the next call, not in a loop here).
    due_.clear();
    while (auto index = timers_.pop_due(now))
        due_.push_back(SlotRef{*index, slots_[*index].generation});
    for (const SlotRef& ref : due_) {
        Slot* s = live(ref);
        if (!s) continue;
        std::shared_ptr<Connection> conn = s->conn;
        if (s->unvalidated_deadline && *s->unvalidated_deadline <= now) {
            s->unvalidated_deadline.reset();
            if (s->half_open && !conn->is_address_validated()) {
                // Never proved its address: most likely a spoofed Initial (endpoint.h).
                conn->abandon(now);
                stats_.handshakes_abandoned++;
            }
        }
        if (auto t = conn->next_timeout(); t && *t <= now) conn->on_timeout(now);
        mark_ready(ref);
        sync(ref);
    }
}

void Endpoint::Impl::on_packet_too_big(Time now, const SocketAddress& remote,
                                       size_t max_udp_payload) {
    last_now_ = now;
    // The connections with this peer IP (the index), then the port when the message gave one.
    // Copied first: handling one may close it, and sync() then edits the index.
    due_.clear();
    if (auto it = by_remote_ip_.find(RemoteIpKey::of(remote)); it != by_remote_ip_.end())
        for (const uint32_t i : it->second) due_.push_back(SlotRef{i, slots_[i].generation});
    for (const SlotRef ref : due_) {
        Slot* s = live(ref);
        if (!s) continue;
        const SocketAddress& to = s->conn->path().remote;
        if (!(remote.port() == 0 ? to.same_ip(remote) : to == remote)) continue;
        std::shared_ptr<Connection> conn = s->conn;
        conn->on_packet_too_big(now, max_udp_payload);
        mark_ready(ref);
        sync(ref);
    }
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
void Endpoint::on_packet_too_big(Time now, const SocketAddress& remote, size_t max_udp_payload) {
    impl_->on_packet_too_big(now, remote, max_udp_payload);
}
Result<std::shared_ptr<Connection>> Endpoint::connect(Time now, const Path& path,
                                                      const ConnectOptions& options) {
    return impl_->connect(now, path, options);
}
std::shared_ptr<Connection> Endpoint::accept() {
    return impl_->accept();
}
void Endpoint::take_touched(std::vector<std::shared_ptr<Connection>>& out) {
    impl_->take_touched(out);
}
size_t Endpoint::connection_count() const {
    return impl_->connection_count();
}
size_t Endpoint::half_open_count() const {
    return impl_->half_open_count();
}
const EndpointConfig& Endpoint::config() const {
    return impl_->config();
}
const Endpoint::Stats& Endpoint::stats() const {
    return impl_->stats();
}

}  // namespace quic
