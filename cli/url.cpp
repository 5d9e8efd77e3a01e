#include "url.h"

#include <netdb.h>
#include <sys/socket.h>

#include <charconv>

namespace quiver {

std::optional<Url> parse_url(std::string_view text, std::string& error) {
    constexpr std::string_view kScheme = "https://";
    if (text.substr(0, kScheme.size()) != kScheme) {
        error = "only https:// URLs are supported";
        return std::nullopt;
    }
    std::string_view rest = text.substr(kScheme.size());
    const size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    Url url;
    url.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            error = "unterminated IPv6 literal";
            return std::nullopt;
        }
        url.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                error = "junk after the IPv6 literal";
                return std::nullopt;
            }
            port_text = after.substr(1);
        }
    } else {
        const size_t colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (url.host.empty()) {
        error = "no host";
        return std::nullopt;
    }
    if (!port_text.empty()) {
        unsigned port = 0;
        auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
            port > 65535) {
            error = "bad port '" + std::string(port_text) + "'";
            return std::nullopt;
        }
        url.port = static_cast<uint16_t>(port);
    }
    // A fragment never goes to the server.
    if (size_t hash = url.path.find('#'); hash != std::string::npos) url.path.resize(hash);
    return url;
}

std::optional<quic::SocketAddress> resolve(const std::string& host, uint16_t port,
                                           std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* result = nullptr;
    int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
    // AI_ADDRCONFIG hides ::1 and 127.0.0.1 on hosts with only loopback: try without.
    if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY) {
        hints.ai_flags = 0;
        rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
    }
    if (rc != 0) {
        error = gai_strerror(rc);
        return std::nullopt;
    }
    std::optional<quic::SocketAddress> out;
    for (addrinfo* ai = result; ai && !out; ai = ai->ai_next)
        out = quic::SocketAddress::from_sockaddr(ai->ai_addr);
    freeaddrinfo(result);
    if (!out) {
        error = "no usable address";
        return std::nullopt;
    }
    out->set_port(port);
    return out;
}

quic::SocketAddress local_wildcard_for(const quic::SocketAddress& remote) {
    return *quic::SocketAddress::parse(
        remote.family() == quic::SocketAddress::Family::kIpv4 ? "0.0.0.0:0" : "[::]:0");
}

}  // namespace quiver
