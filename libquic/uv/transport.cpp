// quic::uv::Transport and Listener: a socket, an Endpoint and the Driver between them, and the
// connections handed to the application (docs/architecture.md, "The I/O layer").
#include "quic/uv/transport.h"

#include <errno.h>

#include <algorithm>

#include "quic/connection.h"
#include "uv/connection_driver.h"
#include "uv/reuseport.h"
#include "uv/transport_impl.h"

namespace quic::uv {
namespace {

// After Transport::close, how long to wait for the kernel to take the CONNECTION_CLOSEs
// before closing the socket anyway.
constexpr Duration kCloseLinger = std::chrono::seconds(1);

// The server name a dial uses when none is given: the address without its port.
std::string ip_text(const SocketAddress& a) {
    std::string s = a.to_string();
    const size_t colon = s.rfind(':');
    if (colon != std::string::npos) s.resize(colon);
    if (s.size() >= 2 && s.front() == '[') s = s.substr(1, s.size() - 2);
    return s;
}

}  // namespace

// --- Transport::Impl ---------------------------------------------------------------------------

Transport::Impl::Impl(uv_loop_t* l, UdpSocket s, TransportConfig c)
    : loop(l), config(std::move(c)), socket(std::move(s)) {
    // Never advertise, nor probe up to, more than the socket receives whole (RFC 9000 §18.2):
    // without GRO its receive slots are smaller.
    uint64_t& max_payload = config.endpoint.connection.max_udp_payload_size;
    max_payload = std::min<uint64_t>(max_payload, socket.max_receive_payload());
    endpoint = std::make_unique<Endpoint>(config.endpoint, random);
    driver = std::make_unique<Driver>(loop, socket, *endpoint);
    driver->on_activity = [this](Time now) { on_activity(now); };
    driver->on_error = [this](const Error& e) {
        if (on_error) on_error(e);
    };
    driver->on_icmp_error = [this](const UdpSocket::IcmpError& e) { on_icmp_error(e); };
    idle = new uv_idle_t{};
    uv_idle_init(loop, idle);
    idle->data = this;
}

Transport::Impl::~Impl() {
    for (auto& [core, c] : connections) ConnectionDriver::of(*c).detach();
    for (auto& c : unclaimed) ConnectionDriver::of(*c).detach();
    driver->close();
    uv_close(reinterpret_cast<uv_handle_t*>(idle),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_idle_t*>(h); });
    if (close_check)
        uv_close(reinterpret_cast<uv_handle_t*>(close_check),
                 [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
}

void Transport::Impl::wake() {
    if (!closed) driver->wake();
}

// Only the connections something happened to: those the endpoint touched (datagrams,
// timers, ICMP, sends) and those the application acted on since the last wakeup.
void Transport::Impl::on_activity(Time now) {
    accept_new_connections();
    endpoint->take_touched(touched);
    for (const auto& core : touched) {
        auto it = connections.find(core.get());
        if (it != connections.end()) mark_dirty(ConnectionDriver::of(*it->second));
    }
    touched.clear();
    dispatch_dirty(now);
}

void Transport::Impl::mark_dirty(ConnectionDriver& d) {
    if (d.dirty) return;
    auto me = d.weak_self.lock();
    if (!me) return;  // being destroyed
    d.dirty = true;
    dirty.push_back(std::move(me));
}

// The batch is taken first: callbacks may dial, accept, drop or act on connections, and those
// are dispatched at the next wakeup (one pass per wakeup: a dispatch that reads a stream
// marks its connection again).
void Transport::Impl::dispatch_dirty(Time now) {
    std::swap(dispatching, dirty);
    for (auto& c : dispatching) {
        ConnectionDriver& d = ConnectionDriver::of(*c);
        d.dirty = false;
        d.dispatch(now);
    }
    forget_closed(dispatching);
    dispatching.clear();
}

void Transport::Impl::accept_new_connections() {
    while (auto core = endpoint->accept()) {
        auto c = adopt(std::move(core), true, {});
        if (!listening) {
            c->close(0, "not accepting connections");
            continue;
        }
        if (accept_early)
            deliver(c);
        else
            ConnectionDriver::of(*c).awaiting_accept = true;
    }
}

std::shared_ptr<Connection> Transport::Impl::adopt(std::shared_ptr<quic::Connection> core,
                                                   bool server, std::string session_key) {
    const quic::Connection* key = core.get();
    auto driver_state =
        std::make_unique<ConnectionDriver>(*this, std::move(core), server, std::move(session_key));
    std::shared_ptr<Connection> c = ConnectionDriver::make(std::move(driver_state));
    connections[key] = c;
    return c;
}

void Transport::Impl::deliver(const std::shared_ptr<Connection>& c) {
    if (!listening) return c->close(0, "not accepting connections");
    if (!on_connection) {
        if (unclaimed.size() >= config.endpoint.max_accept_queue)
            return c->close(0, "accept queue full");
        unclaimed.push_back(c);
        return;
    }
    auto cb = on_connection;  // the callback may replace itself
    cb(c);
}

// The endpoint forgets a connection once it is closed; so do we, once the close is reported
// (the application's handles stay valid and report it). A connection closes only in an
// endpoint entry point, which touches it, or in a call of the application, which marks it:
// looking at the ones just dispatched finds them all. One whose core closed while its
// take_events handler has not polled the close yet stays dirty until it has (a handler
// need not drain every event in one call).
void Transport::Impl::forget_closed(const std::vector<std::shared_ptr<Connection>>& dispatched) {
    for (const auto& c : dispatched) {
        ConnectionDriver& d = ConnectionDriver::of(*c);
        if (!d.core().is_closed()) continue;
        if (d.close_error.has_value())
            connections.erase(&d.core());
        else if (d.attached())
            mark_dirty(d);
    }
    if (!unclaimed.empty())
        std::erase_if(unclaimed,
                      [](const std::shared_ptr<Connection>& c) { return c->is_closed(); });
}

// ICMP port or host unreachable for a client still waiting for its first reply: nothing
// listens there, fail now rather than at the handshake timeout. After any reply, ICMP is
// ignored (it is easy to forge; RFC 9000 §14.2.1 asks for care).
void Transport::Impl::on_icmp_error(const UdpSocket::IcmpError& e) {
    if (e.error == EMSGSIZE) return on_packet_too_big(e);
    if (e.error != ECONNREFUSED && e.error != EHOSTUNREACH && e.error != ENETUNREACH) return;
    // A scan: rare (ICMP), and only clients still waiting for a first reply are concerned.
    std::vector<std::shared_ptr<Connection>> live;
    for (auto& [core, c] : connections) live.push_back(c);
    for (auto& c : live) {
        ConnectionDriver& d = ConnectionDriver::of(*c);
        const quic::Connection& core = d.core();
        if (d.server || core.is_handshake_complete() || core.stats().packets_received > 0 ||
            !(core.path().remote == e.to))
            continue;
        const char* what = e.error == ECONNREFUSED ? "connection refused (ICMP port unreachable)"
                                                   : "host or network unreachable (ICMP)";
        d.fail(Error::of_kind(ErrorKind::kUnreachable,
                              std::string(what) + " from " + e.to.to_string()));
    }
}

// ICMP packet too big (IPv6), fragmentation needed (IPv4), or EMSGSIZE from our own stack
// (IP_PMTUDISC_PROBE: a datagram larger than the interface's MTU): the MTU less the IP and
// UDP headers is the largest UDP payload that path carries. The connections' DPLPMTUD decides
// what to believe (RFC 9000 §14.2.1; an MTU below 1280 gives less than 1200 and is ignored).
void Transport::Impl::on_packet_too_big(const UdpSocket::IcmpError& e) {
    const size_t headers = e.to.family() == SocketAddress::Family::kIpv4 ? 20 + 8 : 40 + 8;
    if (e.mtu <= headers) return;
    endpoint->on_packet_too_big(clock_now(), e.to, e.mtu - headers);
}

void Transport::Impl::post(std::function<void()> fn) {
    posted.push_back(std::move(fn));
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(idle)))
        uv_idle_start(idle, [](uv_idle_t* h) { static_cast<Impl*>(h->data)->run_posted(); });
}

