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
    // Path MTU and the spin bit (RFC 9000 §14.3, §17.4).
    app->add_option("--max-udp-payload", o.max_udp_payload,
                    "Largest UDP payload to send: DPLPMTUD probes from 1200 up to BYTES, and it "
                    "is the max_udp_payload_size we advertise (default 1452: a 1500-byte IPv6 "
                    "packet; 1200 turns path MTU discovery off)")
        ->check(CLI::Range(uint64_t{1200}, uint64_t{65527}));
    app->add_flag("--no-spin", o.no_spin,
                  "Never spin the latency spin bit (RFC 9000 §17.4; by default it spins, except "
                  "on a random 1 in 16 connections)");
}

void apply_transport_options(const TransportOptions& o, quic::ConnectionConfig& config) {
    config.congestion_control = o.cc;
    config.handshake_timeout = seconds(o.handshake_timeout);
    config.max_idle_timeout = seconds(o.max_idle_timeout);
    config.max_udp_payload_size = o.max_udp_payload;
    config.enable_pmtud = o.max_udp_payload > config.initial_max_udp_payload_size;
    config.spin_bit = !o.no_spin;
}

}  // namespace quiver
