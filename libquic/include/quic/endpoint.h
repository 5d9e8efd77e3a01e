// The endpoint: one UDP socket's worth of QUIC. It demultiplexes datagrams to connections by
// connection ID, accepts new connections (server), answers with Version Negotiation, Retry
// and stateless resets, and gathers what every connection wants to send. Sans-IO: time and
// datagrams come in, datagrams and timeouts go out; the caller owns the socket and the clock
// (quic/uv/transport.h runs one on libuv; docs/architecture.md, "Sans-IO core").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

// When a server asks a new client to prove its address with a Retry (RFC 9000 §8.1.2) before
// keeping any state for it. A Retry costs the client one round trip; it stops a flood from
// spoofed addresses from holding handshake state, since only a client that receives the Retry
// can come back with its token.
enum class RetryPolicy : uint8_t {
    kNever,      // never: addresses are validated during the handshake (§8.1)
    kAlways,     // every client that has no valid token
    kAutomatic,  // only while half-open connections reach EndpointConfig::retry_threshold
};

// kAutomatic's default threshold. A handshake holds a half-open connection for about one
// round trip, so 128 at once is over 1000 new connections per second at 100 ms RTT, more than
// one core completes (each costs a signature and key exchanges): normal load never pays the
// Retry round trip, while a flood holds at most this many connections without a Retry.
inline constexpr size_t kDefaultRetryThreshold = 128;

// Half-open connections one source (an IPv4 address, an IPv6 /64) may hold, counted apart
// for clients whose address is validated and those whose is not. Browsers open a handful of
// connections per origin at once; 32 leaves room for several hosts behind one NAT while one
// attacker cannot take more than 32 of max_concurrent_handshakes.
inline constexpr size_t kDefaultMaxHalfOpenPerSource = 32;

// How long a server connection whose client has not proved its address (no token, no
// Handshake packet from it yet) is kept. A client that receives our packets proves its
// address within a round trip plus a probe or two (the initial PTO is about 1 s, RFC 9002
// §6.2.2); 5 s (quic-go's handshake idle timeout) covers a 1.5 s RTT path with a loss, and
// halves how long a spoofed Initial holds state compared with the 10 s handshake timeout.
inline constexpr Duration kDefaultUnvalidatedHandshakeTimeout = std::chrono::seconds(5);

// What an endpoint is configured with; every field has a usable default except the TLS
// contexts (a server needs server_tls, a client client_tls).
struct EndpointConfig {
    // The configuration every connection of this endpoint starts with.
    ConnectionConfig connection;
    // TLS for connections we accept (server) and make (client); either may be null.
    std::shared_ptr<TlsContext> server_tls;
    std::shared_ptr<TlsContext> client_tls;
    // Server: when new clients must first answer a Retry (see RetryPolicy).
    RetryPolicy retry = RetryPolicy::kAutomatic;
    // kAutomatic: send Retry while this many handshakes (half-open connections) are in progress.
    size_t retry_threshold = kDefaultRetryThreshold;
    // Server: half-open connections per source, validated and unvalidated counted apart
    // (beyond it: Retry for an unvalidated client unless the policy is kNever, else
    // CONNECTION_REFUSED).
    size_t max_half_open_per_source = kDefaultMaxHalfOpenPerSource;
    // Server: a handshake whose client has not proved its address by then is abandoned. Unset:
    // half of connection.handshake_timeout, never less than kDefaultUnvalidatedHandshakeTimeout
    // (a server told to wait long for handshakes, as on lossy paths, also waits longer for a
    // client to prove its address; the default 10 s handshake timeout keeps 5 s).
    std::optional<Duration> unvalidated_handshake_timeout;
    // Key material for stateless reset tokens and address tokens (32 bytes; random when
    // empty). Servers that must recognise each other's tokens, or survive a restart with their
    // stateless resets still recognised (RFC 9000 §10.3.2), share one.
    Bytes static_key;
    // How long a Retry token (RFC 9000 §8.1.2) and a NEW_TOKEN token (§8.1.3) stay valid.
    Duration retry_token_lifetime = std::chrono::seconds(10);
    Duration new_token_lifetime = std::chrono::hours(24);
    // Server: connections accepted but not yet taken by accept() (a full queue refuses new
    // ones with CONNECTION_REFUSED). A server application accepts at once; 256 covers a burst.
    size_t max_accept_queue = 256;
    // Server: handshakes in progress at once (beyond it: CONNECTION_REFUSED). With Retry
    // holding unvalidated clients to retry_threshold, the rest is room for validated ones.
    size_t max_concurrent_handshakes = 1024;
    // Makes our connection IDs (quic-go's ConnectionIDGenerator), e.g. to encode a server ID
    // that a QUIC-aware load balancer routes on. Each ID must be
    // connection.connection_id_length bytes long (short headers carry no length, RFC 9000
    // §17.3) and unpredictable enough that an off-path attacker cannot guess another
    // connection's (§5.1); an ID of the wrong length, or one already in use, is replaced by a
    // random one. Null: random IDs.
    std::function<ConnectionId()> connection_id_generator;
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
    // The path to `remote` cannot carry UDP payloads larger than max_udp_payload: an ICMP
    // packet too big (IPv6) or fragmentation needed (IPv4) with its MTU less the IP and UDP
    // headers, or EMSGSIZE from the local stack. Handed to the connections sending to that
    // address (every port when remote's port is 0, as a local error reports it), whose
    // DPLPMTUD checks it (RFC 9000 §14.2.1: ignored below 1200). Scans the connections: ICMP
    // is rare, and the I/O layer reads a bounded batch per wakeup.
    void on_packet_too_big(Time now, const SocketAddress& remote, size_t max_udp_payload);
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
    // Appends to `out` every connection touched since the last call, each once: given a
    // datagram, a timeout or an ICMP message, polled for datagrams, created, or acted on by the
    // application (anything that calls Params::wake). Only these can have new events or a new
    // state, so an I/O layer looks at them instead of at every connection. A connection that
    // closed and was forgotten is still reported, if something else holds it.
    void take_touched(std::vector<std::shared_ptr<Connection>>& out);

    // Connections the endpoint currently routes datagrams to (open, closing or draining).
    size_t connection_count() const;
    // Server connections whose handshake is in progress.
    size_t half_open_count() const;
    const EndpointConfig& config() const;

    // Counters since the endpoint was created.
    struct Stats {
        uint64_t datagrams_received = 0;  // every datagram given to on_datagram
        uint64_t datagrams_dropped = 0;   // not routed, not answered, not accepted
        uint64_t version_negotiations_sent = 0, retries_sent = 0, stateless_resets_sent = 0;
        // New clients turned away with CONNECTION_REFUSED (tables or queue full, per-source
        // limit); counted even when the rate limit kept the reply from being sent.
        uint64_t connections_refused = 0;
        uint64_t initials_undecryptable = 0;  // client Initials that did not open: no state
        uint64_t invalid_tokens = 0;          // Retry tokens refused with INVALID_TOKEN
        uint64_t handshakes_abandoned = 0;    // unvalidated past unvalidated_handshake_timeout
        uint64_t replies_rate_limited = 0;    // VN, reset or CONNECTION_CLOSE not sent
        // connection_id_generator results of the wrong length or already in use
        uint64_t generated_connection_ids_replaced = 0;
    };
    const Stats& stats() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace quic
