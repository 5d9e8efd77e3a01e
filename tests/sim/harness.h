// Drives sans-IO endpoints over the simulated network (docs/architecture.md, "Sans-IO core" and
// "Tests"): the same on_datagram / poll_transmit / next_timeout / on_timeout calls the libuv
// layer makes, on a virtual clock. One Simulation is one seed: its links, NATs and endpoints
// draw from SeededRandom instances derived from it, and every failure message names it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "quic/endpoint.h"
#include "sim/network.h"

namespace quic::sim {

struct RunResult {
    enum class Status {
        kDone,       // done() became true
        kTimeLimit,  // max_virtual_time passed first
        kIdle,       // nothing left to happen: no datagram in flight, no timeout, no wakeup
        kLivelock,   // time stopped advancing, or an endpoint never stopped transmitting
        kError,      // an endpoint broke the sans-IO contract (e.g. a Transmit too large)
    };
    Status status = Status::kDone;
    Time end;
    std::string message;  // always names the seed and the virtual time

    bool done() const { return status == Status::kDone; }
};
const char* run_status_name(RunResult::Status s);

// What the loop drives: the sans-IO surface of quic::Endpoint. An interface so that the loop
// itself can be tested with scripted nodes while the protocol is elsewhere.
class SimNode {
  public:
    virtual ~SimNode() = default;
    virtual void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) = 0;
    virtual std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer) = 0;
    virtual std::optional<Time> next_timeout() const = 0;
    virtual void on_timeout(Time now) = 0;
    // The endpoint behind the node, if it is one (lets callers name nodes by Endpoint&).
    virtual const Endpoint* endpoint() const { return nullptr; }
};

// A quic::Endpoint with its own seeded Random. Defined inline so that the loop (harness.cpp)
// links without the protocol: only code that adds endpoints needs libquic's conn/endpoint.
class EndpointNode final : public SimNode {
  public:
    EndpointNode(EndpointConfig config, uint64_t seed)
        : random_(seed), endpoint_(std::move(config), random_) {}
    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) override {
        endpoint_.on_datagram(now, path, ecn, datagram);
    }
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer) override {
        return endpoint_.poll_transmit(now, buffer);
    }
    std::optional<Time> next_timeout() const override { return endpoint_.next_timeout(); }
    void on_timeout(Time now) override { endpoint_.on_timeout(now); }
    const Endpoint* endpoint() const override { return &endpoint_; }
    Endpoint& get() { return endpoint_; }

  private:
    SeededRandom random_;  // declared first: the endpoint keeps a reference to it
    Endpoint endpoint_;
};

class Simulation {
  public:
    // Addresses (interop/README.md uses server4 and a client behind the simulator).
    static SocketAddress default_client_address(size_t index);  // 10.0.0.1:50000 + index
    static SocketAddress default_server_address();              // 10.0.0.2:443
    // Time stops advancing for this many loop iterations in a row: a livelock.
    static constexpr size_t kMaxIterationsAtOneTime = 10'000;
    // One flush handing out this many datagrams at one instant: a livelock.
    static constexpr size_t kMaxDatagramsPerFlush = 100'000;
    static constexpr size_t kBufferSize = 65536;

    Simulation(uint64_t seed, LinkConfig client_to_server, LinkConfig server_to_client);
    ~Simulation();
    Simulation(const Simulation&) = delete;
    Simulation& operator=(const Simulation&) = delete;

    uint64_t seed() const { return seed_; }
    Time now() const { return now_; }

    // Endpoints live as long as the Simulation and keep their addresses. Clients sit behind
    // their own NAT and share the client->server link (a common bottleneck); there is one
    // server.
    Endpoint& add_client(EndpointConfig config) {
        return add_client(std::move(config), default_client_address(client_count()));
    }
    Endpoint& add_client(EndpointConfig config, SocketAddress address) {
        return add_endpoint(std::move(config), address, true);
    }
    Endpoint& add_server(EndpointConfig config) {
        return add_server(std::move(config), default_server_address());
    }
    Endpoint& add_server(EndpointConfig config, SocketAddress address) {
        return add_endpoint(std::move(config), address, false);
    }
    // Any node (scripted nodes for testing the loop); `make` gets the node's seed.
    using NodeFactory = std::function<std::unique_ptr<SimNode>(uint64_t seed)>;
    SimNode& add_node(const NodeFactory& make, SocketAddress address, bool client);
    size_t client_count() const;

