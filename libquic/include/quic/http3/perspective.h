// Which side of an HTTP/3 connection we are: some frames are only valid in one direction
// (RFC 9114 §7.2).
#pragma once

#include <cstdint>

namespace quic::h3 {

enum class Perspective : uint8_t { kClient, kServer };

}  // namespace quic::h3
