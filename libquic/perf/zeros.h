// Payload bytes for both sides of the perf protocol: zeros, from one read-only buffer.
#pragma once

#include <cstddef>

#include "quic/bytes.h"

namespace quic::perf {

// The first n (at most kChunkSize) bytes of a constant zero buffer.
ByteSpan zeros(size_t n);

}  // namespace quic::perf
