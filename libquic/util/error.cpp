#include "quic/error.h"

#include <openssl/ssl.h>

#include <cstdio>

namespace quic {

std::string transport_error_name(uint64_t code) {
    static constexpr const char* kNames[] = {
        "NO_ERROR",
        "INTERNAL_ERROR",
        "CONNECTION_REFUSED",
        "FLOW_CONTROL_ERROR",
        "STREAM_LIMIT_ERROR",
        "STREAM_STATE_ERROR",
        "FINAL_SIZE_ERROR",
        "FRAME_ENCODING_ERROR",
        "TRANSPORT_PARAMETER_ERROR",
        "CONNECTION_ID_LIMIT_ERROR",
        "PROTOCOL_VIOLATION",
        "INVALID_TOKEN",
        "APPLICATION_ERROR",
        "CRYPTO_BUFFER_EXCEEDED",
        "KEY_UPDATE_ERROR",
        "AEAD_LIMIT_REACHED",
        "NO_VIABLE_PATH",
        "VERSION_NEGOTIATION_ERROR",
    };
    char buf[48];
    if (code < sizeof(kNames) / sizeof(kNames[0])) return kNames[code];
    if (code >= 0x0100 && code <= 0x01ff) {
        std::snprintf(buf, sizeof buf, "CRYPTO_ERROR(0x%llx)", (unsigned long long)code);
        return buf;
    }
    std::snprintf(buf, sizeof buf, "UNKNOWN_ERROR(0x%llx)", (unsigned long long)code);
    return buf;
}

std::string tls_alert_description(uint64_t code) {
    if (code < 0x100 || code > 0x1ff) return "";
    return SSL_alert_desc_string_long(static_cast<int>(code - 0x100));
}

const char* error_kind_name(ErrorKind k) {
    switch (k) {
        case ErrorKind::kProtocol:
            return "protocol error";
        case ErrorKind::kIdleTimeout:
            return "idle timeout";
        case ErrorKind::kHandshakeTimeout:
            return "handshake timeout";
        case ErrorKind::kStatelessReset:
            return "stateless reset";
        case ErrorKind::kVersionNegotiation:
            return "no common QUIC version";
        case ErrorKind::kUnreachable:
            return "unreachable";
        case ErrorKind::kStreamReset:
            return "stream reset";
        case ErrorKind::kStreamStopped:
            return "stream stopped";
        case ErrorKind::kDeadlineExceeded:
            return "deadline exceeded";
        case ErrorKind::kWouldBlock:
            return "would block";
        case ErrorKind::kClosed:
            return "closed";
        case ErrorKind::kInvalidArgument:
            return "invalid argument";
        case ErrorKind::kSocket:
            return "socket error";
    }
    return "error";
}

std::string Error::to_string() const {
    std::string out;
    char buf[64];
    if (kind != ErrorKind::kProtocol) {
        out = error_kind_name(kind);
        if (kind == ErrorKind::kStreamReset || kind == ErrorKind::kStreamStopped) {
            std::snprintf(buf, sizeof buf, " (code 0x%llx%s)", (unsigned long long)code,
                          remote ? ", by the peer" : "");
            out += buf;
        }
        if (!reason.empty()) out += ": " + reason;
        return out;
    }
    if (space == ErrorSpace::kTransport) {
        out = transport_error_name(code);
        if (frame_type != 0) {
            std::snprintf(buf, sizeof buf, " (frame 0x%llx)", (unsigned long long)frame_type);
            out += buf;
        }
    } else {
        std::snprintf(buf, sizeof buf, "application error 0x%llx", (unsigned long long)code);
        out = buf;
    }
    if (!reason.empty()) out += ": " + reason;
    return out;
}

}  // namespace quic
