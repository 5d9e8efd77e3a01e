#include "transport_options.h"

#include <chrono>

namespace quiver {
namespace {

quic::Duration seconds(double s) {
    return std::chrono::duration_cast<quic::Duration>(std::chrono::duration<double>(s));
}

}  // namespace

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
    for (const quic::SocketAddress& a : o.preferred_addresses) {
        if (a.family() == quic::SocketAddress::Family::kIpv4)
            config.preferred_address_ipv4 = a;
        else
            config.preferred_address_ipv6 = a;
    }
}

}  // namespace quiver
