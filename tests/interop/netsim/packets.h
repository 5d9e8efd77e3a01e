// Test packets for the simulator's unit tests: real IPv4/IPv6 UDP packets with valid
// checksums, numbered in their payload so a test can tell which ones came through.
#pragma once

#include <cstdint>
#include <vector>

#include "ip_packet.h"
#include "quic/time.h"

namespace netsim::test {

inline const IpAddress kClient = *IpAddress::parse("193.167.0.100");
inline const IpAddress kServer = *IpAddress::parse("193.167.100.100");

constexpr quic::Time at_ms(double ms) {
    return quic::time_from_ns(static_cast<int64_t>(ms * 1e6));
}
constexpr quic::Duration ms(double n) {
    return quic::Duration(static_cast<int64_t>(n * 1e6));
}

// A 1-RTT-looking QUIC packet (short header) of `size` IP bytes carrying `number`.
inline Packet numbered(uint32_t number, size_t size = 1250, const IpAddress& src = kClient,
                       uint16_t sport = 50000, const IpAddress& dst = kServer, uint16_t dport = 443,
                       uint8_t tos = 0) {
    const size_t header = (src.version == 4 ? 20 : 40) + 8;
    std::vector<uint8_t> payload(size - header, 0x5a);
    payload[0] = 0x40;  // short header
    for (int i = 0; i < 4; ++i) payload[1 + i] = static_cast<uint8_t>(number >> (24 - 8 * i));
    return make_udp_packet(src, sport, dst, dport, payload, tos);
}

inline uint32_t number_of(const Packet& p) {
    const auto v = parse_udp(p);
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = n << 8 | p[v->payload_offset + 1 + i];
    return n;
}

}  // namespace netsim::test