void Transport::Impl::run_posted() {
    auto work = std::move(posted);
    posted.clear();
    for (auto& fn : work) fn();
    if (posted.empty()) uv_idle_stop(idle);
    wake();
}

void Transport::Impl::check_closed() {
    if (!closing || closed) return;
    if (!driver->drained() && close_linger && close_linger->active()) return;
    closed = true;
    close_linger.reset();
    uv_check_stop(close_check);
    for (auto& [core, c] : connections) ConnectionDriver::of(*c).detach();
    driver->close();
    if (close_done) {
        auto done = std::move(close_done);
        close_done = nullptr;
        done();
    }
}

// --- Transport
// -------------------------------------------------------------------------------------

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
    impl_->self = this;
}

Transport::~Transport() = default;

Result<std::unique_ptr<Transport>> Transport::create(uv_loop_t* loop, const SocketAddress& local,
                                                     TransportConfig config) {
    const WorkerGroup group = config.workers;
    if (group.count == 0 || group.count > kMaxWorkers || group.index >= group.count)
        return Error::of_kind(ErrorKind::kInvalidArgument, "bad worker group");
    if (group.count > 1 && config.endpoint.connection_id_generator)
        return Error::of_kind(ErrorKind::kInvalidArgument,
                              "a worker group makes its own connection IDs");
    auto socket = UdpSocket::bind(local, group.count > 1);
    if (!socket.ok()) {
        Error e = socket.error();
        e.kind = ErrorKind::kSocket;
        return e;
    }
    // The last worker bound completes the group: the program applies to all its sockets.
    if (group.count > 1 && group.index == group.count - 1)
        QUIC_TRY(attach_connection_id_steering(socket->fd(), group.count));
    if (group.count > 1) {
        // Every ID this worker issues steers back to it (the endpoint checks uniqueness and
        // keeps the length within 4..20, as for its own IDs).
        const size_t length = std::clamp<size_t>(config.endpoint.connection.connection_id_length, 4,
                                                 kMaxConnectionIdLength);
        config.endpoint.connection.connection_id_length = length;
        config.endpoint.connection_id_generator = [random = std::make_shared<CryptoRandom>(),
                                                   length, group] {
            return worker_connection_id(*random, length, group.index, group.count);
        };
    }
    const std::vector<SocketAddress> more = config.additional_addresses;
    auto impl = std::make_unique<Impl>(loop, std::move(socket).value(), std::move(config));
    std::unique_ptr<Transport> t(new Transport(std::move(impl)));
    for (const SocketAddress& a : more) {
        auto added = t->add_address(a);
        if (!added.ok()) return added.error();
    }
    return t;
}

