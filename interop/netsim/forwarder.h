// The simulator's I/O loop: reads IP packets from the hosts' TUN devices, routes each by its
// destination address, hands those that cross between the sides to the Simulator, and writes
// what the Simulator delivers to the device of the destination host. Traffic to and from the
// simulator's own host (its kernel, on a TUN device of its own: the probe, the synchroniser
// port) is passed straight through, as in the runner, where it does not cross ns-3 at all.
//
// Signals: SIGUSR1 starts the scenario (the runner sends it once its captures run, so that
// they hold everything the scenario did); SIGINT/SIGTERM end the loop with a summary.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "ip_packet.h"
#include "simulator.h"

namespace netsim {

enum class Side : uint8_t { kClient, kServer, kLocal };

struct Host {
    Side side;
    std::string netns;   // empty: the simulator's own namespace
    std::string ifname;  // the TUN interface
    std::vector<IpAddress> addresses;
};

struct ForwarderOptions {
    std::vector<Host> hosts;
    bool start_now = false;          // else at SIGUSR1
    uint16_t synchroniser_port = 0;  // TCP port to listen on once started (0 = none)
    FILE* log = stdout;
};

// Counts for the summary and the tests.
struct ForwarderStats {
    uint64_t read = 0, written = 0, write_errors = 0, no_route = 0, same_side = 0, local = 0;
};

class Forwarder {
  public:
    Forwarder(ForwarderOptions options, Simulator& simulator);
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    // Opens the devices; false with `error` set when one can't be made.
    bool open(std::string& error);
    // Runs until SIGINT or SIGTERM; returns the process's exit code.
    int run();

  private:
    struct Device {
        Host host;
        int fd = -1;
    };
    void on_readable(size_t device, Time now);
    void route(size_t from, Time now, Packet packet);
    void write_to(size_t device, const Packet& packet);
    bool start(Time now);
    void summary();

    ForwarderOptions options_;
    Simulator& simulator_;
    std::vector<Device> devices_;
    std::map<IpAddress, size_t> owner_;  // address -> device
    int signal_fd_ = -1, listen_fd_ = -1;
    ForwarderStats stats_;
    std::vector<Delivery> due_;
    std::vector<uint8_t> read_buffer_;
};

// The monotonic clock as the simulator's time.
Time monotonic_now();

}  // namespace netsim
