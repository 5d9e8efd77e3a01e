// The endpoint: one UDP socket's worth of QUIC. It demultiplexes datagrams to connections by
// connection ID, accepts new connections (server), answers with Version Negotiation, Retry
// and stateless resets, and gathers what every connection wants to send. Sans-IO: time and
// datagrams come in, datagrams and timeouts go out (DESIGN.md, "Sans-IO core").
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/address_token.h"
#include "crypto/stateless_reset.h"
#include "quic/config.h"
#include "quic/connection.h"
#include "quic/random.h"
#include "quic/tls_context.h"
#include "wire/packet_header.h"

namespace quic {

struct EndpointConfig {
    ConnectionConfig connection;
    // TLS for connections we accept (server) and make (client); either may be null.
    std::shared_ptr<TlsContext> server_tls;
    std::shared_ptr<TlsContext> client_tls;
    // RFC 9000 §8.1.2: answer every Initial without a valid token with a Retry.
    bool require_retry = false;
    // Key material for stateless reset tokens and address tokens (32 bytes; random when empty).
    Bytes static_key;
    Duration retry_token_lifetime = 10s;
    Duration new_token_lifetime = std::chrono::hours(24);
    // Connections accepted but not yet taken by accept() (a full queue refuses new ones).
    size_t max_accept_queue = 256;
    // Handshakes in progress at once (beyond it: CONNECTION_REFUSED).
    size_t max_concurrent_handshakes = 1024;
    // A tracer for each new connection (e.g. a qlog file named after the original DCID).
    std::function<std::shared_ptr<trace::Tracer>(Role, const ConnectionId& odcid)> tracer_factory;
};

struct ConnectOptions {
    std::string server_name;
    Bytes resumption_ticket;  // from SessionTicketReceived
    Bytes token;              // from NewTokenReceived
};

class Endpoint {
  public:
    Endpoint(EndpointConfig config, Random& random);
    ~Endpoint();

    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer);
    std::optional<Time> next_timeout() const;
    void on_timeout(Time now);

    Result<std::shared_ptr<Connection>> connect(Time now, const Path& path,
                                                const ConnectOptions& options);
    // The next connection a client opened to us (server), or null.
    std::shared_ptr<Connection> accept();

    size_t connection_count() const { return connections_.size(); }
    const EndpointConfig& config() const { return config_; }

    struct Stats {
        uint64_t datagrams_received = 0, datagrams_dropped = 0;
        uint64_t version_negotiations_sent = 0, retries_sent = 0, stateless_resets_sent = 0;
        uint64_t connections_refused = 0;
    };
    const Stats& stats() const { return stats_; }

  private:
    struct Pending {  // endpoint-generated datagrams (VN, Retry, stateless reset, refusals)
        Path path;
        Bytes bytes;
    };

    void handle_unrouted(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    void accept_initial(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram,
                        const PacketHeader& header);
    void send_retry(Time now, const Path& path, const PacketHeader& header);
    void send_stateless_reset(const Path& path, ByteSpan dcid, size_t trigger_size);
    void route_cid_events(const std::shared_ptr<Connection>& c);
    void forget_closed();
    ConnectionId new_connection_id();
    Connection::Params base_params(Role role, const Path& path);
    static EndpointConfig with_key(EndpointConfig c, Random& random);

    EndpointConfig config_;
    Random& random_;
    StatelessResetTokenGenerator reset_tokens_;
    AddressTokenCodec address_tokens_;
    std::unordered_map<ConnectionId, std::shared_ptr<Connection>> by_cid_;
    std::vector<std::shared_ptr<Connection>> connections_;
    std::deque<std::shared_ptr<Connection>> accept_queue_;
    std::deque<Pending> pending_;
    size_t next_poll_ = 0;  // round-robin over connections in poll_transmit
    Time last_now_{};
    // Stateless resets sent within the current 100 ms window (a peer's junk must not make us a
    // packet reflector, RFC 9000 §10.3).
    Time reset_window_start_{};
    unsigned resets_in_window_ = 0;
    Stats stats_;
};

}  // namespace quic