    // The address an endpoint binds (for a client: its side of the NAT).
    SocketAddress address(const Endpoint& e) const { return network_.address(node_of(e).id); }
    SocketAddress server_address() const;
    // The path a client passes to Endpoint::connect.
    Path client_path(const Endpoint& client) const { return {address(client), server_address()}; }

    // Called once per loop iteration, after the endpoint's inputs were handled, so the
    // application can drain events and act; its transmits are flushed right after.
    void set_on_step(const Endpoint& e, std::function<void(Time)> on_step) {
        node_of(e).on_step = std::move(on_step);
    }
    void set_on_step(const SimNode& n, std::function<void(Time)> on_step);
    // Wakes the applications at t even if no datagram or timer is due then.
    void wake_at(Time t);

    // One more local address for a client (its own, not behind its NAT): for active
    // migration (RFC 9000 §9.2, Connection::migrate).
    void add_client_address(const Endpoint& client, SocketAddress address) {
        network_.add_client_address(node_of(client).id, address);
    }
    // NAT rebinding for a client (by default the first one).
    void add_rebinding(Rebinding r, const Endpoint* client = nullptr);
    void set_rebinding_rule(RebindingRule rule, const Endpoint* client = nullptr);
    void add_rebinding(Rebinding r, const SimNode& client);
    void set_rebinding_rule(RebindingRule rule, const SimNode& client);

    // Deliver the ECN mark each Transmit asked for instead of Ecn::kNotEct (off by default:
    // like a path that bleaches ECN).
    void set_ecn_passthrough(bool on) { ecn_passthrough_ = on; }

    // Runs until done() holds, or for at most max_virtual_time from now().
    [[nodiscard]] RunResult run_until(const std::function<bool()>& done, Duration max_virtual_time);
    // Runs for exactly d of virtual time (stops early only on a livelock or error; idle
    // stretches are skipped).
    [[nodiscard]] RunResult run_for(Duration d);

    Network& network() { return network_; }
    const Network& network() const { return network_; }
    // "seed 7, t=1234.5ms; c->s: ...; s->c: ..." for failure messages.
    std::string describe() const;

  private:
    struct Node {
        NodeId id;
        std::unique_ptr<SimNode> node;
        std::function<void(Time)> on_step;
    };

    Endpoint& add_endpoint(EndpointConfig config, SocketAddress address, bool client) {
        auto& n = add_node(
            [&](uint64_t seed) { return std::make_unique<EndpointNode>(std::move(config), seed); },
            address, client);
        return static_cast<EndpointNode&>(n).get();
    }
    Node& node_of(const Endpoint& e) const;
    Node& node_of(const SimNode& n) const;
    NodeId client_id(const Endpoint* client) const;
    std::optional<Time> next_event() const;
    void deliver_due();
    void fire_timeouts();
    void step_applications();
    void flush(Node& n);
    void fail(RunResult::Status s, std::string why);
    RunResult result(RunResult::Status s, std::string why = {}) const;

    uint64_t seed_;
    Time now_{};
    Network network_;
    std::vector<std::unique_ptr<Node>> nodes_;  // index = NodeId
    std::optional<NodeId> server_;
    std::priority_queue<Time, std::vector<Time>, std::greater<Time>> wakeups_;
    std::vector<uint8_t> buffer_;
    bool ecn_passthrough_ = false;
    // Set by flush() when an endpoint misbehaves; run_until returns it.
    std::optional<RunResult> failure_;
};

}  // namespace quic::sim
