// IP packets as the simulator sees them on its TUN devices (no link-layer header): just
// enough of IPv4 (RFC 791), IPv6 (RFC 8200) and UDP (RFC 768) to route a packet by its
// destination, find its UDP payload, rewrite a NAT's address and port, and make the
// checksums right again after a change. Anything malformed is reported as "not UDP" and
// forwarded or dropped by the caller, never trusted.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace netsim {

using Packet = std::vector<uint8_t>;

// An IPv4 or IPv6 address (IPv4 kept in the first 4 bytes).
struct IpAddress {
    uint8_t version = 0;  // 4 or 6; 0 = none
    std::array<uint8_t, 16> bytes{};

    static IpAddress v4(uint32_t host_order);
    static std::optional<IpAddress> parse(const std::string& text);
    uint32_t v4_value() const;  // host order; IPv4 only
    std::string to_string() const;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

// Where a packet's parts are; offsets into the packet.
struct UdpView {
    uint8_t ip_version = 0;
    size_t udp_offset = 0;      // the UDP header
    size_t payload_offset = 0;  // the UDP payload
    size_t payload_size = 0;
};

uint8_t ip_version(std::span<const uint8_t> p);
std::optional<IpAddress> source_address(std::span<const uint8_t> p);
std::optional<IpAddress> destination_address(std::span<const uint8_t> p);
// A well-formed, unfragmented UDP datagram over IPv4 or IPv6 (no IPv6 extension headers:
// the endpoints here send none), or nullopt.
std::optional<UdpView> parse_udp(std::span<const uint8_t> p);

uint16_t source_port(std::span<const uint8_t> p, const UdpView& v);
uint16_t destination_port(std::span<const uint8_t> p, const UdpView& v);
void set_source_port(Packet& p, const UdpView& v, uint16_t port);
void set_destination_port(Packet& p, const UdpView& v, uint16_t port);
// IPv4 only.
void set_source_address(Packet& p, const IpAddress& a);
void set_destination_address(Packet& p, const IpAddress& a);

// Recomputes the IPv4 header checksum and the UDP checksum (RFC 768; over IPv6, RFC 8200
// §8.1) after the packet was changed.
void fix_checksums(Packet& p, const UdpView& v);
// True when the IPv4 header checksum (if IPv4) and the UDP checksum verify.
bool checksums_valid(std::span<const uint8_t> p, const UdpView& v);

// A QUIC Version Negotiation packet (RFC 9000 §17.2.1): long header, version 0.
bool is_version_negotiation(std::span<const uint8_t> udp_payload);

// Builds an IPv4/UDP or IPv6/UDP packet with valid checksums (tests, the probe).
Packet make_udp_packet(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport,
                       std::span<const uint8_t> payload, uint8_t traffic_class = 0);

}  // namespace netsim
