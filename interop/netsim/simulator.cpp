#include "simulator.h"

#include <cstdio>

namespace netsim {

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

const char* direction_name(Direction d) {
    return d == Direction::kToServer ? "to-server" : "to-client";
}

Simulator::Simulator(const Scenario& scenario, uint64_t seed) : scenario_(scenario) {
    paths_.push_back(
        Path{Link(scenario.link), ErrorModel(scenario.to_server, derive_seed(seed, 0)), 0, 0, 0});
    paths_.push_back(
        Path{Link(scenario.link), ErrorModel(scenario.to_client, derive_seed(seed, 1)), 0, 0, 0});
    if (scenario.rebind) nat_.emplace(*scenario.rebind, derive_seed(seed, 2));
}

void Simulator::start(Time now) {
    if (!start_) start_ = now;
}

void Simulator::send(Time now, Direction d, Packet packet) {
    Path& p = path(d);
    if (!start_) {
        ++p.dropped_not_started;
        return;
    }
    const size_t size = packet.size();
    if (!p.link.send(now, std::move(packet)) && log_) {
        log(now, std::string(direction_name(d)) + " drop-queue " + std::to_string(size) + " B");
    }
}

std::optional<Time> Simulator::next_rebind() const {
    if (!nat_ || !start_ || nat_->next_rebind() == quic::Duration::max()) return std::nullopt;
    return *start_ + nat_->next_rebind();
}

std::optional<Time> Simulator::next_event() const {
    std::optional<Time> t = next_rebind();
    for (const Path& p : paths_) {
        auto a = p.link.next_arrival();
        if (a && (!t || *a < *t)) t = a;
    }
    return t;
}

void Simulator::poll(Time now, std::vector<Delivery>& out) {
    // Events in time order, so that a rebinding at t affects exactly the packets arriving
    // after t, however late this call comes.
    for (;;) {
        auto t = next_event();
        if (!t || *t > now) return;
        auto r = next_rebind();
        if (r && *r == *t) {
            const std::string flows = nat_->rebind();
            log(*r, "rebind" + std::string(flows.empty() ? " (no flows yet)" : "\n" + flows));
            continue;
        }
        for (Direction d : {Direction::kToServer, Direction::kToClient}) {
            auto a = path(d).link.next_arrival();
            if (a && *a == *t) {
                auto arrival = path(d).link.pop_arrival(now);
                arrive(d, arrival->first, std::move(arrival->second), out);
                break;
            }
        }
    }
}

void Simulator::arrive(Direction d, Time at, Packet packet, std::vector<Delivery>& out) {
    Path& p = path(d);
    const Fate fate = p.errors.decide(at - *start_, packet);
    if (fate != Fate::kDeliver && log_) {
        std::string what = std::string(direction_name(d)) + " " + fate_name(fate);
        if (fate == Fate::kDropCorrupted || fate == Fate::kDeliverCorrupted) {
            const auto& c = p.errors.last_corruption();
            char buf[64];
            std::snprintf(buf, sizeof buf, " (payload byte %zu: 0x%02x -> 0x%02x)", c.offset,
                          c.from, c.to);
            what += buf;
        }
        log(at, what, &packet);
    }
    if (!delivered(fate)) return;
    if (nat_) {
        const auto drop =
            d == Direction::kToServer ? nat_->outbound(packet) : nat_->inbound(packet);
        if (drop) {
            ++p.dropped_nat;
            log(at, std::string(direction_name(d)) + " drop-nat " + nat_drop_name(*drop), &packet);
            return;
        }
    }
    ++p.delivered;
    out.push_back(Delivery{d, at, std::move(packet)});
}

void Simulator::log(Time at, const std::string& what, const Packet* packet) {
    if (!log_) return;
    const double t = start_ ? static_cast<double>((at - *start_).count()) / 1e9 : 0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f s: ", t);
    std::string line = buf + what;
    if (packet) {
        auto v = parse_udp(*packet);
        auto src = source_address(*packet), dst = destination_address(*packet);
        line += " " + std::to_string(packet->size()) + " B";
        if (v && src && dst) {
            line += " " + src->to_string() + ":" + std::to_string(source_port(*packet, *v)) +
                    " -> " + dst->to_string() + ":" + std::to_string(destination_port(*packet, *v));
        }
    }
    log_(line);
}

DirectionStats Simulator::stats(Direction d) const {
    const Path& p = path(d);
    return DirectionStats{p.link.stats(), p.errors.stats(), p.dropped_nat, p.dropped_not_started,
                          p.delivered};
}

}  // namespace netsim
