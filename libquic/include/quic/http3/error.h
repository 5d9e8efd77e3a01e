// HTTP/3 and QPACK error codes (RFC 9114 §8.1, RFC 9204 §6). They are application error codes
// (RFC 9000 §20.2): every error here is a quic::Error::application(code, reason), so the
// connection maps it to the wire in the one place that maps all errors (docs/architecture.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quic/error.h"

namespace quic::h3 {

enum class H3Error : uint64_t {
    // RFC 9114 §8.1.
    kNoError = 0x100,
    kGeneralProtocolError = 0x101,
    kInternalError = 0x102,
    kStreamCreationError = 0x103,
    kClosedCriticalStream = 0x104,
    kFrameUnexpected = 0x105,
    kFrameError = 0x106,
    kExcessiveLoad = 0x107,
    kIdError = 0x108,
    kSettingsError = 0x109,
    kMissingSettings = 0x10a,
    kRequestRejected = 0x10b,
    kRequestCancelled = 0x10c,
    kRequestIncomplete = 0x10d,
    kMessageError = 0x10e,
    kConnectError = 0x10f,
    kVersionFallback = 0x110,
    // RFC 9204 §6.
    kQpackDecompressionFailed = 0x200,
    kQpackEncoderStreamError = 0x201,
    kQpackDecoderStreamError = 0x202,
};

constexpr uint64_t to_underlying(H3Error e) {
    return static_cast<uint64_t>(e);
}

inline Error h3_error(H3Error code, std::string reason = {}) {
    return Error::application(to_underlying(code), std::move(reason));
}

inline bool is_h3_error(const Error& e, H3Error code) {
    return e.space == ErrorSpace::kApplication && e.code == to_underlying(code);
}

// "H3_FRAME_UNEXPECTED", "QPACK_DECOMPRESSION_FAILED"; reserved codes (§8.1: 0x1f*N+0x21)
// and unknown ones are named "H3_UNKNOWN(0x...)" (§9: treated as H3_NO_ERROR on receipt).
std::string h3_error_name(uint64_t code);

}  // namespace quic::h3
