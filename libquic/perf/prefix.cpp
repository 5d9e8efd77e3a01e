// The request prefix (draft-banks-quic-performance-00 §2.3.1) and the payload buffer.
#include <algorithm>
#include <array>

#include "perf/zeros.h"
#include "quic/perf.h"

namespace quic::perf {

std::array<uint8_t, kRequestPrefixSize> encode_request_prefix(uint64_t response_size) {
    std::array<uint8_t, kRequestPrefixSize> out{};
    ByteWriter(out).write_uint(response_size, kRequestPrefixSize);
    return out;
}

uint64_t decode_request_prefix(const std::array<uint8_t, kRequestPrefixSize>& prefix) {
    uint64_t v = 0;
    ByteReader(prefix).read_uint(kRequestPrefixSize, v);
    return v;
}

ByteSpan zeros(size_t n) {
    static const std::array<uint8_t, kChunkSize> kZeros{};  // constant: no mutable state
    return ByteSpan(kZeros).first(std::min(n, kZeros.size()));
}

const char* request_end_name(RequestEnd e) {
    switch (e) {
        case RequestEnd::kComplete:
            return "complete";
        case RequestEnd::kStopped:
            return "stopped";
        case RequestEnd::kReset:
            return "reset";
        case RequestEnd::kWrongSize:
            return "wrong size";
        case RequestEnd::kConnectionClosed:
            return "connection closed";
    }
    return "?";
}

}  // namespace quic::perf
