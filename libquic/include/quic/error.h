// One error model for the whole library (docs/architecture.md, "Errors and limits").
//
// An Error is either a transport error (RFC 9000 §20.1, sent in a CONNECTION_CLOSE of type
// 0x1c) or an application error (§20.2, type 0x1d). The receive path returns Result<T>
// (quic/result.h) carrying one of these; conn/ maps it to the wire in one place.
//
// The public API reports failures with the same type; `kind` says which of quic-go's error
// types it is (idle timeout, handshake timeout, stateless reset, version negotiation, a
// stream cancelled by the peer, a deadline...), and `remote` whether the peer caused it.
// Inside the core every error is kind kProtocol.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace quic {

// RFC 9000 §20.1, Table 7. CRYPTO_ERROR is a range: 0x0100 + the TLS alert (RFC 9001 §4.8).
enum class TransportErrorCode : uint64_t {
    kNoError = 0x00,
    kInternalError = 0x01,
    kConnectionRefused = 0x02,
    kFlowControlError = 0x03,
    kStreamLimitError = 0x04,
    kStreamStateError = 0x05,
    kFinalSizeError = 0x06,
    kFrameEncodingError = 0x07,
    kTransportParameterError = 0x08,
    kConnectionIdLimitError = 0x09,
    kProtocolViolation = 0x0a,
    kInvalidToken = 0x0b,
    kApplicationError = 0x0c,
    kCryptoBufferExceeded = 0x0d,
    kKeyUpdateError = 0x0e,
    kAeadLimitReached = 0x0f,
    kNoViablePath = 0x10,
    // RFC 9368 §10.2.
    kVersionNegotiationError = 0x11,
    kCryptoErrorBase = 0x0100,
};

// The name RFC 9000 gives a transport error code ("FRAME_ENCODING_ERROR", "CRYPTO_ERROR(0x12a)").
std::string transport_error_name(uint64_t code);
// For a CRYPTO_ERROR (0x0100 + a TLS alert, RFC 9001 §4.8): the alert's description
// ("certificate verify failed"); "" for other codes.
std::string tls_alert_description(uint64_t transport_code);

enum class ErrorSpace : uint8_t { kTransport, kApplication };

// What failed, as an API caller needs to tell (quic-go: TransportError, ApplicationError,
// IdleTimeoutError, HandshakeTimeoutError, StatelessResetError, VersionNegotiationError,
// StreamError, net.Error timeouts).
enum class ErrorKind : uint8_t {
    kProtocol,            // a transport or application error code (see space); the default
    kIdleTimeout,         // RFC 9000 §10.1: nothing heard from the peer for the idle timeout
    kHandshakeTimeout,    // the handshake did not complete in time
    kStatelessReset,      // RFC 9000 §10.3: the peer lost its state
    kVersionNegotiation,  // RFC 9000 §6.2: no version in common
    kUnreachable,         // ICMP: nothing listens at the peer's address (before any reply)
    kStreamReset,         // the stream's receive side was reset (code: the application's)
    kStreamStopped,       // the peer asked us to stop sending (STOP_SENDING; code: its)
    kDeadlineExceeded,    // a deadline or timeout the caller set passed
    kWouldBlock,          // not possible now (no stream credit, no buffer): retry later
    kClosed,              // the connection, stream or transport is closed
    kInvalidArgument,     // the call makes no sense (unknown stream, oversized datagram...)
    kSocket,              // the operating system refused (bind, send, receive)
};
const char* error_kind_name(ErrorKind k);

struct Error {
    ErrorSpace space = ErrorSpace::kTransport;
    uint64_t code = 0;
    // The frame type that triggered a transport error (0 when unknown), RFC 9000 §19.19.
    uint64_t frame_type = 0;
    std::string reason;
    ErrorKind kind = ErrorKind::kProtocol;
    // The peer caused it (its CONNECTION_CLOSE, RESET_STREAM, STOP_SENDING, stateless reset).
    bool remote = false;

    static Error transport(TransportErrorCode c, std::string why = {}, uint64_t frame = 0) {
        return Error{ErrorSpace::kTransport, static_cast<uint64_t>(c), frame, std::move(why)};
    }
    static Error application(uint64_t c, std::string why = {}) {
        return Error{ErrorSpace::kApplication, c, 0, std::move(why)};
    }

    // An API failure of `k` (space and code as the kind implies; code 0 when it has none).
    static Error of_kind(ErrorKind k, std::string why = {}, uint64_t c = 0, bool by_peer = false) {
        Error e{ErrorSpace::kApplication, c, 0, std::move(why)};
        if (k == ErrorKind::kProtocol) e.space = ErrorSpace::kTransport;
        e.kind = k;
        e.remote = by_peer;
        return e;
    }
    // Timeouts, as Go's net.Error.Timeout(): idle, handshake and deadlines.
    bool is_timeout() const {
        return kind == ErrorKind::kIdleTimeout || kind == ErrorKind::kHandshakeTimeout ||
               kind == ErrorKind::kDeadlineExceeded;
    }

    bool is_transport(TransportErrorCode c) const {
        return space == ErrorSpace::kTransport && code == static_cast<uint64_t>(c);
    }
    // "FRAME_ENCODING_ERROR (frame 0x2): reason" — for logs and one-line CLI messages.
    std::string to_string() const;
};

}  // namespace quic
