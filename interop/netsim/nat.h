// The interop runner's "rebind" scenario (quic-network-simulator, sim/scenarios/rebind/): an
// IPv4 NAT in front of the client. Each of the client's UDP flows leaves with a public port
// (at first its own port, from the client's own address); at every rebinding, the first at
// `first` and then every `every`, each flow gets a new random port and, with
// `change_address`, all flows a new address in the client's /24. Server packets to a mapping
// that no longer exists are dropped, so the server must follow the client to its new path
// (RFC 9000 §9.3). Checksums are fixed after every rewrite; the ECN bits are not touched.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ip_packet.h"
#include "quic/random.h"
#include "quic/time.h"

namespace netsim {

struct RebindConfig {
    quic::Duration first{};  // the first rebinding, on the scenario's clock
    quic::Duration every{};  // then every this long; 0 = only once
    bool change_address = false;
    IpAddress client = IpAddress::v4(0xc1a70064);  // 193.167.0.100
    IpAddress server = IpAddress::v4(0xc1a76464);  // 193.167.100.100
    // Addresses of other hosts in the client's /24 (the simulator's own, the iperf client):
    // never a NAT address, or packets to it would reach that host instead.
    std::vector<IpAddress> reserved;
};

// Why a packet was dropped, or nullopt when it passes.
enum class NatDrop : uint8_t { kStaleMapping, kUnknownSource };
const char* nat_drop_name(NatDrop d);

// Every flow a NAT tracks costs a map entry; the client opens a handful. The cap keeps a
// misbehaving endpoint from growing the table without bound (RULES: named caps).
constexpr size_t kMaxNatFlows = 4096;

class Nat {
  public:
    Nat(RebindConfig config, uint64_t seed);

    // The time of the next rebinding on the scenario's clock.
    quic::Duration next_rebind() const { return next_; }
    // Rebinds every flow; returns a line per flow ("old -> new") for the log.
    std::string rebind();

    // A client→server packet at the server side: its source becomes the public mapping.
    std::optional<NatDrop> outbound(Packet& packet);
    // A server→client packet at the client side: its destination goes back to the client.
    std::optional<NatDrop> inbound(Packet& packet);

    const IpAddress& public_address() const { return public_address_; }
    size_t flows() const { return public_port_.size(); }
    uint64_t rebinds() const { return rebinds_; }

  private:
    uint16_t fresh_port();

    RebindConfig config_;
    quic::SeededRandom random_;
    IpAddress public_address_;
    std::map<uint16_t, uint16_t> public_port_;  // client port -> public port
    std::map<uint16_t, uint16_t> client_port_;  // public port -> client port (live only)
    quic::Duration next_;
    uint64_t rebinds_ = 0;
};

}  // namespace netsim
