// The endpoint: one UDP socket's worth of QUIC. It demultiplexes datagrams to connections by
// connection ID, accepts new connections (server), answers with Version Negotiation, Retry
// and stateless resets, and gathers what every connection wants to send. Sans-IO: time and
// datagrams come in, datagrams and timeouts go out; the caller owns the socket and the clock
// (libquic/uv/driver.h runs one on libuv).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "quic/address.h"
#include "quic/bytes.h"
#include "quic/config.h"
#include "quic/connection.h"
#include "quic/connection_id.h"
#include "quic/ecn.h"
#include "quic/random.h"
#include "quic/result.h"
#include "quic/time.h"
#include "quic/tls_context.h"
#include "quic/transmit.h"

namespace quic {

namespace trace {
class Tracer;
}

// What an endpoint is configured with; every field has a usable default except the TLS
// contexts (a server needs server_tls, a client client_tls).
struct EndpointConfig {
    // The configuration every connection of this endpoint starts with.
    ConnectionConfig connection;
    // TLS for connections we accept (server) and make (client); either may be null.
    std::shared_ptr<TlsContext> server_tls;
    std::shared_ptr<TlsContext> client_tls;
    // RFC 9000 §8.1.2: answer every Initial without a valid token with a Retry.
    bool require_retry = false;
    // Key material for stateless reset tokens and address tokens (32 bytes; random when
    // empty). Servers that must recognise each other's tokens, or survive a restart with their
    // stateless resets still recognised (RFC 9000 §10.3.2), share one.
    Bytes static_key;
    // How long a Retry token (RFC 9000 §8.1.2) and a NEW_TOKEN token (§8.1.3) stay valid.
    Duration retry_token_lifetime = std::chrono::seconds(10);
    Duration new_token_lifetime = std::chrono::hours(24);
    // Connections accepted but not yet taken by accept() (a full queue refuses new ones).
    size_t max_accept_queue = 256;
    // Handshakes in progress at once (beyond it: CONNECTION_REFUSED).
    size_t max_concurrent_handshakes = 1024;
    // A tracer for each new connection (e.g. a qlog file named after the original DCID).
    std::function<std::shared_ptr<trace::Tracer>(Role, const ConnectionId& odcid)> tracer_factory;
};

// What a client passes to Endpoint::connect besides the path.
struct ConnectOptions {
    // The server's name: SNI and the name its certificate must carry.
    std::string server_name;
    // A resumption ticket from an earlier connection's SessionTicketReceived event (enables
    // resumption and, when the TLS context allows it, 0-RTT).
    Bytes resumption_ticket;
    // An address-validation token from an earlier NewTokenReceived event (RFC 9000 §8.1.3).
    Bytes token;
};

class Endpoint {
  public:
    // `random` must outlive the endpoint and its connections.
    Endpoint(EndpointConfig config, Random& random);
    ~Endpoint();
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;

    // One UDP datagram received on `path` (local = our address, remote = the sender). The
    // datagram is decrypted in place.
    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    // The next datagram to send, written into `buffer` (at least 1200 bytes, 64 KiB lets a
    // connection hand out several segments for one GSO send), or nullopt when nothing is due.
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer);
    // When on_timeout must be called next; nullopt when nothing waits on time.
    std::optional<Time> next_timeout() const;
    // Time has reached (or passed) next_timeout().
    void on_timeout(Time now);

    // Starts a client connection (needs client_tls); its first Initial comes out of
    // poll_transmit.
    Result<std::shared_ptr<Connection>> connect(Time now, const Path& path,
                                                const ConnectOptions& options);
    // The next connection a client opened to us (server), or null.
    std::shared_ptr<Connection> accept();

    // Connections the endpoint currently routes datagrams to (open, closing or draining).
    size_t connection_count() const;
    const EndpointConfig& config() const;

    // Counters since the endpoint was created.
    struct Stats {
        uint64_t datagrams_received = 0;  // every datagram given to on_datagram
        uint64_t datagrams_dropped = 0;   // not routed, not answered, not accepted
        uint64_t version_negotiations_sent = 0, retries_sent = 0, stateless_resets_sent = 0;
        uint64_t connections_refused = 0;  // new clients turned away (table or queue full)
    };
    const Stats& stats() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace quic
