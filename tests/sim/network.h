// The simulator's network model (docs/architecture.md, "Tests": tests/sim/): one client side and
// one server side joined by two one-way links, each with a rate, a drop-tail queue, a propagation
// delay and seeded impairments (loss with capped bursts, reordering, duplication, corruption,
// blackholes, custom drops), and a NAT in front of every client that can rebind its external
// address. Everything runs in virtual time (quic::Time); all randomness comes from
// SeededRandom instances derived from the simulation's seed, so one seed gives one trace.
//
// The defaults mirror the interop runner's default link (interop/README.md): 10 Mbit/s,
// 15 ms one way, a 25-packet queue.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quic/address.h"
#include "quic/bytes.h"
#include "quic/random.h"
#include "quic/time.h"
#include "quic/transmit.h"

namespace quic::sim {

using namespace std::chrono_literals;

// A min-queue of events ordered by (time, insertion sequence): events due at the same instant
// come out in the order they were pushed, which keeps runs reproducible (a plain heap would
// order ties arbitrarily).
template <class T>
class EventQueue {
  public:
    void push(Time at, T value) { push_entry(Entry{at, next_seq_++, std::move(value)}); }
    bool empty() const { return heap_.empty(); }
    size_t size() const { return heap_.size(); }
    std::optional<Time> next_time() const {
        if (heap_.empty()) return std::nullopt;
        return heap_.front().at;
    }
    // The earliest event; the queue must not be empty.
    std::pair<Time, T> pop() {
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        Entry e = std::move(heap_.back());
        heap_.pop_back();
        return {e.at, std::move(e.value)};
    }

  private:
    struct Entry {
        Time at;
        uint64_t seq;
        T value;
    };
    // std heaps are max-heaps: "later" as the comparison puts the earliest event on top.
    struct Later {
        bool operator()(const Entry& a, const Entry& b) const {
            return a.at != b.at ? a.at > b.at : a.seq > b.seq;
        }
    };
    void push_entry(Entry e) {
        heap_.push_back(std::move(e));
        std::push_heap(heap_.begin(), heap_.end(), Later{});
    }

    std::vector<Entry> heap_;
    uint64_t next_seq_ = 0;
};

enum class Direction : uint8_t { kClientToServer = 0, kServerToClient = 1 };
const char* direction_name(Direction d);

struct LinkConfig {
    Duration delay = 15ms;           // one-way propagation delay
    uint64_t rate_bps = 10'000'000;  // serialisation rate; 0 = infinite
    size_t queue_packets = 25;       // packets that may wait behind the one being serialised
    double loss = 0;                 // probability a datagram is lost
    // 0 = unlimited; else at most this many consecutive random losses (interop "bursts ≤ 3").
    unsigned max_burst_loss = 0;
    double reorder = 0;  // probability a datagram gets reorder_extra added to its delay
    Duration reorder_extra = 10ms;
    double duplicate = 0;  // probability a second copy is sent right behind the datagram
    double corrupt = 0;    // probability one random byte is changed
    // Everything offered in [start, end) is dropped (interop "blackhole": 5 s → 7 s).
    std::vector<std::pair<Time, Time>> blackholes;
    // The link MTU: the largest IP packet it carries. A datagram whose UDP payload plus IP
    // and UDP headers (28 bytes for IPv4, 48 for IPv6) is larger is dropped, as a router
    // drops a packet with DF set that it cannot forward (no ICMP: a PMTU black hole unless the
    // sender searches, RFC 8899). 1500: Ethernet. 0 = unlimited.
    size_t mtu = 1500;
    // From each time on, the MTU is the given one (sorted by time): a route change.
    std::vector<std::pair<Time, size_t>> mtu_changes;
    // Custom drops: index counts the datagrams offered on this link from 1 (like the runner's
    // drop lists: "client packets 2-7"), and the bytes are as sent.
    std::function<bool(uint64_t index, ByteSpan bytes)> drop_if;
};

// drop_if for a set of 1-based datagram indexes, e.g. drop_indexes(2, 7) for the runner's
// amplificationlimit test.
std::function<bool(uint64_t, ByteSpan)> drop_indexes(uint64_t first, uint64_t last);

enum class DropReason : uint8_t { kQueue, kLoss, kBlackhole, kCustom, kNat, kMtu };
const char* drop_reason_name(DropReason r);

struct LinkStats {
    uint64_t offered = 0, delivered = 0;
    uint64_t dropped_queue = 0, dropped_loss = 0, dropped_blackhole = 0, dropped_custom = 0;
    uint64_t dropped_nat = 0;      // arrived for a client address its NAT no longer maps
    uint64_t dropped_mtu = 0;      // larger than the link MTU
    size_t largest_delivered = 0;  // the largest datagram (UDP payload) delivered
    uint64_t corrupted = 0, duplicated = 0, reordered = 0;
    uint64_t bytes_offered = 0, bytes_delivered = 0;
    size_t max_queue = 0;  // the most datagrams ever waiting behind the one being serialised

