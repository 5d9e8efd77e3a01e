#include "quic/http3/error.h"

#include <cstdio>
#include <iterator>

namespace quic::h3 {

std::string h3_error_name(uint64_t code) {
    // RFC 9114 §8.1, in code order from 0x100.
    static constexpr const char* kH3Names[] = {
        "H3_NO_ERROR",
        "H3_GENERAL_PROTOCOL_ERROR",
        "H3_INTERNAL_ERROR",
        "H3_STREAM_CREATION_ERROR",
        "H3_CLOSED_CRITICAL_STREAM",
        "H3_FRAME_UNEXPECTED",
        "H3_FRAME_ERROR",
        "H3_EXCESSIVE_LOAD",
        "H3_ID_ERROR",
        "H3_SETTINGS_ERROR",
        "H3_MISSING_SETTINGS",
        "H3_REQUEST_REJECTED",
        "H3_REQUEST_CANCELLED",
        "H3_REQUEST_INCOMPLETE",
        "H3_MESSAGE_ERROR",
        "H3_CONNECT_ERROR",
        "H3_VERSION_FALLBACK",
    };
    // RFC 9204 §6, from 0x200.
    static constexpr const char* kQpackNames[] = {
        "QPACK_DECOMPRESSION_FAILED",
        "QPACK_ENCODER_STREAM_ERROR",
        "QPACK_DECODER_STREAM_ERROR",
    };
    if (code >= 0x100 && code < 0x100 + std::size(kH3Names)) return kH3Names[code - 0x100];
    if (code >= 0x200 && code < 0x200 + std::size(kQpackNames)) return kQpackNames[code - 0x200];
    char buf[48];
    std::snprintf(buf, sizeof buf, "H3_UNKNOWN(0x%llx)", static_cast<unsigned long long>(code));
    return buf;
}

}  // namespace quic::h3
