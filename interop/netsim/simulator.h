// The simulated path between the client side (left) and the server side (right): for each
// direction a Link (queue, rate, delay) and the receiving end's ErrorModel, and, in the rebind
// scenario, the NAT at the far end of each link (ns-3 installs it as the receive error model
// of both devices). Sans-IO: packets and the time come in, packets due by then come out,
// in the order of their arrival times; the I/O loop (main.cpp) writes them to the devices.
//
// The scenario clock starts at start(): before it, nothing crosses (the runner's simulator
// does not run until its probe has seen the server), and blackhole windows and rebinding
// times count from it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "error_model.h"
#include "link.h"
#include "nat.h"
#include "scenario.h"

namespace netsim {

enum class Direction : uint8_t { kToServer = 0, kToClient = 1 };
const char* direction_name(Direction d);

struct Delivery {
    Direction direction;
    Time at;  // the virtual arrival time (may be a little before `now` when the loop is late)
    Packet packet;
};

struct DirectionStats {
    LinkStats link;
    ErrorStats errors;
    uint64_t dropped_nat = 0, dropped_not_started = 0, delivered = 0;
};

class Simulator {
  public:
    Simulator(const Scenario& scenario, uint64_t seed);

    void start(Time now);
    bool started() const { return start_.has_value(); }

    // A packet entering the link of direction `d` at `now`.
    void send(Time now, Direction d, Packet packet);
    // The earliest time something happens (an arrival or a rebinding), if anything will.
    std::optional<Time> next_event() const;
    // Appends every packet delivered by `now` to `out`.
    void poll(Time now, std::vector<Delivery>& out);

    // One line per impairment event (drops, corruptions, rebindings), with the scenario time;
    // unset: no log. Delivered packets are not logged (that is what the pcaps are for).
    void set_log(std::function<void(const std::string&)> log) { log_ = std::move(log); }
    DirectionStats stats(Direction d) const;
    const Scenario& scenario() const { return scenario_; }

  private:
    struct Path {
        Link link;
        ErrorModel errors;
        uint64_t dropped_nat = 0, dropped_not_started = 0, delivered = 0;
    };
    Path& path(Direction d) { return paths_[static_cast<size_t>(d)]; }
    const Path& path(Direction d) const { return paths_[static_cast<size_t>(d)]; }
    std::optional<Time> next_rebind() const;
    void arrive(Direction d, Time at, Packet packet, std::vector<Delivery>& out);
    void log(Time at, const std::string& what, const Packet* packet = nullptr);

    Scenario scenario_;
    std::vector<Path> paths_;
    std::optional<Nat> nat_;
    std::optional<Time> start_;
    std::function<void(const std::string&)> log_;
};

// The seed of one of the simulator's random streams (links, NAT), derived from the run's.
uint64_t derive_seed(uint64_t seed, uint64_t stream);

}  // namespace netsim