Result<SocketAddress> Transport::add_address(const SocketAddress& local) {
    Impl& t = *impl_;
    if (t.closing) return Error::of_kind(ErrorKind::kClosed, "the transport is closed");
    // A worker group's preferred addresses are shared and steered like its main one.
    const WorkerGroup group = t.config.workers;
    auto socket = UdpSocket::bind(local, group.count > 1);
    if (!socket.ok()) {
        Error e = socket.error();
        e.kind = ErrorKind::kSocket;
        return e;
    }
    if (group.count > 1 && group.index == group.count - 1)
        QUIC_TRY(attach_connection_id_steering(socket->fd(), group.count));
    t.more_sockets.push_back(std::make_unique<UdpSocket>(std::move(socket).value()));
    t.driver->add_socket(*t.more_sockets.back());
    return t.more_sockets.back()->local_address();
}

std::vector<SocketAddress> Transport::local_addresses() const {
    std::vector<SocketAddress> out{impl_->socket.local_address()};
    for (const auto& s : impl_->more_sockets) out.push_back(s->local_address());
    return out;
}

Result<std::shared_ptr<Listener>> Transport::listen() {
    if (!impl_->config.endpoint.server_tls)
        return Error::of_kind(ErrorKind::kInvalidArgument, "no server TLS configuration");
    if (impl_->listening) return Error::of_kind(ErrorKind::kInvalidArgument, "already listening");
    if (impl_->closing) return Error::of_kind(ErrorKind::kClosed, "the transport is closed");
    impl_->listening = true;
    return std::shared_ptr<Listener>(new Listener(*this));
}

namespace {

Result<std::shared_ptr<quic::Connection>> connect(Transport::Impl& t, const SocketAddress& remote,
                                                  const std::string& name) {
    if (!t.config.endpoint.client_tls)
        return Error::of_kind(ErrorKind::kInvalidArgument, "no client TLS configuration");
    if (t.closing) return Error::of_kind(ErrorKind::kClosed, "the transport is closed");
    ConnectOptions options;
    options.server_name = name;
    if (t.config.sessions) {
        StoredSession s = t.config.sessions->get(name);
        options.resumption_ticket = std::move(s.ticket);
        options.token = std::move(s.token);
    }
    return t.endpoint->connect(clock_now(), Path{t.socket.local_address(), remote}, options);
}

}  // namespace

