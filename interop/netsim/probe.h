// The interop runner's readiness probe (quic-network-simulator, sim/wait-for-it-quic): a
// 1207-byte datagram with a long header of the reserved version 0x57414954 ("WAIT") and empty
// connection IDs, sent every 0.5 s until the server answers with a Version Negotiation packet
// (RFC 9000 §6.1, §17.2.1) or the time is up. The runner aborts the whole run without one.
#pragma once

#include <string>

namespace netsim {

struct ProbeResult {
    bool answered = false;
    double seconds = 0;  // until the answer, or until giving up
    std::string error;   // a socket error, or an answer that was not Version Negotiation
};

// Probes host:port (a name, an IPv4 address or a bracketed IPv6 address).
ProbeResult probe_server(const std::string& host_port, double timeout_s, double interval_s = 0.5);

}  // namespace netsim
