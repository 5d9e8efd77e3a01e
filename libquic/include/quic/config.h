// Configuration of connections and endpoints: the knobs of quic-go's Config, in the RFC's words.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "quic/address.h"
#include "quic/time.h"

namespace quic {

struct TransportParameters;

using namespace std::chrono_literals;

enum class CongestionControl { kNewReno, kCubic, kBbr };

struct ConnectionConfig {
    // Versions we offer (client: the first is used for the first Initial) and accept (server).
    std::vector<uint32_t> versions = {0x00000001};

    // How long a handshake may take before it is abandoned (quic-go: HandshakeIdleTimeout).
    Duration handshake_timeout = 10s;
    // RFC 9000 §10.1: the max_idle_timeout we advertise; the effective one is the smaller of
    // both sides' (0 = none).
    Duration max_idle_timeout = 30s;
    // Send a PING when nothing was sent for this long (0 = off), to keep NATs and idle timers
    // from closing a quiet connection.
    Duration keep_alive_period = 0s;

    // Flow control (RFC 9000 §4): initial windows, grown by auto-tuning up to the maximums.
    uint64_t initial_stream_receive_window = 512 * 1024;
    uint64_t max_stream_receive_window = 6 * 1024 * 1024;
    uint64_t initial_connection_receive_window = 768 * 1024;
    uint64_t max_connection_receive_window = 15 * 1024 * 1024;
    // The most bytes an application may queue on a stream before writes are refused.
    uint64_t max_stream_send_buffer = 1024 * 1024;

    // Streams the peer may open (RFC 9000 §4.6). ≤ 1000 so the interop runner's multiplexing
    // test sees a limit, and always advertised.
    uint64_t max_incoming_streams = 100;
    uint64_t max_incoming_uni_streams = 100;

    // RFC 9221 DATAGRAM support: the max_datagram_frame_size we advertise (0 = off).
    uint64_t max_datagram_frame_size = 0;

    // 0-RTT: a client sends early data when it has a ticket; a server accepts it.
    bool enable_0rtt = false;

    // Timing of acknowledgments (RFC 9000 §13.2, §18.2).
    Duration max_ack_delay = 25ms;
    uint8_t ack_delay_exponent = 3;
    unsigned ack_eliciting_threshold = 2;

    uint64_t active_connection_id_limit = 4;
    size_t connection_id_length = 8;
    bool disable_active_migration = false;
    // Server: the preferred_address transport parameter (RFC 9000 §9.6, §18.2), an IPv4 and/or
    // an IPv6 address the client moves to once the handshake is confirmed. The I/O layer must
    // receive there too (uv::TransportConfig::additional_addresses). Empty: not offered.
    std::optional<SocketAddress> preferred_address_ipv4, preferred_address_ipv6;
    // Client: move to the server's preferred address of our address family when it offers
    // one (§9.6.1: validated first; the connection stays on its path if validation fails).
    bool use_preferred_address = true;

    // RFC 9002 §6.2.2.
    Duration initial_rtt = 333ms;
    CongestionControl congestion_control = CongestionControl::kCubic;
    bool pacing = true;
    // RFC 9000 §13.4: mark packets ECT(0) and validate the path's ECN support from the peer's
    // ACK counts; marking stops if validation fails.
    bool enable_ecn = true;

    // The UDP payload size we start with, and the max_udp_payload_size we advertise, which is
    // also the ceiling DPLPMTUD probes up to (RFC 9000 §14.3; the peer's max_udp_payload_size
    // lowers it). 1452 is the payload of a 1500-byte IPv6 packet (1500 - 40 - 8): the largest
    // that the common Ethernet-sized path carries for IPv6 and IPv4 alike, so one search
    // usually ends with a single probe; tunnels and PPPoE links are found by the search. An
    // embedder that reports EMSGSIZE (Endpoint::on_packet_too_big, as the uv layer does) may
    // set 65527 and let the local interface decide, as the CLI does (docs/architecture.md).
    size_t initial_max_udp_payload_size = 1200;
    uint64_t max_udp_payload_size = 1452;
    // DPLPMTUD (RFC 8899, RFC 9000 §14.3): probe for larger datagrams once the handshake is
    // confirmed. Off: datagrams stay at initial_max_udp_payload_size.
    bool enable_pmtud = true;
    // ...and once this much stream data was sent (0: at once). A probe costs a full-size
    // datagram, three per refuted size, while a larger datagram saves ~250 bytes of headers:
    // below ~50 datagrams of data a search costs more than it saves. The default keeps a
    // client that sends only requests and ACKs from probing (which also keeps its 1-RTT bytes
    // small when its requests went in 0-RTT, as the interop runner's zerortt case counts).
    uint64_t pmtud_start_after_bytes = 64 * 1024;
    // The latency spin bit (RFC 9000 §17.4); even when on, a random 1 in 16 connections do
    // not spin, as the RFC requires.
    bool spin_bit = true;

    // RFC 9001 §6: start a key update after this many packets with one key (0 = never).
    uint64_t key_update_interval_packets = 0;
    // Skip a packet number now and then to detect optimistic ACKs (RFC 9000 §21.4).
    bool skip_packet_numbers = true;

    // --- For tests and fuzzers only (docs/hardening.md): never set these in an application. ---
    // Given the transport parameters we would send, returns the bytes of the extension to send
    // instead, so that a test can play a peer that sends invalid or hostile ones.
    std::function<std::vector<uint8_t>(const TransportParameters& ours)>
        transport_parameters_override_for_testing;
    // Replaces the AEAD confidentiality and integrity limits of RFC 9001 §6.6 (packets per key,
    // forged packets per connection) with this lower value (0 = the RFC's), so that a test can
    // reach them in a few packets.
    uint64_t aead_limit_override_for_testing = 0;
};

}  // namespace quic
