// An HTTP/3 client (RFC 9114) on a libuv connection: quic-go's http3.RoundTripper, in
// callbacks. One Client per connection (ALPN "h3"); each request is a ClientStream whose
// response arrives through its callbacks. Bodies flow both ways under flow control: nothing is
// buffered beyond what the connection holds.
//
//     auto h3 = quic::h3::Client::create(connection);
//     auto req = h3->request({.authority = "example.com", .path = "/"}).value();
//     req->on_response([](quic::h3::ClientStream&, const quic::h3::Response& r) { ... });
//     req->on_body([](quic::h3::ClientStream& s) { s.read_body(buf, &fin); ... });
//     req->on_complete([](quic::h3::ClientStream&, const quic::Error* error) { ... });
//
// The client takes over the connection's events (uv::Connection::take_events): use the
// connection's streams through the client only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "quic/bytes.h"
#include "quic/http3/field.h"
#include "quic/http3/session.h"
#include "quic/result.h"
#include "quic/uv/connection.h"

namespace quic::h3 {

struct Request {
    std::string method = "GET";
    std::string scheme = "https";
    std::string authority;  // host[:port]
    std::string path = "/";
    // Regular header fields, in order (names lower-case, RFC 9114 §4.2).
    std::vector<Field> fields;
};

struct Response {
    unsigned status = 0;
    std::vector<Field> fields;  // :status first, then the regular fields
};

class Client;

// One request and its response.
class ClientStream {
  public:
    uint64_t id() const { return id_; }

    // The final response's header section (1xx interim ones go to on_interim).
    void on_response(std::function<void(ClientStream&, const Response&)> cb);
    void on_interim(std::function<void(ClientStream&, const Response&)> cb);
    // Body bytes can be read with read_body().
    void on_body(std::function<void(ClientStream&)> cb);
    void on_trailers(std::function<void(ClientStream&, const std::vector<Field>&)> cb);
    // The exchange is over: `error` is null when the whole response arrived, else why not
    // (a stream reset, a malformed response, the connection's close). Runs once.
    void on_complete(std::function<void(ClientStream&, const Error* error)> cb);

    // Response body bytes; *fin once the body is over. 0 without fin: wait for on_body.
    Result<size_t> read_body(MutableByteSpan out, bool* fin);

    // The request body (after request(..., end_stream = false)): bytes taken (fewer under
    // flow control: on_writable says when to offer the rest); `fin` ends the request.
    Result<size_t> write_body(ByteSpan data, bool fin);
    void on_writable(std::function<void(ClientStream&)> cb);
    Status finish();
    // Abandons the request (STOP_SENDING and RESET_STREAM, RFC 9114 §4.1.1).
    void cancel(uint64_t code = to_underlying(H3Error::kRequestCancelled));

  private:
    friend class Client;
    ClientStream(Client& client, uint64_t id) : client_(&client), id_(id) {}
    Client* client_;
    uint64_t id_;
    bool completed_ = false;
    std::function<void(ClientStream&, const Response&)> on_response_, on_interim_;
    std::function<void(ClientStream&)> on_body_, on_writable_;
    std::function<void(ClientStream&, const std::vector<Field>&)> on_trailers_;
    std::function<void(ClientStream&, const Error*)> on_complete_;
};

class Client : public std::enable_shared_from_this<Client> {
  public:
    static std::shared_ptr<Client> create(std::shared_ptr<uv::Connection> connection,
                                          SessionConfig config = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends a request's header section; with `end_stream` the request has no body.
    // Fails with ErrorKind::kWouldBlock when the server's stream limit is reached (retry from
    // on_streams_available), or the request's error (after GOAWAY: H3_REQUEST_REJECTED).
    Result<std::shared_ptr<ClientStream>> request(const Request& request, bool end_stream = true);
    // More requests may be sent (the server raised its stream limit).
    void on_streams_available(std::function<void()> cb);
    void on_goaway(std::function<void(uint64_t id)> cb);
    // Closes the connection with an HTTP/3 code (H3_NO_ERROR by default).
    void close(uint64_t code = to_underlying(H3Error::kNoError), std::string reason = {});

    SessionStats stats() const;
    Session& session() { return session_; }
    uv::Connection& connection() { return *connection_; }

  private:
    friend class ClientStream;
    Client(std::shared_ptr<uv::Connection> connection, SessionConfig config);
    void on_activity(Time now);
    void handle(const SessionEvent& ev);
    void complete(uint64_t id, const Error* error);
    ClientStream* find(uint64_t id);

    std::shared_ptr<uv::Connection> connection_;
    Session session_;
    std::map<uint64_t, std::shared_ptr<ClientStream>> streams_;
    std::function<void()> on_streams_available_;
    std::function<void(uint64_t)> on_goaway_;
    Time now_{};
};

}  // namespace quic::h3
