// What a connection tells its application (docs/architecture.md: "endpoint and connection talk
// through events", as in quinn-proto). Drained with Connection::poll_event().
#pragma once

#include <cstdint>
#include <variant>

#include "quic/bytes.h"
#include "quic/error.h"

namespace quic {

// The TLS handshake is complete (RFC 9001 §4.1.1): 1-RTT keys, ALPN and peer parameters known.
struct HandshakeCompleted {};
// RFC 9001 §4.1.2: the server has completed and, for the client, HANDSHAKE_DONE arrived.
struct HandshakeConfirmed {};
// The peer opened a stream (RFC 9000 §3.2: lower-numbered streams of its type open too).
struct StreamOpened {
    uint64_t stream_id;
};
struct StreamReadable {
    uint64_t stream_id;
};
// Send buffer space or flow-control credit became available after a refusal.
struct StreamWritable {
    uint64_t stream_id;
};
// RESET_STREAM received: the peer abandoned sending.
struct StreamResetReceived {
    uint64_t stream_id;
    uint64_t error_code;
};
// STOP_SENDING received: the peer will not read; we answered with RESET_STREAM.
struct StopSendingReceived {
    uint64_t stream_id;
    uint64_t error_code;
};
// More streams of a direction may be opened (MAX_STREAMS raised).
struct StreamsAvailable {
    bool bidirectional;
};
struct DatagramReceived {
    Bytes data;
};
// A resumption ticket (TLS session plus the server's transport parameters) to store.
struct SessionTicketReceived {
    Bytes ticket;
};
// An address-validation token from NEW_TOKEN (RFC 9000 §8.1.3), for the next connection.
struct NewTokenReceived {
    Bytes token;
};
// The server refused our 0-RTT data; the connection resends it in 1-RTT on its own.
struct ZeroRttRejected {};

enum class CloseOrigin : uint8_t {
    kLocal,             // the application closed, or we detected a protocol error
    kPeer,              // CONNECTION_CLOSE received
    kIdleTimeout,       // RFC 9000 §10.1
    kHandshakeTimeout,  // the handshake took longer than configured
    kStatelessReset,    // RFC 9000 §10.3
    kVersionMismatch,   // Version Negotiation offered no version we speak (RFC 9000 §6.2)
};
const char* close_origin_name(CloseOrigin o);

struct ConnectionClosed {
    CloseOrigin origin;
    Error error;
};

using ConnectionEvent =
    std::variant<HandshakeCompleted, HandshakeConfirmed, StreamOpened, StreamReadable,
                 StreamWritable, StreamResetReceived, StopSendingReceived, StreamsAvailable,
                 DatagramReceived, SessionTicketReceived, NewTokenReceived, ZeroRttRejected,
                 ConnectionClosed>;

}  // namespace quic
