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

void apply_transport_options(const TransportOptions& o, quic::ConnectionConfig& config) {
    config.congestion_control = o.cc;
    config.handshake_timeout = seconds(o.handshake_timeout);
    config.max_idle_timeout = seconds(o.max_idle_timeout);
}

}  // namespace quiver
