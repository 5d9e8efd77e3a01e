// One direction of the simulated path, as ns-3's point-to-point link in the interop runner's
// scenarios (quic-network-simulator, sim/scenarios/helper): a drop-tail queue of N packets in
// front of a transmitter of a given rate, then a constant one-way propagation delay. Packets
// leave in order; the link itself never loses a packet except to a full queue. What happens
// at the far end (random loss, corruption, blackholes, NAT) is error_model.h's and nat.h's.
//
// Sans-IO: time is passed in (a virtual clock in the tests, the monotonic clock in the
// simulator's I/O loop), so the same code is exercised by both.
//
// Why not tests/sim/network.h's Link: that one carries QUIC datagrams with their addresses as
// values and applies its impairments before the queue; this one carries raw IP packets and
// follows ns-3's order (queue and wire first, the receiving device's error model last), which
// the runner's droplist indexes and burst caps depend on.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "ip_packet.h"
#include "quic/time.h"

namespace netsim {

using namespace std::chrono_literals;
using quic::Duration;
using quic::Time;

struct LinkConfig {
    uint64_t rate_bps = 10'000'000;  // the transmitter's rate; 0 = no serialisation delay
    Duration delay = 15ms;           // one-way propagation delay
    // Packets that may wait behind the one being transmitted (ns-3: the queue disc's
    // "MaxSize" of the scenario's --queue; its device queue of one is the transmitter here).
    size_t queue_packets = 25;
};

struct LinkStats {
    uint64_t sent = 0, dropped_queue = 0, arrived = 0;
    uint64_t bytes_arrived = 0;
    size_t max_waiting = 0;
};

class Link {
  public:
    explicit Link(LinkConfig config) : config_(config) {}

    // A packet handed to the link at `now` (calls must not go back in time). False when it
    // was dropped because `queue_packets` packets already wait.
    bool send(Time now, Packet packet);

    // When the next packet reaches the far end, if any is queued or on its way.
    std::optional<Time> next_arrival() const;
    // The next packet that has reached the far end at or before `now`, with its arrival time.
    std::optional<std::pair<Time, Packet>> pop_arrival(Time now);

    // How long the transmitter takes for `bytes` (the whole IP packet).
    Duration serialisation_time(size_t bytes) const;
    size_t waiting() const { return waiting_.size(); }
    const LinkConfig& config() const { return config_; }
    const LinkStats& stats() const { return stats_; }

  private:
    // Starts, in order, the transmissions of waiting packets whose turn came by `now`.
    void start_transmissions(Time now);
    void transmit(Time start, Packet packet);

    LinkConfig config_;
    LinkStats stats_;
    std::deque<Packet> waiting_;
    Time transmitter_free_at_{};                  // when the packet being sent has left
    std::deque<std::pair<Time, Packet>> flying_;  // in arrival order (the delay is constant)
};

}  // namespace netsim
