// What the receiving end of a link does to each arriving packet in the interop runner's ns-3
// scenarios (quic-network-simulator, sim/scenarios/): the "receive error model" of the far
// device. One model per direction, seeded, so one seed gives the same drops every run.
//   - blackhole: every packet arriving inside a window is dropped;
//   - droplist: UDP packets are numbered from 1 as they arrive, and the listed ones dropped;
//   - drop-rate: each UDP packet is dropped with a probability, but never more than `burst`
//     in a row (the one after a full burst always passes);
//   - corrupt-rate: likewise chosen (Version Negotiation packets never, so a client can't be
//     steered by a corrupted version field), one byte among the first 50 of the UDP payload
//     is changed to another value and the checksums are made right; ns-3's device then drops
//     the packet. `deliver_corrupted` delivers it instead, which is harsher: the QUIC stack
//     itself must reject it.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "ip_packet.h"
#include "quic/random.h"
#include "quic/time.h"

namespace netsim {

// [from, to) on the scenario's clock.
struct Window {
    quic::Duration from, to;
};

struct ErrorConfig {
    double drop_percent = 0;
    unsigned drop_burst = 0;  // 0 = no cap
    double corrupt_percent = 0;
    unsigned corrupt_burst = 0;  // 0 = no cap
    bool deliver_corrupted = false;
    std::set<uint64_t> droplist;  // 1-based indexes of arriving UDP packets
    std::vector<Window> blackholes;
};

enum class Fate : uint8_t {
    kDeliver,
    kDeliverCorrupted,
    kDropRandom,
    kDropCorrupted,
    kDropListed,
    kDropBlackhole,
};
const char* fate_name(Fate f);
inline bool delivered(Fate f) {
    return f == Fate::kDeliver || f == Fate::kDeliverCorrupted;
}

struct ErrorStats {
    uint64_t udp_arrived = 0, dropped_random = 0, corrupted = 0, dropped_listed = 0,
             dropped_blackhole = 0;
};

class ErrorModel {
  public:
    ErrorModel(ErrorConfig config, uint64_t seed) : config_(std::move(config)), random_(seed) {}

    // The fate of a packet arriving `since_start` after the scenario began; a corrupted
    // packet is changed in place (checksums fixed).
    Fate decide(quic::Duration since_start, Packet& packet);

    // Where the last corruption happened: offset into the UDP payload, old and new byte.
    struct Corruption {
        size_t offset = 0;
        uint8_t from = 0, to = 0;
    };
    const Corruption& last_corruption() const { return last_corruption_; }
    const ErrorStats& stats() const { return stats_; }
    const ErrorConfig& config() const { return config_; }

  private:
    bool chance(double percent);
    // The burst-capped coin of drop-rate and corrupt-rate.
    bool pick(double percent, unsigned burst, unsigned& in_a_row);
    void corrupt(Packet& packet, const UdpView& v);

    ErrorConfig config_;
    quic::SeededRandom random_;
    ErrorStats stats_;
    unsigned dropped_in_a_row_ = 0, corrupted_in_a_row_ = 0;
    Corruption last_corruption_;
};

}  // namespace netsim