    uint64_t dropped() const {
        return dropped_queue + dropped_loss + dropped_blackhole + dropped_custom + dropped_nat +
               dropped_mtu;
    }
    std::string to_string() const;
};

struct Datagram {
    SocketAddress from, to;
    Ecn ecn = Ecn::kNotEct;
    Bytes bytes;
};

// One direction of the path. Offered datagrams pass, in this order: the MTU, blackhole
// windows, drop_if, random loss (with the burst cap), the drop-tail queue; survivors may be
// corrupted, duplicated (the copy also goes through the queue) and delayed extra (reordering).
class Link {
  public:
    Link(LinkConfig config, uint64_t seed);

    struct Arrival {
        Time at;
        Datagram datagram;
        bool corrupted = false, duplicate = false, reordered = false;
    };
    struct Outcome {
        std::optional<DropReason> dropped;
        std::vector<Arrival> arrivals;  // empty when dropped; two when duplicated
    };
    // A datagram handed to the link at `now` (calls must not go back in time).
    Outcome offer(Time now, Datagram datagram);

    // The link MTU at `now` (0 = unlimited).
    size_t mtu_at(Time now) const;

    // How long n bytes occupy the link: n * 8 / rate seconds.
    Duration serialisation_time(size_t bytes) const;

    const LinkConfig& config() const { return config_; }
    LinkStats& stats() { return stats_; }
    const LinkStats& stats() const { return stats_; }

  private:
    bool chance(double p);
    // Puts a datagram into the serialiser; nullopt when the queue is full.
    std::optional<Time> enqueue(Time now, size_t bytes);

    LinkConfig config_;
    SeededRandom random_;
    LinkStats stats_;
    std::deque<Time> in_system_;  // serialisation end times of datagrams not yet fully sent
    unsigned consecutive_losses_ = 0;
};

// A NAT rebinding: datagrams the client sends from `at` on leave with this source address,
// and only datagrams to it reach the client.
struct Rebinding {
    Time at;
    SocketAddress new_client_address;
};
// Periodic rebinding (interop rebind-port: "at 1 s, then every 5 s"): the port changes, and
// with change_ip the address too (rebind-addr).
struct RebindingRule {
    Time first;
    Duration period = 5s;
    bool change_ip = false;
};

using NodeId = uint32_t;

enum class TraceKind : uint8_t { kDelivered, kDropped };

struct TraceEvent {
    Time time;  // arrival time when delivered, offer time when dropped
    Direction direction;
    TraceKind kind;
    std::optional<DropReason> drop_reason;
    SocketAddress from, to;  // as on the wire (the client's external address)
    uint32_t size = 0;
    uint8_t first_byte = 0;  // the packet type, for reading a trace
    bool corrupted = false, duplicate = false, reordered = false;

