#include "transport_options.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>

namespace quiver {
namespace {

quic::Duration seconds(double s) {
    return std::chrono::duration_cast<quic::Duration>(std::chrono::duration<double>(s));
}

std::optional<quic::Version> parse_version(const std::string& t) {
    if (t == "v1" || t == "1") return quic::kVersion1;
    if (t == "v2" || t == "2") return quic::kVersion2;
    if (t.size() > 2 && t.size() <= 10 && (t.rfind("0x", 0) == 0 || t.rfind("0X", 0) == 0)) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(t.c_str() + 2, &end, 16);
        if (*end == '\0' && quic::is_supported_version(static_cast<quic::Version>(v)))
            return static_cast<quic::Version>(v);
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::vector<quic::Version>> parse_versions(const std::string& text) {
    std::vector<quic::Version> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        auto v = parse_version(item);
        if (!v || std::find(out.begin(), out.end(), *v) != out.end()) return std::nullopt;
        out.push_back(*v);
    }
    if (out.empty()) return std::nullopt;
    return out;
}

void add_transport_options(CLI::App* app, TransportOptions& o) {
    app->add_option_function<std::string>(
           "--cc",
           [&o](const std::string& name) {
               o.cc = name == "newreno" ? quic::CongestionControl::kNewReno
                      : name == "bbr"   ? quic::CongestionControl::kBbr
                                        : quic::CongestionControl::kCubic;
           },
           "Congestion control: newreno, cubic (default) or bbr (draft-ietf-ccwg-bbr)")
        ->check(CLI::IsMember({"newreno", "cubic", "bbr"}));
    app->add_option("--handshake-timeout", o.handshake_timeout,
                    "Give up a handshake after SECONDS (default 10)")
        ->check(CLI::PositiveNumber & CLI::Range(0.001, 86400.0));
    app->add_option("--max-idle-timeout", o.max_idle_timeout,
                    "Idle timeout we advertise, in seconds (default 30, 0 = none; RFC 9000 §10.1)")
        ->check(CLI::Range(0.0, 86400.0));

    // --- versions (RFC 9368, RFC 9369) ---
    app->add_option_function<std::string>(
           "--versions", [&o](const std::string& text) { o.versions = *parse_versions(text); },
           "QUIC versions in order of preference, e.g. v2,v1 (v1, v2 or hex). Client: the first "
           "Initial uses the first and offers the others for compatible negotiation (RFC 9368); "
           "server: accepts them all and switches to the first the client offers. Default "
           "v1,v2: v1 on the wire unless a peer starts in v2 (README, \"QUIC versions\")")
        ->check(CLI::Validator(
            [](std::string& text) {
                return parse_versions(text) ? std::string()
                                            : "expected a list of v1 and v2, e.g. v2,v1";
            },
            "VERSIONS"));

    // Path MTU and the spin bit (RFC 9000 §14.3, §17.4).
    app->add_option("--max-udp-payload", o.max_udp_payload,
                    "Largest UDP payload to send: DPLPMTUD probes from 1200 up to BYTES or what "
                    "the local interface carries, whichever is smaller, and it is the "
                    "max_udp_payload_size we advertise (default 65527: the interface decides, "
                    "e.g. 1472 over 1500-byte Ethernet with IPv4, 65507 over loopback; 1200 "
                    "turns path MTU discovery off)")
        ->check(CLI::Range(uint64_t{1200}, uint64_t{65527}));
    app->add_flag("--no-spin", o.no_spin,
                  "Never spin the latency spin bit (RFC 9000 §17.4; by default it spins, except "
                  "on a random 1 in 16 connections)");
}

void add_server_transport_options(CLI::App* app, TransportOptions& o) {
    app->add_option_function<std::vector<std::string>>(
           "--preferred-address",
           [&o](const std::vector<std::string>& all) {
               using Family = quic::SocketAddress::Family;
               o.preferred_addresses.clear();
               bool v4 = false, v6 = false;
               for (const std::string& text : all) {
                   auto a = quic::SocketAddress::parse(text);
                   if (!a || a->port() == 0)
                       throw CLI::ValidationError("--preferred-address",
                                                  "not ADDR:PORT with a port: " + text);
                   bool& seen = a->family() == Family::kIpv4 ? v4 : v6;
                   if (seen)
                       throw CLI::ValidationError("--preferred-address",
                                                  "one IPv4 and one IPv6 address at most");
                   seen = true;
                   o.preferred_addresses.push_back(*a);
               }
           },
           "Offer this address to clients to move to after the handshake (RFC 9000 §9.6), "
           "and listen there too: IPv4 (1.2.3.4:443) and/or IPv6 ([::1]:443), repeatable")
        ->take_all()
        ->allow_extra_args(false);
}

void add_client_transport_options(CLI::App* app, TransportOptions& o) {
    app->add_option("--migrate-after", o.migrate_after,
                    "Migrate to a new local port once BYTES of responses arrived (RFC 9000 "
                    "§9.2: probe the new path, then move; default 0: never)");
}

void apply_transport_options(const TransportOptions& o, quic::ConnectionConfig& config) {
    config.congestion_control = o.cc;
    config.handshake_timeout = seconds(o.handshake_timeout);
    config.max_idle_timeout = seconds(o.max_idle_timeout);
    // Default v1,v2: a client starts in v1 and offers v2; a server accepts v2 and upgrades
    // nobody. quic-go 0.29 and ngtcp2 0.12 speak only the v2 draft (0x709a50c4) and no
    // RFC 9368 version_information, so anything else fails with them (README).
    config.versions = o.versions.empty()
                          ? std::vector<quic::Version>{quic::kVersion1, quic::kVersion2}
                          : o.versions;
    for (const quic::SocketAddress& a : o.preferred_addresses) {
        if (a.family() == quic::SocketAddress::Family::kIpv4)
            config.preferred_address_ipv4 = a;
        else
            config.preferred_address_ipv6 = a;
    }
    config.max_udp_payload_size = o.max_udp_payload;
    config.enable_pmtud = o.max_udp_payload > config.initial_max_udp_payload_size;
    config.spin_bit = !o.no_spin;
}

}  // namespace quiver
