#include "sim/harness.h"

#include <algorithm>
#include <cstddef>
#include <stdexcept>

namespace quic::sim {

const char* run_status_name(RunResult::Status s) {
    switch (s) {
        case RunResult::Status::kDone:
            return "done";
        case RunResult::Status::kTimeLimit:
            return "time limit";
        case RunResult::Status::kIdle:
            return "idle";
        case RunResult::Status::kLivelock:
            return "livelock";
        case RunResult::Status::kError:
            return "error";
    }
    return "?";
}

SocketAddress Simulation::default_client_address(size_t index) {
    return SocketAddress::ipv4({10, 0, 0, 1}, static_cast<uint16_t>(50000 + index));
}

SocketAddress Simulation::default_server_address() {
    return SocketAddress::ipv4({10, 0, 0, 2}, 443);
}

Simulation::Simulation(uint64_t seed, LinkConfig client_to_server, LinkConfig server_to_client)
    : seed_(seed),
      network_(seed, std::move(client_to_server), std::move(server_to_client)),
      buffer_(kBufferSize) {}

Simulation::~Simulation() = default;

size_t Simulation::client_count() const {
    size_t clients = 0;
    for (const auto& n : nodes_) clients += network_.is_client(n->id);
    return clients;
}

SimNode& Simulation::add_node(const NodeFactory& make, SocketAddress address, bool client) {
    const NodeId id = client ? network_.add_client(address) : network_.add_server(address);
    if (id != nodes_.size()) throw std::logic_error("sim::Simulation: node ids out of step");
    auto n = std::make_unique<Node>();
    n->id = id;
    // Streams 1 and 2 of the seed drive the links; nodes take 100 and up.
    n->node = make(derive_seed(seed_, 100 + id));
    if (!client) server_ = id;
    nodes_.push_back(std::move(n));
    return *nodes_.back()->node;
}

Simulation::Node& Simulation::node_of(const Endpoint& e) const {
    for (const auto& n : nodes_)
        if (n->node->endpoint() == &e) return *n;
    throw std::logic_error("sim::Simulation: endpoint not part of this simulation");
}

Simulation::Node& Simulation::node_of(const SimNode& sn) const {
    for (const auto& n : nodes_)
        if (n->node.get() == &sn) return *n;
    throw std::logic_error("sim::Simulation: node not part of this simulation");
}

NodeId Simulation::client_id(const Endpoint* client) const {
    if (client) return node_of(*client).id;
    for (const auto& n : nodes_)
        if (network_.is_client(n->id)) return n->id;
    throw std::logic_error("sim::Simulation: no client to rebind");
}

SocketAddress Simulation::server_address() const {
    if (!server_) throw std::logic_error("sim::Simulation: no server yet");
    return network_.address(*server_);
}

void Simulation::set_on_step(const SimNode& n, std::function<void(Time)> on_step) {
    node_of(n).on_step = std::move(on_step);
}

void Simulation::wake_at(Time t) {
    wakeups_.push(t);
}

void Simulation::add_rebinding(Rebinding r, const Endpoint* client) {
    network_.add_rebinding(client_id(client), std::move(r));
}

void Simulation::set_rebinding_rule(RebindingRule rule, const Endpoint* client) {
    network_.set_rebinding_rule(client_id(client), rule);
}

void Simulation::add_rebinding(Rebinding r, const SimNode& client) {
    network_.add_rebinding(node_of(client).id, std::move(r));
}

void Simulation::set_rebinding_rule(RebindingRule rule, const SimNode& client) {
    network_.set_rebinding_rule(node_of(client).id, rule);
}

std::string Simulation::describe() const {
    return "seed " + std::to_string(seed_) + ", t=" + format_time(now_) +
           "; client->server: " + network_.stats(Direction::kClientToServer).to_string() +
           "; server->client: " + network_.stats(Direction::kServerToClient).to_string();
}

RunResult Simulation::result(RunResult::Status s, std::string why) const {
    RunResult r;
    r.status = s;
    r.end = now_;
    r.message = std::string(run_status_name(s)) + (why.empty() ? "" : ": " + why) + " (seed " +
                std::to_string(seed_) + ", t=" + format_time(now_) + ")";
    return r;
}

void Simulation::fail(RunResult::Status s, std::string why) {
    if (!failure_) failure_ = result(s, std::move(why));
}

std::optional<Time> Simulation::next_event() const {
    std::optional<Time> next = network_.next_delivery();
    auto consider = [&](std::optional<Time> t) {
        if (t && (!next || *t < *next)) next = t;
    };
    for (const auto& n : nodes_) consider(n->node->next_timeout());
    if (!wakeups_.empty()) consider(wakeups_.top());
    return next;
}

void Simulation::flush(Node& n) {
    for (size_t count = 0; !failure_; ++count) {
        if (count >= kMaxDatagramsPerFlush) {
            fail(RunResult::Status::kLivelock, "endpoint " + network_.address(n.id).to_string() +
                                                   " transmitted " + std::to_string(count) +
                                                   " datagrams at one instant without stopping");
            return;
        }
        auto tx = n.node->poll_transmit(now_, buffer_);
        if (!tx) return;
        if (tx->size > buffer_.size() || tx->size == 0) {
            fail(RunResult::Status::kError, "endpoint " + network_.address(n.id).to_string() +
                                                " returned a Transmit of " +
                                                std::to_string(tx->size) + " bytes");
            return;
        }
        // A GSO batch: equal segments, the last one possibly shorter (docs/architecture.md).
        const size_t seg = tx->segment_size > 0 ? tx->segment_size : tx->size;
        for (size_t off = 0; off < tx->size; off += seg) {
            const size_t len = std::min(seg, tx->size - off);
            Datagram dg;
            dg.from = tx->path.local;
            dg.to = tx->path.remote;
            dg.ecn = tx->ecn;
            dg.bytes.assign(buffer_.begin() + static_cast<ptrdiff_t>(off),
                            buffer_.begin() + static_cast<ptrdiff_t>(off + len));
            network_.send(now_, n.id, std::move(dg));
        }
    }
}

void Simulation::deliver_due() {
    while (!failure_) {
        auto d = network_.pop_due(now_);
        if (!d) return;
        Node& n = *nodes_.at(d->node);
        const Path path{d->datagram.to, d->datagram.from};
        const Ecn ecn = ecn_passthrough_ ? d->datagram.ecn : Ecn::kNotEct;
        n.node->on_datagram(now_, path, ecn, d->datagram.bytes);
        flush(n);
    }
}

void Simulation::fire_timeouts() {
    for (auto& n : nodes_) {
        if (failure_) return;
        const auto t = n->node->next_timeout();
        if (!t || *t > now_) continue;
        n->node->on_timeout(now_);
        flush(*n);
    }
}

void Simulation::step_applications() {
    for (auto& n : nodes_) {
        if (failure_) return;
        if (n->on_step) n->on_step(now_);
        // Flushed even without a callback: a test may have acted on a connection directly
        // (e.g. connect() before run_until), and that must go out now, not at the next input.
        flush(*n);
    }
}

RunResult Simulation::run_until(const std::function<bool()>& done, Duration max_virtual_time) {
    const Time deadline = now_ + max_virtual_time;
    size_t iterations_at_now = 0;
    for (;;) {
        step_applications();
        if (failure_) return *failure_;
        if (done()) return result(RunResult::Status::kDone);

        const auto next = next_event();
        if (!next) return result(RunResult::Status::kIdle, "no datagram, timer or wakeup pending");
        if (*next > deadline) {
            now_ = deadline;
            return result(RunResult::Status::kTimeLimit,
                          "not done after " + format_duration(max_virtual_time));
        }
        // A timer in the past (the endpoint asked for it late) fires now.
        const Time t = std::max(*next, now_);
        if (t == now_) {
            if (++iterations_at_now >= kMaxIterationsAtOneTime) {
                std::string who;
                for (const auto& n : nodes_) {
                    const auto nt = n->node->next_timeout();
                    if (nt && *nt <= now_)
                        who += " " + network_.address(n->id).to_string() + " (timeout " +
                               format_time(*nt) + ")";
                }
                return result(RunResult::Status::kLivelock,
                              std::to_string(iterations_at_now) +
                                  " iterations without virtual time advancing; due:" +
                                  (who.empty() ? " wakeups or deliveries" : who));
            }
        } else {
            iterations_at_now = 0;
        }
        now_ = t;

        deliver_due();
        fire_timeouts();
        while (!wakeups_.empty() && wakeups_.top() <= now_) wakeups_.pop();
        if (failure_) return *failure_;
    }
}

RunResult Simulation::run_for(Duration d) {
    const Time end = now_ + d;
    RunResult r = run_until([] { return false; }, d);
    if (r.status == RunResult::Status::kIdle) {
        // Nothing will happen any more: skip to the end.
        now_ = end;
        r = result(RunResult::Status::kTimeLimit);
    }
    return r;
}

}  // namespace quic::sim
