// The transport options every command that makes connections shares (client, server, perf,
// replay): congestion control and timeouts, and whatever connection knob a user needs from
// the command line. One place, so that every command spells and applies them the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quic/address.h"
#include "quic/config.h"
#include "quic/version.h"

namespace quiver {

struct TransportOptions {
    quic::CongestionControl cc = quic::CongestionControl::kCubic;
    double handshake_timeout = 10;  // seconds
    double max_idle_timeout = 30;   // seconds, 0 = none

    // --- versions (RFC 9368, RFC 9369) ---
    // --versions, in preference order; empty: v1,v2 (README, "QUIC versions").
    // A client's first flight uses the first and offers them all (compatible ones) in its
    // Version Information; a server accepts them all and upgrades to the first it shares.
    std::vector<quic::Version> versions;
    // Server: --preferred-address, one IPv4 and/or one IPv6 (RFC 9000 §9.6, §18.2); the
    // server listens there too.
    std::vector<quic::SocketAddress> preferred_addresses;
    // Client: --migrate-after BYTES: move to a new local port once this many response bytes
    // arrived (RFC 9000 §9.2; 0 = never).
    uint64_t migrate_after = 0;
    // DPLPMTUD's ceiling and the max_udp_payload_size we advertise (RFC 9000 §14.3, §18.2).
    // The default, the largest allowed, leaves the ceiling to the local interface: the first
    // probe above its MTU is refused by the kernel (EMSGSIZE, with the MTU) and the search
    // goes on from there (RFC 8899 §5.1.2: MAX_PLPMTU is the interface's limit).
    uint64_t max_udp_payload = 65527;
    bool no_spin = false;  // never spin the latency spin bit (RFC 9000 §17.4)
};

// "v2,v1" (also "1", "2", "0x6b3343cf") -> the versions in that order; nullopt for an empty
// list, an unknown or unsupported version, or a repeated one.
std::optional<std::vector<quic::Version>> parse_versions(const std::string& text);

// Registers --cc, --handshake-timeout, --max-idle-timeout, --versions, --max-udp-payload
// and --no-spin on `app`; `o` must outlive
// the parse (it lives in the command's options).
void add_transport_options(CLI::App* app, TransportOptions& o);
// Registers the options only a server has (--preferred-address), or only a client has
// (--migrate-after): the other role does not know them.
void add_server_transport_options(CLI::App* app, TransportOptions& o);
void add_client_transport_options(CLI::App* app, TransportOptions& o);
// Applies them to a connection configuration.
void apply_transport_options(const TransportOptions& o, quic::ConnectionConfig& config);

}  // namespace quiver
