#include "nat.h"

#include <algorithm>

namespace netsim {

const char* nat_drop_name(NatDrop d) {
    return d == NatDrop::kStaleMapping ? "stale-mapping" : "unknown-source";
}

Nat::Nat(RebindConfig config, uint64_t seed)
    : config_(config), random_(seed), public_address_(config.client), next_(config.first) {}

uint16_t Nat::fresh_port() {
    for (;;) {
        const auto port = static_cast<uint16_t>(1 + random_.uniform(65535));
        if (client_port_.count(port) == 0) return port;
    }
}

std::string Nat::rebind() {
    ++rebinds_;
    next_ = config_.every.count() > 0 ? next_ + config_.every : quic::Duration::max();
    const IpAddress old_address = public_address_;
    if (config_.change_address) {
        // Another host in the client's /24 (1..254), never the client's own address.
        const uint32_t net = config_.client.v4_value() & 0xffffff00u;
        do {
            public_address_ = IpAddress::v4(net | static_cast<uint32_t>(1 + random_.uniform(254)));
        } while (public_address_ == old_address || public_address_ == config_.client ||
                 std::find(config_.reserved.begin(), config_.reserved.end(), public_address_) !=
                     config_.reserved.end());
    }
    std::string log;
    std::map<uint16_t, uint16_t> renewed;
    client_port_.clear();
    for (auto& [client, old_port] : public_port_) {
        const uint16_t port = fresh_port();
        client_port_[port] = client;
        renewed[client] = port;
        log += old_address.to_string() + ":" + std::to_string(old_port) + " -> " +
               public_address_.to_string() + ":" + std::to_string(port) + "\n";
    }
    public_port_ = std::move(renewed);
    return log;
}

std::optional<NatDrop> Nat::outbound(Packet& packet) {
    const auto v = parse_udp(packet);
    if (!v || v->ip_version != 4) return std::nullopt;  // the NAT is IPv4/UDP only
    if (source_address(packet) != config_.client) return NatDrop::kUnknownSource;
    const uint16_t client = source_port(packet, *v);
    auto it = public_port_.find(client);
    if (it == public_port_.end()) {
        if (public_port_.size() >= kMaxNatFlows) return NatDrop::kUnknownSource;
        // A new flow keeps its port until the next rebinding, unless another flow has it.
        const uint16_t port = client_port_.count(client) == 0 ? client : fresh_port();
        it = public_port_.emplace(client, port).first;
        client_port_[port] = client;
    }
    set_source_address(packet, public_address_);
    set_source_port(packet, *v, it->second);
    fix_checksums(packet, *v);
    return std::nullopt;
}

std::optional<NatDrop> Nat::inbound(Packet& packet) {
    const auto v = parse_udp(packet);
    if (!v || v->ip_version != 4) return std::nullopt;
    if (source_address(packet) != config_.server) return NatDrop::kUnknownSource;
    auto it = client_port_.find(destination_port(packet, *v));
    if (destination_address(packet) != public_address_ || it == client_port_.end())
        return NatDrop::kStaleMapping;
    set_destination_address(packet, config_.client);
    set_destination_port(packet, *v, it->second);
    fix_checksums(packet, *v);
    return std::nullopt;
}

}  // namespace netsim