Result<std::shared_ptr<Connection>> Transport::dial_early(const SocketAddress& remote,
                                                          const DialOptions& options) {
    const std::string name = options.server_name.empty() ? ip_text(remote) : options.server_name;
    auto core = connect(*impl_, remote, name);
    if (!core.ok()) return core.error();
    auto c = impl_->adopt(std::move(core).value(), false, name);
    impl_->wake();  // the first Initial
    return c;
}

void Transport::dial(const SocketAddress& remote, const DialOptions& options, DialCallback done) {
    auto c = dial_early(remote, options);
    if (!c.ok()) {
        impl_->post([done = std::move(done), e = c.error()] { done(e); });
        return;
    }
    ConnectionDriver& d = ConnectionDriver::of(**c);
    d.dial_done = std::move(done);
    if (options.timeout > Duration::zero()) {
        d.dial_timer = std::make_unique<Timer>(impl_->loop);
        d.dial_timer->start_in(options.timeout, [&d] {
            d.fail(Error::of_kind(ErrorKind::kDeadlineExceeded, "dial timeout"));
        });
    }
}

void Transport::close(uint64_t code, std::string reason, std::function<void()> done) {
    Impl& t = *impl_;
    if (t.closing) {
        if (done) t.post(std::move(done));
        return;
    }
    t.closing = true;
    t.listening = false;
    t.close_done = std::move(done);
    std::vector<std::shared_ptr<Connection>> live;
    for (auto& [core, c] : t.connections) live.push_back(c);
    for (auto& c : live) c->close(code, reason);
    for (auto& c : t.unclaimed) c->close(code, reason);
    t.close_linger = std::make_unique<Timer>(t.loop);
    t.close_linger->start_in(kCloseLinger, [&t] { t.check_closed(); });
    t.close_check = new uv_check_t{};
    uv_check_init(t.loop, t.close_check);
    t.close_check->data = &t;
    uv_check_start(t.close_check,
                   [](uv_check_t* h) { static_cast<Impl*>(h->data)->check_closed(); });
    t.wake();
    // Also from the loop's next turn, without waiting for I/O (the check handle alone would
    // wait for the next wakeup: the linger timer).
    t.post([&t] { t.check_closed(); });
}

const SocketAddress& Transport::local_address() const {
    return impl_->socket.local_address();
}

SocketStats Transport::socket_stats() const {
    SocketStats out;
    auto add = [&out](const UdpSocket::Stats& s) {
        out.datagrams_sent += s.datagrams_sent;
        out.send_calls += s.send_calls;
        out.gso_batches += s.gso_batches;
        out.datagrams_received += s.datagrams_received;
        out.receive_calls += s.receive_calls;
        out.gro_batches += s.gro_batches;
        out.send_errors += s.send_errors;
    };
    add(impl_->socket.stats());
    for (const auto& s : impl_->more_sockets) add(s->stats());
    return out;
}

bool Transport::gso_enabled() const {
    return impl_->socket.gso_enabled();
}
bool Transport::gro_enabled() const {
    return impl_->socket.gro_enabled();
}
size_t Transport::connection_count() const {
    return impl_->connections.size();
}
Endpoint& Transport::endpoint() {
    return *impl_->endpoint;
}
const TransportConfig& Transport::config() const {
    return impl_->config;
}
void Transport::on_error(std::function<void(const Error&)> cb) {
    impl_->on_error = std::move(cb);
}
void Transport::post(std::function<void()> fn) {
    impl_->post(std::move(fn));
}

// --- Listener
// --------------------------------------------------------------------------------------

Listener::~Listener() = default;

void Listener::on_connection(std::function<void(std::shared_ptr<Connection>)> cb, bool early) {
    Transport::Impl& t = *transport_->impl_;
    t.on_connection = std::move(cb);
    t.accept_early = early;
    while (t.on_connection && !t.unclaimed.empty()) {
        auto c = std::move(t.unclaimed.front());
        t.unclaimed.pop_front();
        auto copy = t.on_connection;
        copy(std::move(c));
    }
}

void Listener::close() {
    transport_->impl_->listening = false;
}

const SocketAddress& Listener::address() const {
    return transport_->local_address();
}

}  // namespace quic::uv
