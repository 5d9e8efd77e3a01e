#include "ip_packet.h"

#include <arpa/inet.h>

#include <cstring>

namespace netsim {

namespace {

constexpr uint8_t kUdp = 17;
constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr size_t kUdpHeader = 8;

uint16_t get16(std::span<const uint8_t> p, size_t at) {
    return static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
}
void put16(Packet& p, size_t at, uint16_t v) {
    p[at] = static_cast<uint8_t>(v >> 8);
    p[at + 1] = static_cast<uint8_t>(v);
}

// The 16-bit one's complement sum (RFC 1071) of a byte range, added to `sum`.
uint32_t add_ones(uint32_t sum, std::span<const uint8_t> bytes) {
    size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
    if (i < bytes.size()) sum += static_cast<uint32_t>(bytes[i] << 8);
    return sum;
}
uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

uint16_t ipv4_header_checksum(std::span<const uint8_t> p, size_t ihl) {
    uint32_t sum = add_ones(0, p.subspan(0, 10));
    return fold(add_ones(sum, p.subspan(12, ihl - 12)));
}

// The UDP checksum with the checksum field counted as zero.
uint16_t udp_checksum(std::span<const uint8_t> p, const UdpView& v) {
    const size_t udp_len = kUdpHeader + v.payload_size;
    uint32_t sum = 0;
    if (v.ip_version == 4) {
        sum = add_ones(sum, p.subspan(12, 8));  // source and destination addresses
        sum += kUdp + static_cast<uint32_t>(udp_len);
    } else {
        sum = add_ones(sum, p.subspan(8, 32));
        sum += static_cast<uint32_t>(udp_len >> 16) + static_cast<uint32_t>(udp_len & 0xffff);
        sum += kUdp;
    }
    sum = add_ones(sum, p.subspan(v.udp_offset, 6));
    sum = add_ones(sum, p.subspan(v.payload_offset, v.payload_size));
    uint16_t c = fold(sum);
    return c == 0 ? 0xffff : c;  // RFC 768: a computed zero is sent as all ones
}

}  // namespace

IpAddress IpAddress::v4(uint32_t host_order) {
    IpAddress a;
    a.version = 4;
    for (int i = 0; i < 4; ++i) a.bytes[i] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
    return a;
}

std::optional<IpAddress> IpAddress::parse(const std::string& text) {
    IpAddress a;
    if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
        a.version = 4;
        return a;
    }
    if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
        a.version = 6;
        return a;
    }
    return std::nullopt;
}

