// A TUN device (Linux, drivers/net/tun.c) per host of the simulated network: the simulator
// holds the file descriptor, the host's network namespace holds the interface.
//
// Why TUN rather than AF_PACKET on veth ends: a TUN device is pure layer 3. The simulator
// reads and writes whole IP packets, with no Ethernet header, ARP or neighbour discovery to
// answer and no MAC addresses to rewrite; the two sides share no layer-2 segment, so no
// packet can go around the simulator; and a TUN device has no checksum offload, so every
// packet arrives with its checksums computed, as the runner's endpoints send them after
// "ethtool -K eth0 tx off".
#pragma once

#include <string>

namespace netsim {

// Creates the TUN interface `ifname` (IFF_TUN | IFF_NO_PI: raw IP packets) inside the network
// namespace at `netns` (a path such as /run/netns/NAME, or a name under /run/netns; empty =
// the simulator's own), and returns its non-blocking file descriptor, or -1 with `error` set.
// The interface is left down and without addresses: the runner configures it.
int open_tun(const std::string& netns, const std::string& ifname, std::string& error);

}  // namespace netsim
