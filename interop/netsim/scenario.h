// The interop runner's SCENARIO strings (testcases_quic.py, scenario()), read with the
// semantics of quic-network-simulator's ns-3 programs of the same names:
//   simple-p2p   --delay=15ms --bandwidth=10Mbps --queue=25
//   drop-rate    ... --rate_to_server=30 --rate_to_client=30 [--burst_to_server=3 ...]
//   corrupt-rate ... (the same keys)
//   droplist     ... [--drops_to_server=2,3,4] [--drops_to_client=...]
//   blackhole    ... --on=5s --off=2s [--repeat=1] [--direction=both|toclient|toserver]
//   rebind       ... --first-rebind=1s [--rebind-freq=5s] [--rebind-addr]
// Times take s, ms, us or ns; rates bps, kbps, Mbps or Gbps (also b/s, kb/s, Mb/s, Gb/s).
#pragma once

#include <optional>
#include <string>

#include "error_model.h"
#include "link.h"
#include "nat.h"

namespace netsim {

struct Scenario {
    std::string name;
    LinkConfig link;  // both directions alike, as in every ns-3 scenario of the runner
    ErrorConfig to_server, to_client;
    std::optional<RebindConfig> rebind;
};

// The scenario, or nullopt with `error` set to one line saying what is wrong.
std::optional<Scenario> parse_scenario(const std::string& text, std::string& error);

std::optional<quic::Duration> parse_time(const std::string& text);
std::optional<uint64_t> parse_rate(const std::string& text);

}  // namespace netsim
