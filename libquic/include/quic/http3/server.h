// An HTTP/3 server (RFC 9114) on libuv connections: quic-go's http3.Server with its Handler,
// in callbacks. The application hands the server each connection whose ALPN is "h3"
// (serve()); every request arrives at the handler as a ServerStream, on which the handler
// reads the request body and writes the response, under flow control.
//
//     quic::h3::Server server([](std::shared_ptr<quic::h3::ServerStream> s) {
//         (void)s->respond(200, {{"content-type", "text/plain"}});
//         (void)s->write_body(hello, true);
//     });
//     listener->on_connection([&](auto c) { server.serve(c); });
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quic/bytes.h"
#include "quic/http3/field.h"
#include "quic/http3/session.h"
#include "quic/result.h"
#include "quic/uv/connection.h"

namespace quic::h3 {

class ServerConnection;

// One request being served.
class ServerStream {
  public:
    uint64_t id() const { return id_; }
    // The request's header section, pseudo-header fields first (RFC 9114 §4.3.1).
    const std::vector<Field>& fields() const { return fields_; }
    // A field's value ("" when absent): method(), path()... read the pseudo-header fields.
    const std::string& field(std::string_view name) const;
    const std::string& method() const { return field(":method"); }
    const std::string& path() const { return field(":path"); }
    const std::string& authority() const { return field(":authority"); }
    // The connection the request came on.
    uv::Connection& connection();

    // --- the request body ---
    // Called when body bytes can be read, and once more when the request ends (read_body
    // then reports fin): a request without a body gets just that one call.
    void on_body(std::function<void(ServerStream&)> cb);
    Result<size_t> read_body(MutableByteSpan out, bool* fin);
    void on_trailers(std::function<void(ServerStream&, const std::vector<Field>&)> cb);
    // The client abandoned the exchange (a reset, STOP_SENDING) or the connection closed.
    void on_aborted(std::function<void(ServerStream&, const Error&)> cb);
    // The response was handed to the connection in full (FIN sent), or the exchange ended.
    void on_done(std::function<void(ServerStream&)> cb);

    // --- the response ---
    // A header section (a 1xx interim one, or the final one); :status is added first.
    Status respond(unsigned status, const std::vector<Field>& fields, bool end_stream = false);
    Result<size_t> write_body(ByteSpan data, bool fin);
    // The rest of the body, `length` bytes that `source` supplies as they are sent (a file
    // served without holding it in memory; Session::send_body_source), ending the response.
    // False, with nothing taken, while earlier body bytes wait for room: call again when
    // writable.
    Result<bool> write_body_source(uint64_t length, StreamSource source);
    void on_writable(std::function<void(ServerStream&)> cb);
    Status send_trailers(const std::vector<Field>& fields);
    // Refuses or abandons the request (H3_REQUEST_REJECTED: not processed, safe to retry).
    void reject(uint64_t code = to_underlying(H3Error::kRequestRejected));

  private:
    friend class ServerConnection;
    ServerStream(ServerConnection& c, uint64_t id, std::vector<Field> fields)
        : conn_(&c), id_(id), fields_(std::move(fields)) {}
    ServerConnection* conn_;
    uint64_t id_;
    std::vector<Field> fields_;
    bool ended_ = false;          // the response's FIN went out
    bool request_ended_ = false;  // the request's end was read (or MessageComplete came)
    std::function<void(ServerStream&)> on_body_, on_writable_, on_done_;
    std::function<void(ServerStream&, const std::vector<Field>&)> on_trailers_;
    std::function<void(ServerStream&, const Error&)> on_aborted_;
};

class Server {
  public:
    using Handler = std::function<void(std::shared_ptr<ServerStream>)>;

    explicit Server(Handler handler, SessionConfig config = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Serves HTTP/3 on `connection` (its ALPN must be h3; it may still be in its handshake:
    // 0-RTT requests are served). Takes over the connection's events.
    void serve(std::shared_ptr<uv::Connection> connection);
    // Graceful shutdown (RFC 9114 §5.2): GOAWAY on every connection; they close once their
    // requests are done. `done` runs when every connection has closed.
    void shutdown(std::function<void()> done = {});
    // Immediate close of every connection with an HTTP/3 code.
    void close(uint64_t code = to_underlying(H3Error::kNoError), std::string reason = {});
    size_t connection_count() const { return connections_.size(); }
    // Called once per connection when it ends, with its session's statistics.
    void on_connection_closed(
        std::function<void(uv::Connection&, const SessionStats&, const Error&)> cb);

  private:
    friend class ServerConnection;
    void forget(ServerConnection* c);

    Handler handler_;
    SessionConfig config_;
    std::map<ServerConnection*, std::unique_ptr<ServerConnection>> connections_;
    std::function<void(uv::Connection&, const SessionStats&, const Error&)> on_closed_;
    std::function<void()> shutdown_done_;
};

}  // namespace quic::h3
