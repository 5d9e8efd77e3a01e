// quic::h3::Client: the sans-IO HTTP/3 session (quic/http3/session.h) driven by a libuv
// connection, its events turned into each request's callbacks.
#include "quic/http3/client.h"

#include "quic/overloaded.h"

namespace quic::h3 {
namespace {

Error no_client() {
    return Error::of_kind(ErrorKind::kClosed, "the HTTP/3 client is gone");
}

}  // namespace

// --- ClientStream ------------------------------------------------------------------------------

void ClientStream::on_response(std::function<void(ClientStream&, const Response&)> cb) {
    on_response_ = std::move(cb);
}
void ClientStream::on_interim(std::function<void(ClientStream&, const Response&)> cb) {
    on_interim_ = std::move(cb);
}
void ClientStream::on_body(std::function<void(ClientStream&)> cb) {
    on_body_ = std::move(cb);
}
void ClientStream::on_trailers(std::function<void(ClientStream&, const std::vector<Field>&)> cb) {
    on_trailers_ = std::move(cb);
}
void ClientStream::on_complete(std::function<void(ClientStream&, const Error*)> cb) {
    on_complete_ = std::move(cb);
}
void ClientStream::on_writable(std::function<void(ClientStream&)> cb) {
    on_writable_ = std::move(cb);
}

Result<size_t> ClientStream::read_body(MutableByteSpan out, bool* fin) {
    if (!client_) return no_client();
    auto n = client_->session_.read_body(id_, out, fin);
    if (n.ok() && *n) client_->connection_->flush();  // flow-control credit
    return n;
}

Result<size_t> ClientStream::write_body(ByteSpan data, bool fin) {
    if (!client_) return no_client();
    auto n = client_->session_.send_body(id_, data, fin);
    client_->connection_->flush();
    return n;
}

Status ClientStream::finish() {
    auto n = write_body({}, true);
    if (!n.ok()) return n.error();
    return {};
}

void ClientStream::cancel(uint64_t code) {
    if (!client_ || completed_) return;
    (void)client_->session_.cancel(id_, code);
    client_->connection_->flush();
    const Error e = Error::of_kind(ErrorKind::kStreamReset, "cancelled", code, false);
    client_->complete(id_, &e);
}

// --- Client --------------------------------------------------------------------------------------

Client::Client(std::shared_ptr<uv::Connection> connection, SessionConfig config)
    : connection_(std::move(connection)),
      session_(std::shared_ptr<Connection>(connection_, &connection_->core()), Perspective::kClient,
               config) {}

Client::~Client() {
    for (auto& [id, s] : streams_) s->client_ = nullptr;
    connection_->take_events(nullptr);
}

std::shared_ptr<Client> Client::create(std::shared_ptr<uv::Connection> connection,
                                       SessionConfig config) {
    std::shared_ptr<Client> c(new Client(std::move(connection), config));
    std::weak_ptr<Client> weak = c;
    c->connection_->take_events([weak](Time now) {
        if (auto me = weak.lock()) me->on_activity(now);
    });
    (void)c->session_.start();
    c->connection_->flush();
    return c;
}

Result<std::shared_ptr<ClientStream>> Client::request(const Request& r, bool end_stream) {
    std::vector<Field> fields = {{":method", r.method},
                                 {":scheme", r.scheme},
                                 {":authority", r.authority},
                                 {":path", r.path}};
    fields.insert(fields.end(), r.fields.begin(), r.fields.end());
    auto id = session_.send_request(fields, end_stream);
    if (!id.ok()) {
        if (id.error().is_transport(TransportErrorCode::kStreamLimitError))
            return Error::of_kind(ErrorKind::kWouldBlock, "the server's stream limit is reached");
        return id.error();
    }
    std::shared_ptr<ClientStream> s(new ClientStream(*this, *id));
    streams_[*id] = s;
    connection_->flush();
    return s;
}

void Client::on_streams_available(std::function<void()> cb) {
    on_streams_available_ = std::move(cb);
}

void Client::on_goaway(std::function<void(uint64_t)> cb) {
    on_goaway_ = std::move(cb);
}

void Client::close(uint64_t code, std::string reason) {
    session_.close(now_, code, std::move(reason));
    connection_->flush();
}

SessionStats Client::stats() const {
    return session_.stats();
}

ClientStream* Client::find(uint64_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
}

void Client::complete(uint64_t id, const Error* error) {
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    std::shared_ptr<ClientStream> s = std::move(it->second);
    streams_.erase(it);
    if (s->completed_) return;
    s->completed_ = true;
    if (s->on_complete_) s->on_complete_(*s, error);
}

void Client::on_activity(Time now) {
    now_ = now;
    // A weak guard: a callback may drop the last reference to the client.
    std::weak_ptr<Client> alive = weak_from_this();
    while (!alive.expired()) {
        auto ev = session_.poll_event(now);
        if (!ev) break;
        handle(*ev);
    }
}

void Client::handle(const SessionEvent& ev) {
    auto call = [&](uint64_t id, auto member, auto&&... args) {
        ClientStream* s = find(id);
        if (!s || !(s->*member)) return;
        auto cb = s->*member;  // the callback may replace itself or complete the stream
        cb(*s, args...);
    };
    std::visit(
        Overloaded{
            [&](const ResponseHeaders& e) {
                call(e.stream_id, &ClientStream::on_response_, Response{e.status, e.fields});
            },
            [&](const InterimResponse& e) {
                call(e.stream_id, &ClientStream::on_interim_, Response{e.status, e.fields});
            },
            [&](const BodyReadable& e) { call(e.stream_id, &ClientStream::on_body_); },
            [&](const Trailers& e) { call(e.stream_id, &ClientStream::on_trailers_, e.fields); },
            [&](const MessageComplete& e) { complete(e.stream_id, nullptr); },
            [&](const StreamAborted& e) {
                const Error err = Error::of_kind(ErrorKind::kStreamReset, "stream aborted",
                                                 e.error_code, e.origin != AbortOrigin::kLocal);
                complete(e.stream_id, &err);
            },
            [&](const StreamWritable& e) { call(e.stream_id, &ClientStream::on_writable_); },
            [&](const StreamsAvailable& e) {
                if (e.bidirectional && on_streams_available_) {
                    auto cb = on_streams_available_;
                    cb();
                }
            },
            // The server's transport parameters give its stream limits: requests refused
            // before (0-RTT without remembered limits) may go now.
            [&](const HandshakeCompleted&) {
                if (on_streams_available_) {
                    auto cb = on_streams_available_;
                    cb();
                }
            },
            [&](const GoAwayReceived& e) {
                if (on_goaway_) on_goaway_(e.id);
            },
            [&](const ConnectionClosed&) {
                const Error err = connection_->close_error().value_or(
                    Error::of_kind(ErrorKind::kClosed, "connection closed"));
                auto ids = streams_;
                for (auto& [id, s] : ids) complete(id, &err);
            },
            [](const auto&) {},
        },
        ev);
}

}  // namespace quic::h3