    friend bool operator==(const TraceEvent&, const TraceEvent&) = default;
    std::string to_string() const;
};

// Client nodes and one server node, the two links between them, the NATs, and the queue of
// datagrams in flight.
class Network {
  public:
    Network(uint64_t seed, LinkConfig client_to_server, LinkConfig server_to_client);

    // A client behind its own NAT; `address` is the client's own (internal) address, which
    // is also its external one until a rebinding.
    NodeId add_client(SocketAddress address);
    // The server node: every datagram crossing the client→server link reaches it (its
    // destination address is kept, so a server may answer on several addresses).
    NodeId add_server(SocketAddress address);
    SocketAddress address(NodeId node) const { return nodes_.at(node).address; }
    bool is_client(NodeId node) const { return nodes_.at(node).client; }

    // One more local address of a client (a second interface or socket: active migration,
    // RFC 9000 §9.2). Datagrams it sends from there leave with that address (no NAT), and
    // datagrams to it reach it.
    void add_client_address(NodeId client, SocketAddress address);
    void add_rebinding(NodeId client, Rebinding r);
    void set_rebinding_rule(NodeId client, RebindingRule rule);
    // The address the server sees for this client at time t.
    SocketAddress external_address(NodeId client, Time t) const;

    // A datagram sent by `node` at `now`. A client's source is rewritten by its NAT; an empty
    // source of the server's is filled with its address.
    void send(Time now, NodeId node, Datagram datagram);

    std::optional<Time> next_delivery() const { return in_flight_.next_time(); }
    struct Delivery {
        NodeId node;
        Datagram datagram;  // `to` translated back by the NAT: the address the node bound
    };
    // The next datagram arriving at or before `now`, or nullopt.
    std::optional<Delivery> pop_due(Time now);
    size_t in_flight() const { return in_flight_.size(); }

    Link& link(Direction d) { return links_[static_cast<size_t>(d)]; }
    const Link& link(Direction d) const { return links_[static_cast<size_t>(d)]; }
    const LinkStats& stats(Direction d) const { return link(d).stats(); }

    // Every delivery and drop in the order it happened (unless recording is off).
    const std::vector<TraceEvent>& trace() const { return trace_; }
    // Long runs can stop storing events; the digest is kept regardless.
    void set_trace_recording(bool on) { record_trace_ = on; }
    // A hash over (time, size, direction) of every delivered datagram, in order: contents are
    // left out because TLS draws its own randomness, but sizes and timing are fully seeded.
    uint64_t trace_digest() const { return digest_; }

  private:
    struct Node {
        SocketAddress address;
        bool client = false;
        std::vector<Rebinding> rebindings;  // sorted by time
        std::optional<RebindingRule> rule;
        std::vector<SocketAddress> more;  // add_client_address
    };
    struct InFlight {
        Direction direction;
        Datagram datagram;
        struct Flags {
            bool corrupted = false, duplicate = false, reordered = false;
        } flags;
    };

    void record(Time t, Direction d, TraceKind kind, std::optional<DropReason> reason,
                const Datagram& addresses, size_t size, uint8_t first_byte,
                const InFlight::Flags& flags);
    void record(Time t, Direction d, TraceKind kind, std::optional<DropReason> reason,
                const InFlight& f);
    std::optional<NodeId> client_for(const SocketAddress& external, Time t) const;

    std::vector<Link> links_;
    std::vector<Node> nodes_;
    std::optional<NodeId> server_;
    EventQueue<InFlight> in_flight_;
    std::vector<TraceEvent> trace_;
    bool record_trace_ = true;
    uint64_t digest_;
};

// "12.345678ms": virtual times in messages.
std::string format_time(Time t);
std::string format_duration(Duration d);

// A 64-bit mix of a seed and a stream number (splitmix64 finaliser): independent,
// reproducible seeds for links, NATs and endpoints from one simulation seed.
uint64_t derive_seed(uint64_t seed, uint64_t stream);

}  // namespace quic::sim
