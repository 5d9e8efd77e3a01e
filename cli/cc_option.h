// The --cc option shared by client and server.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "quic/config.h"

namespace quiver {

// `cc` must outlive the parse (it lives in the command's options).
inline void add_cc_option(CLI::App* app, quic::CongestionControl& cc) {
    app->add_option_function<std::string>(
           "--cc",
           [&cc](const std::string& name) {
               cc = name == "newreno" ? quic::CongestionControl::kNewReno
                    : name == "bbr"   ? quic::CongestionControl::kBbr
                                      : quic::CongestionControl::kCubic;
           },
           "Congestion control: newreno, cubic (default) or bbr (draft-ietf-ccwg-bbr)")
        ->check(CLI::IsMember({"newreno", "cubic", "bbr"}));
}

}  // namespace quiver
