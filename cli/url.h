// https URLs as the client takes them: https://host[:port]/path, the host a name, an IPv4
// literal or an IPv6 literal in brackets; the port defaults to 443.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quic/address.h"

namespace quiver {

struct Url {
    std::string host;  // without brackets
    uint16_t port = 443;
    std::string path;  // starts with '/'
};

// Sets `error` and returns nullopt when the URL does not parse.
std::optional<Url> parse_url(std::string_view text, std::string& error);

// getaddrinfo; on failure sets `error` to its message (gai_strerror).
std::optional<quic::SocketAddress> resolve(const std::string& host, uint16_t port,
                                           std::string& error);

// The local address a client binds to reach `remote`: the wildcard of its family, any port.
quic::SocketAddress local_wildcard_for(const quic::SocketAddress& remote);

}  // namespace quiver
