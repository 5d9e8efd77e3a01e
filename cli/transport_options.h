// The transport options every command that makes connections shares (client, server, perf,
// replay): congestion control and timeouts, and whatever connection knob a user needs from
// the command line. One place, so that every command spells and applies them the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "quic/config.h"

namespace quiver {

struct TransportOptions {
    quic::CongestionControl cc = quic::CongestionControl::kCubic;
    double handshake_timeout = 10;  // seconds
    double max_idle_timeout = 30;   // seconds, 0 = none
    // DPLPMTUD's ceiling and the max_udp_payload_size we advertise (RFC 9000 §14.3, §18.2).
    uint64_t max_udp_payload = 1452;
    bool no_spin = false;  // never spin the latency spin bit (RFC 9000 §17.4)
};

// Registers --cc, --handshake-timeout, --max-idle-timeout, --max-udp-payload and --no-spin
// on `app`; `o` must outlive the
// parse (it lives in the command's options).
void add_transport_options(CLI::App* app, TransportOptions& o);
// Applies them to a connection configuration.
void apply_transport_options(const TransportOptions& o, quic::ConnectionConfig& config);

}  // namespace quiver
