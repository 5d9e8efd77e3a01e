// One UDP socket's worth of QUIC on a libuv loop: quic-go's Transport. A Transport listens
// for connections (listen() -> Listener) and dials them (dial, dial_early), all on one
// socket: connections are told apart by connection ID (RFC 9000 §5.2), not by address.
//
// The model: the sans-IO Endpoint (quic/endpoint.h) does QUIC; the Transport owns the
// socket (recvmmsg with GRO, GSO sends, ECN, PMTUD probe mode), one libuv timer and the
// Endpoint, and turns the core's events into the callbacks of Connection and Stream. Every
// callback runs on the loop's thread. Nothing here blocks; the loop is the caller's
// (uv_run). Typical server:
//
//     auto transport = quic::uv::Transport::create(loop, *quic::SocketAddress::parse(
//                          "[::]:4433"), config).value();
//     auto listener = transport->listen().value();
//     listener->on_connection([](std::shared_ptr<quic::uv::Connection> c) { ... });
//     uv_run(loop, UV_RUN_DEFAULT);
//
// TLS and the connection configuration belong to the Transport (TransportConfig::endpoint):
// one transport is one identity. Use two transports for two.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "quic/address.h"
#include "quic/endpoint.h"
#include "quic/result.h"
#include "quic/time.h"
#include "quic/uv/clock.h"
#include "quic/uv/connection.h"
#include "quic/uv/session_store.h"

namespace quic::uv {

// Several transports serving one address, each on its own event loop and thread (one per
// core: `quiver server --workers N`). See TransportConfig::workers.
struct WorkerGroup {
    unsigned index = 0;  // this transport's place in the group, 0 .. count-1
    unsigned count = 1;  // 1: a transport of its own (at most 64)
};

struct TransportConfig {
    // TLS contexts (server_tls to listen, client_tls to dial), the connection configuration
    // (quic-go's Config: versions, timeouts, windows, stream limits, datagrams, 0-RTT...),
    // address validation, the static key for stateless resets and tokens, the tracer factory.
    EndpointConfig endpoint;
    // Where tickets and tokens are kept for later dials (null: not kept).
    std::shared_ptr<SessionStore> sessions;
    // count > 1: this transport is worker `index` of a group sharing one address
    // (SO_REUSEPORT). A classic BPF program steers each datagram by the first byte of its
    // Destination Connection ID (modulo count), and every connection ID a worker issues
    // carries its index there, so each packet of a connection reaches the worker that owns
    // it (a client's first Initial goes by its own random DCID; that worker keeps the
    // connection). Create the group's transports in index order, 0 first, before their loops
    // run (the kernel numbers a group's sockets in bind order), with the same
    // endpoint.static_key (every worker must recognise the others' tokens and stateless
    // resets) and without an endpoint.connection_id_generator (the group sets its own).
    // Worker 0 may bind port 0; the others bind the port it got.
    WorkerGroup workers;
};

struct DialOptions {
    // SNI and certificate name (RFC 9001 §4.1); the key in the session store. Default: the
    // address without the port.
    std::string server_name;
    // Fail with kDeadlineExceeded when the handshake has not completed after this long
    // (zero: only the configured handshake timeout applies). quic-go's context deadline.
    Duration timeout = Duration::zero();
};

// Statistics of the transport's socket.
struct SocketStats {
    uint64_t datagrams_sent = 0, send_calls = 0, gso_batches = 0;
    uint64_t datagrams_received = 0, receive_calls = 0, gro_batches = 0;
    uint64_t send_errors = 0;
};

class Listener;

class Transport {
  public:
    using DialCallback = std::function<void(Result<std::shared_ptr<Connection>>)>;

    // Binds a UDP socket to `local` (an IPv6 wildcard "[::]:port" serves IPv4 too; port 0
    // picks one) and runs an endpoint on `loop`. Fails with kSocket when the bind fails.
    static Result<std::unique_ptr<Transport>> create(uv_loop_t* loop, const SocketAddress& local,
                                                     TransportConfig config);
    // Closes at once (see close()). Run the loop afterwards so libuv can release its handles.
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Starts accepting connections (needs endpoint.server_tls). One listener at a time.
    Result<std::shared_ptr<Listener>> listen();

    // Connects to `remote`; `done` runs once, with the connection when its handshake has
    // completed or with why it could not be made (handshake or dial timeout, version
    // negotiation, a TLS alert as a CRYPTO_ERROR, ICMP unreachable). Uses the session
    // store's ticket and token for the server when there are.
    void dial(const SocketAddress& remote, const DialOptions& options, DialCallback done);
    // Connects and returns the connection at once (quic-go's DialEarly): streams opened
    // before on_handshake_completed carry 0-RTT data when the stored ticket allows it and
    // endpoint.connection.enable_0rtt is set; the core resends it in 1-RTT if the server
    // refuses it.
    Result<std::shared_ptr<Connection>> dial_early(const SocketAddress& remote,
                                                   const DialOptions& options);

    // Closes every connection (CONNECTION_CLOSE with this application code and reason) and
    // the listener; `done` runs once the closes are handed to the kernel and the socket is
    // closed. Connections' on_closed callbacks run first.
    void close(uint64_t application_error_code = 0, std::string reason = {},
               std::function<void()> done = {});

    const SocketAddress& local_address() const;
    SocketStats socket_stats() const;
    bool gso_enabled() const;
    bool gro_enabled() const;
    // Connections alive on this transport.
    size_t connection_count() const;
    // The sans-IO endpoint (statistics, advanced use).
    Endpoint& endpoint();
    const TransportConfig& config() const;
    // Socket failures other than "would block" (the transport keeps going).
    void on_error(std::function<void(const Error&)> cb);

    // Runs `fn` from the loop soon (after the current callback returns).
    void post(std::function<void()> fn);

    struct Impl;  // the uv layer's internals (opaque)

  private:
    explicit Transport(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    friend class Listener;
    friend class Connection;
    friend class ConnectionDriver;
};

// Accepts the connections a Transport receives: quic-go's Listener (and EarlyListener).
class Listener {
  public:
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Each new connection, once its handshake completes; or, with `early`, as soon as it is
    // created (before the handshake: 0-RTT requests arrive on its streams; quic-go's
    // ListenEarly). Connections that arrive before a callback is set wait (bounded by
    // EndpointConfig::max_accept_queue).
    void on_connection(std::function<void(std::shared_ptr<Connection>)> cb, bool early = false);
    // Stops accepting: new connection attempts are refused (CONNECTION_REFUSED); the
    // connections already accepted go on.
    void close();
    const SocketAddress& address() const;

  private:
    friend class Transport;
    explicit Listener(Transport& transport) : transport_(&transport) {}
    Transport* transport_;
};

}  // namespace quic::uv
