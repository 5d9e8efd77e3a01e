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

// TLS encryption levels (RFC 9001 §4.1.4); the same order as BoringSSL's ssl_encryption_level_t.
enum class EncryptionLevel : uint8_t {
    kInitial = 0,
    kEarlyData = 1,
    kHandshake = 2,
    kApplication = 3
};

// RFC 9000 §12.3: which packet number space a packet type belongs to.
constexpr PacketNumberSpaceId space_of(PacketType type) {
    switch (type) {
        case PacketType::kInitial:
            return PacketNumberSpaceId::kInitial;
        case PacketType::kHandshake:
            return PacketNumberSpaceId::kHandshake;
        default:
            return PacketNumberSpaceId::kApplicationData;
    }
}

// The packet type that carries a space's packets (1-RTT for application data).
constexpr PacketType packet_type_of(PacketNumberSpaceId space) {
    switch (space) {
        case PacketNumberSpaceId::kInitial:
            return PacketType::kInitial;
        case PacketNumberSpaceId::kHandshake:
            return PacketType::kHandshake;
        default:
            return PacketType::kOneRtt;
    }
}

constexpr PacketNumberSpaceId space_of(EncryptionLevel level) {
    switch (level) {
        case EncryptionLevel::kInitial:
            return PacketNumberSpaceId::kInitial;
        case EncryptionLevel::kHandshake:
            return PacketNumberSpaceId::kHandshake;
        default:
            return PacketNumberSpaceId::kApplicationData;
    }
}

}  // namespace quic
