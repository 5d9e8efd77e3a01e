// quic::h3::Server: one sans-IO HTTP/3 session (quic/http3/session.h) per libuv connection,
// each request handed to the application's handler as a ServerStream.
#include "quic/http3/server.h"

#include "quic/overloaded.h"
#include "quic/uv/clock.h"
#include "quic/uv/transport.h"
#include "uv/connection_driver.h"
#include "uv/timer.h"
#include "uv/transport_impl.h"

namespace quic::h3 {

// One connection's session and the requests in flight on it.
class ServerConnection {
  public:
    ServerConnection(Server& server, std::shared_ptr<uv::Connection> c, SessionConfig config)
        : server_(server),
          conn_(std::move(c)),
          session_(std::shared_ptr<Connection>(conn_, &conn_->core()), Perspective::kServer,
                   config),
          linger_(uv::ConnectionDriver::of(*conn_).transport()->loop) {}

    void start() {
        conn_->take_events([this](Time now) { on_activity(now); });
        (void)session_.start();
        conn_->flush();
    }
    void shutdown() {
        (void)session_.shutdown(uv::clock_now());
        conn_->flush();
    }
    void close(uint64_t code, const std::string& reason) {
        session_.close(uv::clock_now(), code, reason);
        conn_->flush();
    }

    Session& session() { return session_; }
    uv::Connection& connection() { return *conn_; }
    void end_stream(ServerStream& s);
    void after_response_fin(ServerStream& s);

  private:
    void on_activity(Time now);
    void handle(const SessionEvent& ev);
    ServerStream* find(uint64_t id);
    void abort(uint64_t id, const Error& e);
    void on_closed();

