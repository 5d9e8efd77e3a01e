// quic::uv::Connection: the core connection's events (quic/events.h) as callbacks.
#include "uv/connection_driver.h"

#include <algorithm>

#include "quic/overloaded.h"
#include "quic/uv/clock.h"
#include "uv/stream_state.h"
#include "uv/transport_impl.h"

namespace quic::uv {
namespace {

constexpr uint64_t kStreamLimitError = static_cast<uint64_t>(TransportErrorCode::kStreamLimitError);

Error detached_error() {
    return Error::of_kind(ErrorKind::kClosed, "the transport is closed");
}

}  // namespace

Error api_error(const ConnectionClosed& closed) {
    Error e = closed.error;
    switch (closed.origin) {
        case CloseOrigin::kIdleTimeout:
            e.kind = ErrorKind::kIdleTimeout;
            break;
        case CloseOrigin::kHandshakeTimeout:
            e.kind = ErrorKind::kHandshakeTimeout;
            break;
        case CloseOrigin::kStatelessReset:
            e.kind = ErrorKind::kStatelessReset;
            e.remote = true;
            break;
        case CloseOrigin::kVersionMismatch:
            e.kind = ErrorKind::kVersionNegotiation;
            break;
        case CloseOrigin::kPeer:
            e.remote = true;
            break;
        case CloseOrigin::kLocal:
            break;
    }
    return e;
}

ConnectionDriver::ConnectionDriver(Transport::Impl& transport,
                                   std::shared_ptr<quic::Connection> core, bool is_server,
                                   std::string session_key)
    : server(is_server),
      transport_(&transport),
      core_(std::move(core)),
      session_key_(std::move(session_key)) {
    core_->set_event_observer([this](const ConnectionEvent& ev) { observe(ev); });
}

ConnectionDriver::~ConnectionDriver() {
    core_->set_event_observer(nullptr);
}

void ConnectionDriver::detach() {
    if (!transport_) return;
    // The transport is going away. No callback runs any more (they may reach what is being
    // destroyed with it), but they are released, as at a close.
    if (!close_error) {
        close_error = detached_error();
        release_callbacks(streams_);
    }
    dial_timer.reset();
    for (auto& w : open_waits_) w->timer.reset();
    transport_ = nullptr;
}

// The application acted on the connection: dispatch it at the next wakeup (a take_events
// handler is called "whenever the core may have news", flush() included), and flush now.
void ConnectionDriver::wake() {
    if (!transport_) return;
    transport_->mark_dirty(*this);
    transport_->wake();
}

void ConnectionDriver::fail(const Error& why) {
    if (!transport_ || core_->close_reason()) return;
    forced_error_ = why;
    core_->close(clock_now(), 0, why.reason);
    if (const auto& closed = core_->close_reason()) on_close(*closed);
    wake();
}

// --- events ------------------------------------------------------------------------------------

// A connection not yet handed to the application (a dial in progress, a server connection
// waiting for its handshake) keeps its events queued in the core: whoever takes it (stream
// callbacks, or a protocol layer through take_events) must see them all, 0-RTT and 0.5-RTT
// streams included. Only the handshake's completion and a close are looked at.
void ConnectionDriver::dispatch(Time now) {
    if (awaiting_accept || dial_done) {
        if (core_->is_handshake_complete())
            on_handshake();
        else if (const auto& closed = core_->close_reason())
            on_close(*closed);
        if (awaiting_accept || dial_done) return;
    }
    while (transport_) {
        if (manual) {
            auto handler = manual;  // it may replace itself
            handler(now);
            return;
        }
        auto ev = core_->poll_event();  // observe() sees it first
        if (!ev) break;
        route(*ev);
    }
}

// Lifecycle events, in both modes (the observer sees every event whoever polls).
void ConnectionDriver::observe(const ConnectionEvent& ev) {
    std::visit(Overloaded{
                   [&](const HandshakeCompleted&) { on_handshake(); },
                   [&](const SessionTicketReceived& t) {
                       if (transport_ && transport_->config.sessions)
                           transport_->config.sessions->put_ticket(session_key_, t.ticket);
                   },
                   [&](const NewTokenReceived& t) {
                       if (transport_ && transport_->config.sessions)
                           transport_->config.sessions->put_token(session_key_, t.token);
                   },
                   [&](const ConnectionClosed& c) { on_close(c); },
                   [](const auto&) {},
               },
               ev);
}

// Stream and datagram events, in callback mode.
void ConnectionDriver::route(const ConnectionEvent& ev) {
    std::visit(Overloaded{
                   [&](const StreamOpened& e) {
                       auto s = make_stream(e.stream_id, false);
                       const int dir = s->is_bidirectional() ? 0 : 1;
                       unaccepted_[dir].push_back(std::move(s));
                       deliver_unaccepted();
                   },
                   [&](const StreamReadable& e) {
                       if (auto s = find(e.stream_id)) s->state_->notify_readable();
                   },
                   [&](const StreamWritable& e) {
                       if (auto s = find(e.stream_id)) s->state_->notify_writable();
                   },
                   [&](const StreamResetReceived& e) {
                       if (auto s = find(e.stream_id)) s->state_->on_reset_received(e.error_code);
                   },
                   [&](const StopSendingReceived& e) {
                       if (auto s = find(e.stream_id)) s->state_->on_stop_sending(e.error_code);
                   },
                   [&](const StreamsAvailable& e) { retry_opens(e.bidirectional); },
                   [&](const DatagramReceived& e) {
                       if (on_datagram) on_datagram(e.data);
                   },
                   [](const auto&) {},
               },
               ev);
}

void ConnectionDriver::on_handshake() {
    if (handshake_seen_) return;
    handshake_seen_ = true;
    dial_timer.reset();
    if (dial_done) {
        auto done = std::move(dial_done);
        dial_done = nullptr;
        if (auto me = weak_self.lock()) done(me);
    }
    if (awaiting_accept && transport_) {
        awaiting_accept = false;
        if (auto me = weak_self.lock()) transport_->deliver(me);
    }
    if (on_handshake_completed) on_handshake_completed();
    // The peer's transport parameters gave its stream limits: waiting opens may go now (the
    // core signals StreamsAvailable only when MAX_STREAMS raises a limit).
    retry_opens(true);
    retry_opens(false);
}

void ConnectionDriver::on_close(const ConnectionClosed& c) {
    if (close_error) return;
    close_error = forced_error_ ? *forced_error_ : api_error(c);
    dial_timer.reset();
    if (dial_done) {
        auto done = std::move(dial_done);
        dial_done = nullptr;
        done(*close_error);
    }
    auto waits = std::move(open_waits_);
    open_waits_.clear();
    for (auto& w : waits) w->cb(*close_error);
    // Copies: callbacks may drop streams.
    auto streams = streams_;
    for (auto& [id, s] : streams) s->state_->on_connection_closed(*close_error);
    unaccepted_[0].clear();
    unaccepted_[1].clear();
    if (on_closed) {
        auto cb = std::move(on_closed);
        on_closed = nullptr;
        cb(*close_error);
    }
    release_callbacks(streams);
}

// Nothing more will be called once the connection is closed: the callbacks are released, since
// they often hold the connection's or a stream's own shared_ptr (a cycle that would keep a
// closed connection alive). Released from the loop, not here: on_close can run inside one of
// them (a stream callback that closes its transport), and a callback must not be destroyed
// while it runs. Without a transport nothing can be running them: they go at once.
void ConnectionDriver::release_callbacks(
    const std::map<uint64_t, std::shared_ptr<Stream>>& streams) {
    struct Released {
        Connection::StreamCallback on_stream, on_uni_stream;
        std::function<void(ByteSpan)> on_datagram;
        std::function<void()> on_handshake_completed;
        std::vector<Stream::Callback> stream_callbacks;
    };
    auto r = std::make_shared<Released>();
    r->on_stream = std::exchange(on_stream, nullptr);
    r->on_uni_stream = std::exchange(on_uni_stream, nullptr);
    r->on_datagram = std::exchange(on_datagram, nullptr);
    r->on_handshake_completed = std::exchange(on_handshake_completed, nullptr);
    for (auto& [id, s] : streams) {
        r->stream_callbacks.push_back(std::exchange(s->state_->on_readable, nullptr));
        r->stream_callbacks.push_back(std::exchange(s->state_->on_writable, nullptr));
    }
    if (transport_) transport_->post([r] {});
}

// --- streams -----------------------------------------------------------------------------------

std::shared_ptr<Stream> ConnectionDriver::find(uint64_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second;
}

std::shared_ptr<Stream> ConnectionDriver::make_stream(uint64_t id, bool local) {
    // RFC 9000 §2.1: bit 0x2 is the direction; a unidirectional stream has one side.
    const bool bidi = (id & 0x2) == 0;
    auto state =
        std::make_unique<StreamState>(weak_self, *this, id, local, bidi || !local, bidi || local);
    std::shared_ptr<Stream> s(new Stream(std::move(state)));
    streams_[id] = s;
    return s;
}

void ConnectionDriver::forget_stream(uint64_t id) {
    streams_.erase(id);
}

void ConnectionDriver::notify_pending_readable(uint64_t id) {
    auto s = find(id);
    if (s && s->state_->readable_pending) s->state_->notify_readable();
}

void ConnectionDriver::deliver_unaccepted() {
    for (int dir = 0; dir < 2; ++dir) {
        const auto& cb = dir == 0 ? on_stream : on_uni_stream;
        while (cb && !unaccepted_[dir].empty()) {
            auto s = std::move(unaccepted_[dir].front());
            unaccepted_[dir].erase(unaccepted_[dir].begin());
            auto copy = cb;  // the callback may replace itself
            copy(std::move(s));
        }
    }
}

void ConnectionDriver::open_when_allowed(bool bidi, Connection::OpenCallback cb, Duration timeout) {
    auto w = std::make_unique<OpenWait>();
    w->bidi = bidi;
    w->cb = std::move(cb);
    if (timeout > Duration::zero() && transport_) {
        w->timer = std::make_unique<Timer>(transport_->loop);
        OpenWait* raw = w.get();
        w->timer->start_in(timeout, [this, raw] {
            for (auto it = open_waits_.begin(); it != open_waits_.end(); ++it) {
                if (it->get() != raw) continue;
                auto mine = std::move(*it);
                open_waits_.erase(it);
                mine->cb(Error::of_kind(ErrorKind::kDeadlineExceeded, "no stream credit in time"));
                return;
            }
        });
    }
    open_waits_.push_back(std::move(w));
    retry_opens(bidi);
}

// Opens streams for the waiters of this direction, oldest first, while the peer allows. Each
// waiter leaves the list before its callback runs, and the search starts over after it: the
// callback may queue another waiter (which would invalidate an iterator held across it).
void ConnectionDriver::retry_opens(bool bidi) {
    for (;;) {
        auto it = std::find_if(open_waits_.begin(), open_waits_.end(),
                               [bidi](const auto& w) { return w->bidi == bidi; });
        if (it == open_waits_.end()) return;
        auto id = core_->open_stream(bidi);
        if (!id.ok() && id.error().code == kStreamLimitError) return;  // StreamsAvailable resumes
        auto mine = std::move(*it);
        open_waits_.erase(it);
        if (!id.ok()) {
            mine->cb(Error::of_kind(ErrorKind::kClosed, id.error().to_string()));
            continue;
        }
        mine->cb(make_stream(*id, true));
        wake();
    }
}

std::shared_ptr<Connection> ConnectionDriver::make(std::unique_ptr<ConnectionDriver> driver) {
    ConnectionDriver* d = driver.get();
    std::shared_ptr<Connection> c(new Connection(std::move(driver)));
    d->weak_self = c;
    return c;
}

// --- Connection
// -----------------------------------------------------------------------------------

Connection::Connection(std::unique_ptr<ConnectionDriver> driver) : driver_(std::move(driver)) {
    driver_->self = this;
}

Connection::~Connection() = default;

namespace {

Result<std::shared_ptr<Stream>> open(ConnectionDriver& d, bool bidi) {
    if (!d.attached()) return detached_error();
    if (d.close_error) return *d.close_error;
    auto id = d.core().open_stream(bidi);
    if (!id.ok()) {
        if (id.error().code == kStreamLimitError)
            return Error::of_kind(ErrorKind::kWouldBlock, "the peer's stream limit is reached");
        return Error::of_kind(ErrorKind::kClosed, id.error().to_string());
    }
    return d.make_stream(*id, true);
}

}  // namespace

Result<std::shared_ptr<Stream>> Connection::open_stream() {
    return open(*driver_, true);
}

Result<std::shared_ptr<Stream>> Connection::open_uni_stream() {
    return open(*driver_, false);
}

void Connection::open_stream_when_allowed(OpenCallback cb, Duration timeout) {
    if (driver_->close_error) return cb(*driver_->close_error);
    driver_->open_when_allowed(true, std::move(cb), timeout);
}

void Connection::open_uni_stream_when_allowed(OpenCallback cb, Duration timeout) {
    if (driver_->close_error) return cb(*driver_->close_error);
    driver_->open_when_allowed(false, std::move(cb), timeout);
}

void Connection::on_stream(StreamCallback cb) {
    driver_->on_stream = std::move(cb);
    driver_->deliver_unaccepted();
}

void Connection::on_uni_stream(StreamCallback cb) {
    driver_->on_uni_stream = std::move(cb);
    driver_->deliver_unaccepted();
}

Status Connection::send_datagram(ByteSpan payload) {
    if (!driver_->attached()) return detached_error();
    if (driver_->close_error) return *driver_->close_error;
    auto st = driver_->core().send_datagram(payload);
    if (!st.ok()) return Error::of_kind(ErrorKind::kInvalidArgument, st.error().reason);
    driver_->wake();
    return {};
}

size_t Connection::max_datagram_size() const {
    return driver_->core().max_datagram_size();
}

void Connection::on_datagram(std::function<void(ByteSpan)> cb) {
    driver_->on_datagram = std::move(cb);
}

void Connection::on_handshake_completed(std::function<void()> cb) {
    driver_->on_handshake_completed = std::move(cb);
}

void Connection::on_closed(std::function<void(const Error&)> cb) {
    if (driver_->close_error) return cb(*driver_->close_error);
    driver_->on_closed = std::move(cb);
}

void Connection::close(uint64_t code, std::string reason) {
    if (!driver_->attached() || driver_->core().close_reason()) return;
    driver_->core().close(clock_now(), code, std::move(reason));
    driver_->wake();
}

bool Connection::is_closed() const {
    return driver_->close_error.has_value();
}

std::optional<Error> Connection::close_error() const {
    return driver_->close_error;
}

Status Connection::initiate_key_update() {
    if (!driver_->attached()) return detached_error();
    auto st = driver_->core().initiate_key_update();
    driver_->wake();
    return st;
}

Result<SocketAddress> Connection::migrate(const SocketAddress& local) {
    if (!driver_->attached()) return detached_error();
    SocketAddress where = local;
    if (where.empty()) {
        where = driver_->core().path().local;
        where.set_port(0);
    }
    auto added = transport().add_address(where);
    if (!added.ok()) return added.error();
    auto st = driver_->core().migrate(clock_now(), *added);
    driver_->wake();
    if (!st.ok()) return st.error();
    return *added;
}

ConnectionDetails Connection::details() const {
    const quic::Connection& c = driver_->core();
    ConnectionDetails d;
    d.info = c.info();
    d.handshake_complete = c.is_handshake_complete();
    d.local = c.path().local;
    d.remote = c.path().remote;
    if (Transport::Impl* t = driver_->transport()) d.gso = t->socket.gso_enabled();
    return d;
}

ConnectionStats Connection::stats() const {
    return driver_->core().stats();
}

quic::Connection& Connection::core() {
    return driver_->core();
}

void Connection::take_events(std::function<void(Time)> on_activity) {
    driver_->manual = std::move(on_activity);
    // The new handler (or the callbacks, when it is removed) sees what is queued at the next
    // wakeup, as before the switch.
    if (driver_->transport()) driver_->transport()->mark_dirty(*driver_);
}

void Connection::flush() {
    driver_->wake();
}

Transport& Connection::transport() {
    return *driver_->transport()->self;
}

}  // namespace quic::uv
