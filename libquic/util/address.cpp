#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdio>

#include "quic/address.h"

namespace quic {

SocketAddress SocketAddress::ipv4(std::array<uint8_t, 4> ip, uint16_t port) {
    SocketAddress a;
    a.family_ = Family::kIpv4;
    a.port_ = port;
    std::memcpy(a.ip_.data(), ip.data(), 4);
    return a;
}

SocketAddress SocketAddress::ipv6(std::array<uint8_t, 16> ip, uint16_t port) {
    SocketAddress a;
    a.family_ = Family::kIpv6;
    a.port_ = port;
    a.ip_ = ip;
    return a;
}

std::optional<SocketAddress> SocketAddress::from_ip(std::string_view ip, uint16_t port) {
    std::string s(ip);
    std::array<uint8_t, 16> buf{};
    if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1)
        return ipv4({buf[0], buf[1], buf[2], buf[3]}, port);
    if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) return ipv6(buf, port);
    return std::nullopt;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
    std::string_view host, port_text;
    if (!text.empty() && text.front() == '[') {
        size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
        return std::nullopt;
    return from_ip(host, static_cast<uint16_t>(port));
}

std::optional<SocketAddress> SocketAddress::from_sockaddr(const sockaddr* sa) {
    if (sa->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        std::array<uint8_t, 4> ip;
        std::memcpy(ip.data(), &in->sin_addr, 4);
        return ipv4(ip, ntohs(in->sin_port));
    }
    if (sa->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        std::array<uint8_t, 16> ip;
        std::memcpy(ip.data(), &in6->sin6_addr, 16);
        return ipv6(ip, ntohs(in6->sin6_port));
    }
    return std::nullopt;
}

unsigned SocketAddress::to_sockaddr(sockaddr_storage& out) const {
    std::memset(&out, 0, sizeof out);
    if (family_ == Family::kIpv4) {
        auto* in = reinterpret_cast<sockaddr_in*>(&out);
        in->sin_family = AF_INET;
        in->sin_port = htons(port_);
        std::memcpy(&in->sin_addr, ip_.data(), 4);
        return sizeof(sockaddr_in);
    }
    if (family_ == Family::kIpv6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port_);
        std::memcpy(&in6->sin6_addr, ip_.data(), 16);
        return sizeof(sockaddr_in6);
    }
    return 0;
}

std::string SocketAddress::to_string() const {
    // snprintf rather than string concatenation: g++ 12 at -O3 warns (-Wrestrict) on the latter.
    char ip[INET6_ADDRSTRLEN] = "";
    char out[INET6_ADDRSTRLEN + 16];
    if (family_ == Family::kIpv4) {
        inet_ntop(AF_INET, ip_.data(), ip, sizeof ip);
        std::snprintf(out, sizeof out, "%s:%u", ip, unsigned(port_));
        return out;
    }
    if (family_ == Family::kIpv6) {
        inet_ntop(AF_INET6, ip_.data(), ip, sizeof ip);
        std::snprintf(out, sizeof out, "[%s]:%u", ip, unsigned(port_));
        return out;
    }
    return "(none)";
}

std::string SocketAddress::encode() const {
    char buf[1 + 16 + 2];
    size_t n = 0;
    buf[n++] = static_cast<char>(family_);
    std::memcpy(buf + n, ip_.data(), ip_length());
    n += ip_length();
    buf[n++] = static_cast<char>(port_ >> 8);
    buf[n++] = static_cast<char>(port_ & 0xff);
    return std::string(buf, n);
}

size_t SocketAddress::hash() const {
    uint64_t h = 1469598103934665603ull ^ static_cast<uint8_t>(family_);
    for (size_t i = 0; i < ip_length(); ++i) h = (h ^ ip_[i]) * 1099511628211ull;
    h = (h ^ port_) * 1099511628211ull;
    return static_cast<size_t>(h);
}

}  // namespace quic
