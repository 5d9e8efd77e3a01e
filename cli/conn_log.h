// One-line descriptions of connection events and closes, for -v and for error messages.
#pragma once

#include <string>

#include "quic/connection.h"
#include "quic/events.h"
#include "uv/udp_socket.h"

namespace quiver {

std::string describe(const quic::ConnectionEvent& event);
// "closed by the peer: APPLICATION_ERROR 0x0 (server shutting down)", "idle timeout", ...
std::string describe(const quic::ConnectionClosed& closed);
// Version, ALPN, cipher, resumption and 0-RTT, as `-v` prints them after the handshake.
std::string describe(const quic::ConnectionInfo& info);
std::string describe(const quic::ConnectionStats& stats);
// "sent N datagrams in N calls (N GSO batches), received N in N calls (N GRO batches)"
// (scripts/bench reads this line).
std::string describe(const quic::uv::UdpSocket::Stats& stats);
// The TLS alert name for a CRYPTO_ERROR code (0x100 + alert), or "" for other codes.
std::string tls_alert_name(uint64_t transport_code);

}  // namespace quiver