    Server& server_;
    std::shared_ptr<uv::Connection> conn_;
    Session session_;
    std::map<uint64_t, std::shared_ptr<ServerStream>> streams_;
    std::map<uint64_t, bool> request_done_;  // the request's FIN was read
    uv::Timer linger_;  // Session::next_timeout (request header deadlines, graceful shutdown)
    bool closed_ = false;
};

ServerStream* ServerConnection::find(uint64_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
}

void ServerConnection::on_activity(Time now) {
    while (!closed_) {
        auto ev = session_.poll_event(now);
        if (!ev) break;
        handle(*ev);
    }
    if (closed_) return on_closed();  // destroys this
    if (auto t = session_.next_timeout())
        linger_.start_at(*t, [this] { on_activity(uv::clock_now()); });
}

void ServerConnection::handle(const SessionEvent& ev) {
    auto call = [&](uint64_t id, auto member, auto&&... args) {
        ServerStream* s = find(id);
        if (!s || !(s->*member)) return;
        auto cb = s->*member;
        cb(*s, args...);
    };
    std::visit(
        Overloaded{
            [&](const RequestHeaders& e) {
                std::shared_ptr<ServerStream> s(new ServerStream(*this, e.stream_id, e.fields));
                streams_[e.stream_id] = s;
                server_.handler_(std::move(s));
            },
            [&](const BodyReadable& e) { call(e.stream_id, &ServerStream::on_body_); },
            [&](const Trailers& e) { call(e.stream_id, &ServerStream::on_trailers_, e.fields); },
            // The request is over: the handler hears it as on_body with read_body at its end
            // (a request without a body has no other body event).
            [&](const MessageComplete& e) {
                request_done_[e.stream_id] = true;
                ServerStream* s = find(e.stream_id);
                if (!s) return;
                if (!s->request_ended_) {
                    s->request_ended_ = true;
                    call(e.stream_id, &ServerStream::on_body_);
                }
                if ((s = find(e.stream_id)) && s->ended_) end_stream(*s);
            },
            [&](const StreamAborted& e) {
                abort(e.stream_id, Error::of_kind(e.origin == AbortOrigin::kPeerStopSending
                                                      ? ErrorKind::kStreamStopped
                                                      : ErrorKind::kStreamReset,
                                                  "request aborted", e.error_code,
                                                  e.origin != AbortOrigin::kLocal));
            },
            [&](const StreamWritable& e) { call(e.stream_id, &ServerStream::on_writable_); },
            [&](const ConnectionClosed&) { closed_ = true; },
            [](const auto&) {},
        },
        ev);
}

void ServerConnection::abort(uint64_t id, const Error& e) {
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    std::shared_ptr<ServerStream> s = std::move(it->second);
    streams_.erase(it);
    request_done_.erase(id);
    if (s->on_aborted_) s->on_aborted_(*s, e);
    if (s->on_done_) s->on_done_(*s);
}

// The response's FIN went out. RFC 9114 §4.1: a server that does not need the rest of the
// request asks the client to stop sending it, with H3_NO_ERROR.
void ServerConnection::after_response_fin(ServerStream& s) {
    s.ended_ = true;
    if (request_done_.count(s.id())) return end_stream(s);
    if (!s.on_body_) {
        (void)conn_->core().stop_sending(s.id(), to_underlying(H3Error::kNoError));
        end_stream(s);
    }
}

void ServerConnection::end_stream(ServerStream& s) {
    auto it = streams_.find(s.id());
    if (it == streams_.end()) return;
    std::shared_ptr<ServerStream> keep = std::move(it->second);
    streams_.erase(it);
    request_done_.erase(keep->id());
    if (keep->on_done_) keep->on_done_(*keep);
}

void ServerConnection::on_closed() {
    const Error err =
        conn_->close_error().value_or(Error::of_kind(ErrorKind::kClosed, "connection closed"));
    auto streams = std::move(streams_);
    streams_.clear();
    for (auto& [id, s] : streams) {
        if (s->on_aborted_) s->on_aborted_(*s, err);
        if (s->on_done_) s->on_done_(*s);
    }
    conn_->take_events(nullptr);
    if (server_.on_closed_) server_.on_closed_(*conn_, session_.stats(), err);
    server_.forget(this);
}

// --- ServerStream --------------------------------------------------------------------------------

const std::string& ServerStream::field(std::string_view name) const {
    static const std::string kEmpty;
    for (const Field& f : fields_)
        if (f.name == name) return f.value;
    return kEmpty;
}

uv::Connection& ServerStream::connection() {
    return conn_->connection();
}

void ServerStream::on_body(std::function<void(ServerStream&)> cb) {
    on_body_ = std::move(cb);
}
void ServerStream::on_trailers(std::function<void(ServerStream&, const std::vector<Field>&)> cb) {
    on_trailers_ = std::move(cb);
}
void ServerStream::on_aborted(std::function<void(ServerStream&, const Error&)> cb) {
    on_aborted_ = std::move(cb);
}
void ServerStream::on_done(std::function<void(ServerStream&)> cb) {
    on_done_ = std::move(cb);
}
void ServerStream::on_writable(std::function<void(ServerStream&)> cb) {
    on_writable_ = std::move(cb);
}

Result<size_t> ServerStream::read_body(MutableByteSpan out, bool* fin) {
    if (request_ended_) {
        if (fin) *fin = true;
        return size_t{0};
    }
    auto n = conn_->session().read_body(id_, out, fin);
    if (n.ok() && *n) conn_->connection().flush();
    if (n.ok() && fin && *fin) request_ended_ = true;
    return n;
}

Status ServerStream::respond(unsigned status, const std::vector<Field>& fields, bool end_stream) {
    std::vector<Field> all = {{":status", std::to_string(status)}};
    all.insert(all.end(), fields.begin(), fields.end());
    Status st = conn_->session().send_response(id_, all, end_stream);
    conn_->connection().flush();
    if (st.ok() && end_stream && status >= 200) conn_->after_response_fin(*this);
    return st;
}

Result<size_t> ServerStream::write_body(ByteSpan data, bool fin) {
    auto n = conn_->session().send_body(id_, data, fin);
    conn_->connection().flush();
    if (n.ok() && fin && *n == data.size()) conn_->after_response_fin(*this);
    return n;
}

Result<bool> ServerStream::write_body_source(uint64_t length, StreamSource source) {
    auto done = conn_->session().send_body_source(id_, length, std::move(source));
    conn_->connection().flush();
    if (done.ok() && *done) conn_->after_response_fin(*this);
    return done;
}

Status ServerStream::send_trailers(const std::vector<Field>& fields) {
    Status st = conn_->session().send_trailers(id_, fields);
    conn_->connection().flush();
    if (st.ok()) conn_->after_response_fin(*this);
    return st;
}

void ServerStream::reject(uint64_t code) {
    (void)conn_->session().reject(id_, code);
    conn_->connection().flush();
    conn_->end_stream(*this);
}

// --- Server --------------------------------------------------------------------------------------

Server::Server(Handler handler, SessionConfig config)
    : handler_(std::move(handler)), config_(config) {}

Server::~Server() = default;

void Server::serve(std::shared_ptr<uv::Connection> connection) {
    auto c = std::make_unique<ServerConnection>(*this, std::move(connection), config_);
    ServerConnection* raw = c.get();
    connections_[raw] = std::move(c);
    raw->start();
}

void Server::shutdown(std::function<void()> done) {
    shutdown_done_ = std::move(done);
    if (connections_.empty() && shutdown_done_) {
        auto cb = std::move(shutdown_done_);
        shutdown_done_ = nullptr;
        return cb();
    }
    for (auto& [raw, c] : connections_) c->shutdown();
}

void Server::close(uint64_t code, std::string reason) {
    for (auto& [raw, c] : connections_) c->close(code, reason);
}

void Server::on_connection_closed(
    std::function<void(uv::Connection&, const SessionStats&, const Error&)> cb) {
    on_closed_ = std::move(cb);
}

void Server::forget(ServerConnection* c) {
    connections_.erase(c);
    if (connections_.empty() && shutdown_done_) {
        auto cb = std::move(shutdown_done_);
        shutdown_done_ = nullptr;
        cb();
    }
}

}  // namespace quic::h3
