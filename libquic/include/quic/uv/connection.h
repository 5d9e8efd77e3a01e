// A QUIC connection on a libuv loop: quic-go's Connection and EarlyConnection, in callbacks.
// Made by Transport::dial / dial_early (client) or handed out by a Listener (server).
//
// Streams: open_stream() / open_uni_stream() open at once or fail with kWouldBlock when the
// peer's stream limit is reached; open_stream_when_allowed() waits for credit (quic-go's
// OpenStreamSync). Streams the peer opens arrive through on_stream / on_uni_stream
// (quic-go's AcceptStream). Datagrams (RFC 9221) go out with send_datagram and come in
// through on_datagram. The connection ends with close(code, reason) or by itself;
// on_closed tells why, as an Error whose kind is idle timeout, handshake timeout,
// stateless reset, version negotiation, or a transport or application error code.
//
// Protocol layers that drive the sans-IO core themselves (HTTP/3 in quic/http3/) call
// take_events(): from then on the connection's events go to their handler instead of the
// callbacks above, and they use core() directly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "quic/address.h"
#include "quic/bytes.h"
#include "quic/connection_info.h"
#include "quic/result.h"
#include "quic/time.h"
#include "quic/uv/stream.h"

namespace quic {
class Connection;
}

namespace quic::uv {

class Transport;
class ConnectionDriver;

// What a connection negotiated and where it runs (quic-go's ConnectionState).
struct ConnectionDetails {
    ConnectionInfo info;  // version, ALPN, cipher, server name, resumed, 0-RTT, datagrams
    bool handshake_complete = false;
    bool gso = false;  // the socket sends with UDP GSO
    SocketAddress local, remote;
};

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    using StreamCallback = std::function<void(std::shared_ptr<Stream>)>;
    using OpenCallback = std::function<void(Result<std::shared_ptr<Stream>>)>;

    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // --- streams ------------------------------------------------------------------------
    Result<std::shared_ptr<Stream>> open_stream();
    Result<std::shared_ptr<Stream>> open_uni_stream();
    // Opens a stream as soon as the peer allows it (MAX_STREAMS, RFC 9000 §4.6), or fails
    // with kDeadlineExceeded after `timeout` (zero: wait as long as the connection lives).
    void open_stream_when_allowed(OpenCallback cb, Duration timeout = Duration::zero());
    void open_uni_stream_when_allowed(OpenCallback cb, Duration timeout = Duration::zero());
    // Streams the peer opens (set these before the loop runs again after the handshake, or
    // the first streams' data waits in the connection until they are set).
    void on_stream(StreamCallback cb);
    void on_uni_stream(StreamCallback cb);

    // --- datagrams (RFC 9221) -----------------------------------------------------------
    // Fails with kInvalidArgument when the peer does not take datagrams or this one is larger
    // than max_datagram_size() (quic-go's DatagramTooLargeError).
    Status send_datagram(ByteSpan payload);
    size_t max_datagram_size() const;
    void on_datagram(std::function<void(ByteSpan payload)> cb);

    // --- life -----------------------------------------------------------------------------
    // Early connections (dial_early, Listener with early delivery): the handshake completed.
    void on_handshake_completed(std::function<void()> cb);
    // The connection is over; `why` says who ended it and how. Runs once.
    void on_closed(std::function<void(const Error& why)> cb);
    // Closes with an application error code and reason (CONNECTION_CLOSE 0x1d, RFC 9000
    // §10.2); streams fail with kClosed. quic-go's CloseWithError.
    void close(uint64_t application_error_code = 0, std::string reason = {});
    bool is_closed() const;
    // Set once closed.
    std::optional<Error> close_error() const;

    // RFC 9001 §6: starts a key update (after the handshake is confirmed).
    Status initiate_key_update();

    // Client: active migration (RFC 9000 §9.2). Binds a new socket on the transport at
    // `local` (default: the current local address with a new port: Transport::add_address),
    // probes the server from it with a fresh connection ID and moves there once the server
    // answers; if it never does, the connection stays on its path (§9.3.2). Returns the new
    // local address; stats().path_migrations counts the move when it happens.
    Result<SocketAddress> migrate(const SocketAddress& local = {});

    ConnectionDetails details() const;
    ConnectionStats stats() const;

    // --- for protocol layers on the sans-IO core ------------------------------------------
    // The core connection. Calls on it made outside a callback of this loop need flush().
    quic::Connection& core();
    // Routes every event to `on_activity` (called with the time whenever the core may have
    // news: datagrams, timeouts, or flush()); stream and datagram callbacks stop.
    void take_events(std::function<void(Time now)> on_activity);
    // Sends what the core has to send now (after calls on core() outside a callback).
    void flush();
    Transport& transport();

  private:
    friend class ConnectionDriver;
    friend class Transport;
    explicit Connection(std::unique_ptr<ConnectionDriver> driver);
    std::unique_ptr<ConnectionDriver> driver_;
};

}  // namespace quic::uv
