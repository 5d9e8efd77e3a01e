// One-line descriptions of what a connection negotiated, its statistics and how it ended, for
// -v and for error messages.
#pragma once

#include <string>

#include "quic/connection_info.h"
#include "quic/error.h"
#include "quic/uv/transport.h"

namespace quiver {

// "closed by the peer: APPLICATION_ERROR 0x0 (server shutting down)", "idle timeout", ...
std::string describe(const quic::Error& why);
// Version, ALPN, cipher, resumption and 0-RTT, as `-v` prints them after the handshake.
std::string describe(const quic::ConnectionInfo& info);
std::string describe(const quic::ConnectionStats& stats);
// "sent N datagrams in N calls (N GSO batches), received N in N calls (N GRO batches)"
// (scripts/bench reads this line).
std::string describe(const quic::uv::SocketStats& stats);

}  // namespace quiver
