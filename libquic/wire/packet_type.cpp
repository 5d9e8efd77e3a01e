#include "quic/packet_type.h"

namespace quic {

const char* packet_type_name(PacketType t) {
    switch (t) {
        case PacketType::kInitial:
            return "initial";
        case PacketType::kZeroRtt:
            return "0RTT";
        case PacketType::kHandshake:
            return "handshake";
        case PacketType::kRetry:
            return "retry";
        case PacketType::kVersionNegotiation:
            return "version_negotiation";
        case PacketType::kOneRtt:
            return "1RTT";
    }
    return "unknown";
}

}  // namespace quic