uint32_t IpAddress::v4_value() const {
    return static_cast<uint32_t>(bytes[0]) << 24 | static_cast<uint32_t>(bytes[1]) << 16 |
           static_cast<uint32_t>(bytes[2]) << 8 | bytes[3];
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = "-";
    if (version == 4) inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
    if (version == 6) inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

uint8_t ip_version(std::span<const uint8_t> p) {
    if (p.empty()) return 0;
    const uint8_t v = p[0] >> 4;
    if (v == 4 && p.size() >= kIpv4MinHeader) return 4;
    if (v == 6 && p.size() >= kIpv6Header) return 6;
    return 0;
}

namespace {
std::optional<IpAddress> address_at(std::span<const uint8_t> p, size_t v4_at, size_t v6_at) {
    IpAddress a;
    switch (ip_version(p)) {
        case 4:
            a.version = 4;
            std::memcpy(a.bytes.data(), p.data() + v4_at, 4);
            return a;
        case 6:
            a.version = 6;
            std::memcpy(a.bytes.data(), p.data() + v6_at, 16);
            return a;
        default:
            return std::nullopt;
    }
}
}  // namespace

std::optional<IpAddress> source_address(std::span<const uint8_t> p) {
    return address_at(p, 12, 8);
}
std::optional<IpAddress> destination_address(std::span<const uint8_t> p) {
    return address_at(p, 16, 24);
}

std::optional<UdpView> parse_udp(std::span<const uint8_t> p) {
    UdpView v;
    v.ip_version = ip_version(p);
    if (v.ip_version == 4) {
        const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
        const size_t total = get16(p, 2);
        const bool fragment = (get16(p, 6) & 0x3fff) != 0;  // MF flag or an offset
        if (ihl < kIpv4MinHeader || total > p.size() || total < ihl + kUdpHeader) return {};
        if (p[9] != kUdp || fragment) return {};
        v.udp_offset = ihl;
    } else if (v.ip_version == 6) {
        if (p[6] != kUdp || kIpv6Header + get16(p, 4) > p.size()) return {};
        v.udp_offset = kIpv6Header;
    } else {
        return {};
    }
    const size_t udp_len = get16(p, v.udp_offset + 4);
    if (udp_len < kUdpHeader || v.udp_offset + udp_len > p.size()) return {};
    v.payload_offset = v.udp_offset + kUdpHeader;
    v.payload_size = udp_len - kUdpHeader;
    return v;
}

uint16_t source_port(std::span<const uint8_t> p, const UdpView& v) {
    return get16(p, v.udp_offset);
}
uint16_t destination_port(std::span<const uint8_t> p, const UdpView& v) {
    return get16(p, v.udp_offset + 2);
}
void set_source_port(Packet& p, const UdpView& v, uint16_t port) {
    put16(p, v.udp_offset, port);
}
void set_destination_port(Packet& p, const UdpView& v, uint16_t port) {
    put16(p, v.udp_offset + 2, port);
}
void set_source_address(Packet& p, const IpAddress& a) {
    std::memcpy(p.data() + 12, a.bytes.data(), 4);
}
void set_destination_address(Packet& p, const IpAddress& a) {
    std::memcpy(p.data() + 16, a.bytes.data(), 4);
}

void fix_checksums(Packet& p, const UdpView& v) {
    if (v.ip_version == 4) {
        const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
        put16(p, 10, ipv4_header_checksum(p, ihl));
    }
    put16(p, v.udp_offset + 6, udp_checksum(p, v));
}

bool checksums_valid(std::span<const uint8_t> p, const UdpView& v) {
    if (v.ip_version == 4) {
        const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
        if (get16(p, 10) != ipv4_header_checksum(p, ihl)) return false;
        if (get16(p, v.udp_offset + 6) == 0) return true;  // IPv4: no checksum sent
    }
    return get16(p, v.udp_offset + 6) == udp_checksum(p, v);
}

bool is_version_negotiation(std::span<const uint8_t> udp_payload) {
    return udp_payload.size() >= 5 && (udp_payload[0] & 0x80) != 0 && udp_payload[1] == 0 &&
           udp_payload[2] == 0 && udp_payload[3] == 0 && udp_payload[4] == 0;
}

Packet make_udp_packet(const IpAddress& src, uint16_t sport, const IpAddress& dst, uint16_t dport,
                       std::span<const uint8_t> payload, uint8_t traffic_class) {
    const size_t ip_header = src.version == 4 ? kIpv4MinHeader : kIpv6Header;
    Packet p(ip_header + kUdpHeader + payload.size(), 0);
    const size_t udp_len = kUdpHeader + payload.size();
    if (src.version == 4) {
        p[0] = 0x45;
        p[1] = traffic_class;
        put16(p, 2, static_cast<uint16_t>(p.size()));
        p[6] = 0x40;  // don't fragment
        p[8] = 64;    // TTL
        p[9] = kUdp;
        std::memcpy(p.data() + 12, src.bytes.data(), 4);
        std::memcpy(p.data() + 16, dst.bytes.data(), 4);
    } else {
        p[0] = static_cast<uint8_t>(0x60 | traffic_class >> 4);
        p[1] = static_cast<uint8_t>(traffic_class << 4);
        put16(p, 4, static_cast<uint16_t>(udp_len));
        p[6] = kUdp;
        p[7] = 64;  // hop limit
        std::memcpy(p.data() + 8, src.bytes.data(), 16);
        std::memcpy(p.data() + 24, dst.bytes.data(), 16);
    }
    put16(p, ip_header, sport);
    put16(p, ip_header + 2, dport);
    put16(p, ip_header + 4, static_cast<uint16_t>(udp_len));
    if (!payload.empty())
        std::memcpy(p.data() + ip_header + kUdpHeader, payload.data(), payload.size());
    fix_checksums(p, *parse_udp(p));
    return p;
}

}  // namespace netsim
