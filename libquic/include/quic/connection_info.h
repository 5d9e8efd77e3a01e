// The application-facing part of a connection's API, shared by Connection and its tests.
#pragma once

#include <cstdint>
#include <string>

#include "quic/error.h"

namespace quic {

enum class ConnectionState : uint8_t {
    kHandshaking,  // until the TLS handshake completes
    kEstablished,  // 1-RTT keys on both sides
    kClosing,      // we sent CONNECTION_CLOSE (RFC 9000 §10.2.1)
    kDraining,     // the peer sent it, or we were reset (§10.2.2)
    kClosed,       // nothing more to send or receive; the endpoint forgets the connection
};
const char* connection_state_name(ConnectionState s);

// What a connection negotiated, for `quiver client -v`, --json and the public API.
struct ConnectionInfo {
    uint32_t version = 0;
    std::string alpn;
    std::string cipher;
    std::string server_name;
    bool resumed = false;
    // Client: the ticket allowed 0-RTT and the first flight offered it (RFC 9001 §4.6.1);
    // with early_data_accepted false the server rejected it and the data went again in 1-RTT.
    bool early_data_attempted = false;
    bool early_data_accepted = false;
    bool datagrams_supported = false;  // both sides advertised max_datagram_frame_size
};

struct ConnectionStats {
    uint64_t packets_sent = 0, packets_received = 0, packets_lost = 0;
    uint64_t bytes_sent = 0, bytes_received = 0;
    uint64_t packets_dropped = 0;  // undecryptable, malformed or duplicate
    uint64_t packets_received_0rtt = 0;
    uint64_t path_migrations = 0;  // the active path changed (NAT rebinding, migration)
    uint64_t paths_probed = 0;     // new paths validated or being validated (RFC 9000 §8.2)
    uint64_t path_validation_failures = 0;  // paths given up on (§8.2.4), incl. fallbacks
    // ECN on our path (RFC 9000 §13.4.2): "testing", "capable", "failed" or "off".
    const char* ecn = "off";
    uint64_t ecn_ce_received = 0;  // CE marks the peer reported
    uint64_t stream_bytes_sent = 0, stream_bytes_received = 0;
    uint64_t pto_count = 0;
    uint64_t key_updates = 0;
    // Useless frames the peer sent (duplicates, frames for closed streams, limits that do not
    // grow...): charged to a budget that closes the connection when spent (docs/hardening.md).
    uint64_t glitches = 0;
    int64_t smoothed_rtt_ns = 0, min_rtt_ns = 0, latest_rtt_ns = 0;
    uint64_t congestion_window = 0, bytes_in_flight = 0;
    int64_t handshake_duration_ns = 0;
    // The largest UDP payload we send now: DPLPMTUD's PLPMTU (RFC 9000 §14.3, RFC 8899), 1200
    // until a probe confirmed more. Probes sent, and black holes that sent it back to 1200.
    uint64_t pmtu = 0;
    uint64_t pmtu_probes_sent = 0, pmtu_black_holes = 0;
    bool spin_bit = false;  // this connection spins the latency spin bit (RFC 9000 §17.4)
};

}  // namespace quic
