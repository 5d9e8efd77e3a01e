// Packet types, independent of the version's wire encoding (RFC 9000 §17, RFC 9369 §3.2).
#pragma once

#include <cstdint>

namespace quic {

enum class PacketType : uint8_t {
    kInitial,
    kZeroRtt,
    kHandshake,
    kRetry,
    kVersionNegotiation,
    kOneRtt,  // short header
};

const char* packet_type_name(PacketType t);  // qlog names: "initial", "0RTT", "1RTT", ...

// Packet number spaces, RFC 9000 §12.3: 0-RTT and 1-RTT share the application data space.
enum class PacketNumberSpaceId : uint8_t { kInitial = 0, kHandshake = 1, kApplicationData = 2 };

}  // namespace quic
