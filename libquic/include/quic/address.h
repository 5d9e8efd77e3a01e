// A UDP socket address (IPv4 or IPv6 and a port), as plain data: the core compares and hashes
// addresses (paths, tokens) but never touches a socket.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace quic {

class SocketAddress {
  public:
    enum class Family : uint8_t { kNone, kIpv4, kIpv6 };

    SocketAddress() = default;
    static SocketAddress ipv4(std::array<uint8_t, 4> ip, uint16_t port);
    static SocketAddress ipv6(std::array<uint8_t, 16> ip, uint16_t port);
    // "127.0.0.1:4433", "[::1]:4433"; nullopt when it does not parse.
    static std::optional<SocketAddress> parse(std::string_view text);
    // An IP literal without a port ("10.0.0.1", "::1").
    static std::optional<SocketAddress> from_ip(std::string_view ip, uint16_t port);
    static std::optional<SocketAddress> from_sockaddr(const sockaddr* sa);

    Family family() const { return family_; }
    bool empty() const { return family_ == Family::kNone; }
    uint16_t port() const { return port_; }
    void set_port(uint16_t p) { port_ = p; }
    const uint8_t* ip() const { return ip_.data(); }
    size_t ip_length() const {
        return family_ == Family::kIpv4 ? 4 : family_ == Family::kIpv6 ? 16 : 0;
    }

    // Fills a sockaddr_storage; returns its length (0 for an empty address).
    unsigned to_sockaddr(sockaddr_storage& out) const;
    std::string to_string() const;
    // A stable byte encoding (family, ip, port) for address-validation tokens.
    std::string encode() const;

    friend bool operator==(const SocketAddress& a, const SocketAddress& b) {
        return a.family_ == b.family_ && a.port_ == b.port_ &&
               std::memcmp(a.ip_.data(), b.ip_.data(), a.ip_length()) == 0;
    }
    bool same_ip(const SocketAddress& o) const {
        return family_ == o.family_ && std::memcmp(ip_.data(), o.ip_.data(), ip_length()) == 0;
    }
    size_t hash() const;

  private:
    Family family_ = Family::kNone;
    uint16_t port_ = 0;
    std::array<uint8_t, 16> ip_{};
};

// A network path: our local address and the peer's (RFC 9000 §9).
struct Path {
    SocketAddress local;
    SocketAddress remote;
    friend bool operator==(const Path& a, const Path& b) = default;
};

}  // namespace quic
