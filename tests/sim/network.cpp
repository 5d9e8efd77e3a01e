#include "sim/network.h"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

namespace quic::sim {

namespace {

// FNV-1a over little-endian integers: stable across platforms and runs.
void fnv_mix(uint64_t& h, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        h ^= static_cast<uint8_t>(v >> (8 * i));
        h *= 0x100000001b3ull;
    }
}

}  // namespace

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

const char* direction_name(Direction d) {
    return d == Direction::kClientToServer ? "client->server" : "server->client";
}

const char* drop_reason_name(DropReason r) {
    switch (r) {
        case DropReason::kQueue:
            return "queue";
        case DropReason::kLoss:
            return "loss";
        case DropReason::kBlackhole:
            return "blackhole";
        case DropReason::kCustom:
            return "custom";
        case DropReason::kNat:
            return "nat";
        case DropReason::kMtu:
            return "mtu";
    }
    return "?";
}

std::string format_duration(Duration d) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.6fms", static_cast<double>(d.count()) / 1e6);
    return buf;
}

std::string format_time(Time t) {
    return format_duration(t.time_since_epoch());
}

std::function<bool(uint64_t, ByteSpan)> drop_indexes(uint64_t first, uint64_t last) {
    return [first, last](uint64_t index, ByteSpan) { return index >= first && index <= last; };
}

std::string LinkStats::to_string() const {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "offered %" PRIu64 " (%" PRIu64 " B), delivered %" PRIu64 " (%" PRIu64
                  " B), dropped queue %" PRIu64 " loss %" PRIu64 " blackhole %" PRIu64
                  " custom %" PRIu64 " nat %" PRIu64 " mtu %" PRIu64 ", corrupted %" PRIu64
                  ", duplicated %" PRIu64 ", reordered %" PRIu64 ", max queue %zu, largest %zu B",
                  offered, bytes_offered, delivered, bytes_delivered, dropped_queue, dropped_loss,
                  dropped_blackhole, dropped_custom, dropped_nat, dropped_mtu, corrupted,
                  duplicated, reordered, max_queue, largest_delivered);
    return buf;
}

std::string TraceEvent::to_string() const {
    std::string s = format_time(time) + " " + direction_name(direction) + " " + from.to_string() +
                    " -> " + to.to_string() + " " + std::to_string(size) + " B";
    char fb[16];
    std::snprintf(fb, sizeof fb, " [%02x]", first_byte);
    s += fb;
    if (kind == TraceKind::kDropped)
        s += std::string(" dropped (") + drop_reason_name(drop_reason.value_or(DropReason::kLoss)) +
             ")";
    if (corrupted) s += " corrupted";
    if (duplicate) s += " duplicate";
    if (reordered) s += " reordered";
    return s;
}

// --- Link ------------------------------------------------------------------------------------

Link::Link(LinkConfig config, uint64_t seed) : config_(std::move(config)), random_(seed) {}

size_t Link::mtu_at(Time now) const {
    size_t mtu = config_.mtu;
    for (const auto& [from, m] : config_.mtu_changes)
        if (now >= from) mtu = m;
    return mtu;
}

Duration Link::serialisation_time(size_t bytes) const {
    if (config_.rate_bps == 0) return Duration(0);
    // Fits in 64 bits: 65535 * 8 * 1e9 < 2^63.
    return Duration(static_cast<int64_t>(static_cast<uint64_t>(bytes) * 8 * 1'000'000'000ull /
                                         config_.rate_bps));
}

bool Link::chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    // 53 random bits: a uniform double in [0, 1).
    const double u = static_cast<double>(random_.next_u64() >> 11) * 0x1.0p-53;
    return u < p;
}

std::optional<Time> Link::enqueue(Time now, size_t bytes) {
    while (!in_system_.empty() && in_system_.front() <= now) in_system_.pop_front();
    // The front datagram (if any) is being serialised; the rest wait in the queue.
    const size_t waiting = in_system_.empty() ? 0 : in_system_.size() - 1;
    if (!in_system_.empty() && waiting >= config_.queue_packets) return std::nullopt;
    const Time start = in_system_.empty() ? now : std::max(now, in_system_.back());
    const Time end = start + serialisation_time(bytes);
    in_system_.push_back(end);
    stats_.max_queue = std::max(stats_.max_queue, in_system_.size() - 1);
    return end;
}

Link::Outcome Link::offer(Time now, Datagram datagram) {
    Outcome out;
    const uint64_t index = ++stats_.offered;
    stats_.bytes_offered += datagram.bytes.size();

    auto drop = [&](DropReason r, uint64_t& counter) {
        ++counter;
        out.dropped = r;
        return out;
    };
    const size_t ip_udp_headers =
        datagram.to.family() == SocketAddress::Family::kIpv6 ? 40 + 8 : 20 + 8;
    if (const size_t mtu = mtu_at(now); mtu && datagram.bytes.size() + ip_udp_headers > mtu)
        return drop(DropReason::kMtu, stats_.dropped_mtu);
    for (const auto& [start, end] : config_.blackholes)
        if (now >= start && now < end)
            return drop(DropReason::kBlackhole, stats_.dropped_blackhole);
    if (config_.drop_if && config_.drop_if(index, datagram.bytes))
        return drop(DropReason::kCustom, stats_.dropped_custom);
    if (chance(config_.loss)) {
        // The cap turns a would-be loss into a delivery, so bursts stay short (the runner's
        // "bursts ≤ 3") while the loss rate stays close to the configured one.
        if (config_.max_burst_loss == 0 || consecutive_losses_ < config_.max_burst_loss) {
            ++consecutive_losses_;
            return drop(DropReason::kLoss, stats_.dropped_loss);
        }
    }
    consecutive_losses_ = 0;

    const auto sent = enqueue(now, datagram.bytes.size());
    if (!sent) return drop(DropReason::kQueue, stats_.dropped_queue);

    // Decide the copy before corrupting, so a duplicate is a clean copy of what was sent.
    std::optional<Datagram> copy;
    if (chance(config_.duplicate)) copy = datagram;

    Arrival a{*sent + config_.delay, std::move(datagram)};
    if (!a.datagram.bytes.empty() && chance(config_.corrupt)) {
        // XOR with a non-zero value: the byte always changes.
        const size_t pos = random_.uniform(a.datagram.bytes.size());
        a.datagram.bytes[pos] ^= static_cast<uint8_t>(1 + random_.uniform(255));
        a.corrupted = true;
        ++stats_.corrupted;
    }
    if (chance(config_.reorder)) {
        a.at += config_.reorder_extra;
        a.reordered = true;
        ++stats_.reordered;
    }
    out.arrivals.push_back(std::move(a));

    if (copy) {
        // The copy occupies the link too; a full queue simply means no duplicate.
        if (const auto copy_sent = enqueue(now, copy->bytes.size())) {
            ++stats_.duplicated;
            out.arrivals.push_back(
                Arrival{*copy_sent + config_.delay, std::move(*copy), false, true, false});
        }
    }
    return out;
}

// --- Network ---------------------------------------------------------------------------------

Network::Network(uint64_t seed, LinkConfig client_to_server, LinkConfig server_to_client)
    : digest_(0xcbf29ce484222325ull) {
    links_.emplace_back(std::move(client_to_server), derive_seed(seed, 1));
    links_.emplace_back(std::move(server_to_client), derive_seed(seed, 2));
}

NodeId Network::add_client(SocketAddress address) {
    nodes_.push_back(Node{address, true, {}, std::nullopt, {}});
    return static_cast<NodeId>(nodes_.size() - 1);
}

NodeId Network::add_server(SocketAddress address) {
    if (server_) throw std::logic_error("sim::Network: only one server node");
    nodes_.push_back(Node{address, false, {}, std::nullopt, {}});
    server_ = static_cast<NodeId>(nodes_.size() - 1);
    return *server_;
}

void Network::add_client_address(NodeId client, SocketAddress address) {
    auto& n = nodes_.at(client);
    if (!n.client) throw std::logic_error("sim::Network: an extra address for a non-client node");
    n.more.push_back(address);
}

void Network::add_rebinding(NodeId client, Rebinding r) {
    auto& n = nodes_.at(client);
    if (!n.client) throw std::logic_error("sim::Network: rebinding a non-client node");
    auto pos = std::upper_bound(n.rebindings.begin(), n.rebindings.end(), r.at,
                                [](Time t, const Rebinding& x) { return t < x.at; });
    n.rebindings.insert(pos, std::move(r));
}

void Network::set_rebinding_rule(NodeId client, RebindingRule rule) {
    auto& n = nodes_.at(client);
    if (!n.client) throw std::logic_error("sim::Network: rebinding a non-client node");
    if (rule.period <= Duration(0)) throw std::logic_error("sim::Network: rebinding period <= 0");
    n.rule = rule;
}

SocketAddress Network::external_address(NodeId client, Time t) const {
    const Node& n = nodes_.at(client);
    std::optional<Time> explicit_at;
    SocketAddress result = n.address;
    for (const auto& r : n.rebindings) {
        if (r.at > t) break;
        explicit_at = r.at;
        result = r.new_client_address;
    }
    if (n.rule && t >= n.rule->first) {
        const uint64_t k = static_cast<uint64_t>((t - n.rule->first) / n.rule->period) + 1;
        const Time rule_at = n.rule->first + static_cast<int64_t>(k - 1) * n.rule->period;
        if (!explicit_at || rule_at > *explicit_at) {
            // A deterministic sequence, distinct from the original and from the previous one:
            // a fixed stride through the non-privileged ports, and for change_ip the
            // second-to-last address byte stepped (10.0.0.1 -> 10.0.1.1 -> 10.0.2.1 ...).
            const uint16_t base = n.address.port() < 1024 ? 1024 : n.address.port();
            const uint64_t port = 1024 + (base - 1024 + k * 7919) % (65536 - 1024);
            std::array<uint8_t, 16> ip{};
            const size_t len = n.address.ip_length();
            std::copy(n.address.ip(), n.address.ip() + len, ip.begin());
            if (n.rule->change_ip && len >= 2)
                ip[len - 2] = static_cast<uint8_t>(ip[len - 2] + 1 + (k - 1) % 254);
            if (n.address.family() == SocketAddress::Family::kIpv6) {
                result = SocketAddress::ipv6(ip, static_cast<uint16_t>(port));
            } else {
                result =
                    SocketAddress::ipv4({ip[0], ip[1], ip[2], ip[3]}, static_cast<uint16_t>(port));
            }
        }
    }
    return result;
}

std::optional<NodeId> Network::client_for(const SocketAddress& external, Time t) const {
    for (NodeId id = 0; id < nodes_.size(); ++id) {
        if (!nodes_[id].client) continue;
        if (external_address(id, t) == external) return id;
        for (const SocketAddress& a : nodes_[id].more)
            if (a == external) return id;
    }
    return std::nullopt;
}

void Network::record(Time t, Direction d, TraceKind kind, std::optional<DropReason> reason,
                     const Datagram& addresses, size_t size, uint8_t first_byte,
                     const InFlight::Flags& flags) {
    if (kind == TraceKind::kDelivered) {
        fnv_mix(digest_, static_cast<uint64_t>(time_to_ns(t)), 8);
        fnv_mix(digest_, size, 4);
        fnv_mix(digest_, static_cast<uint64_t>(d), 1);
    }
    if (!record_trace_) return;
    trace_.push_back(TraceEvent{t, d, kind, reason, addresses.from, addresses.to,
                                static_cast<uint32_t>(size), first_byte, flags.corrupted,
                                flags.duplicate, flags.reordered});
}

void Network::record(Time t, Direction d, TraceKind kind, std::optional<DropReason> reason,
                     const InFlight& f) {
    record(t, d, kind, reason, f.datagram, f.datagram.bytes.size(),
           f.datagram.bytes.empty() ? uint8_t{0} : f.datagram.bytes[0], f.flags);
}

void Network::send(Time now, NodeId node, Datagram datagram) {
    const Node& n = nodes_.at(node);
    Direction d;
    if (n.client) {
        // The NAT in front of the client: the server sees the current external address.
        d = Direction::kClientToServer;
        const bool from_more =
            std::find(n.more.begin(), n.more.end(), datagram.from) != n.more.end();
        if (!from_more) datagram.from = external_address(node, now);
    } else {
        d = Direction::kServerToClient;
        if (datagram.from.empty()) datagram.from = n.address;
    }
    // The link consumes the datagram; a copy of its addresses is enough to trace a drop.
    Datagram header{datagram.from, datagram.to, datagram.ecn, {}};
    const size_t size = datagram.bytes.size();
    const uint8_t first = datagram.bytes.empty() ? uint8_t{0} : datagram.bytes[0];
    auto outcome = link(d).offer(now, std::move(datagram));
    if (outcome.dropped) {
        record(now, d, TraceKind::kDropped, outcome.dropped, header, size, first, {});
        return;
    }
    for (auto& a : outcome.arrivals)
        in_flight_.push(
            a.at, InFlight{d, std::move(a.datagram), {a.corrupted, a.duplicate, a.reordered}});
}

std::optional<Network::Delivery> Network::pop_due(Time now) {
    while (!in_flight_.empty() && *in_flight_.next_time() <= now) {
        auto [at, f] = in_flight_.pop();
        Link& l = link(f.direction);
        std::optional<NodeId> target;
        if (f.direction == Direction::kClientToServer) {
            target = server_;
        } else {
            // The NAT maps only the client's current external address; anything sent to an
            // old one (in flight across a rebinding) is lost, as behind a real NAT.
            target = client_for(f.datagram.to, at);
        }
        if (!target) {
            ++l.stats().dropped_nat;
            record(at, f.direction, TraceKind::kDropped, DropReason::kNat, f);
            continue;
        }
        ++l.stats().delivered;
        l.stats().bytes_delivered += f.datagram.bytes.size();
        l.stats().largest_delivered =
            std::max(l.stats().largest_delivered, f.datagram.bytes.size());
        record(at, f.direction, TraceKind::kDelivered, std::nullopt, f);
        Delivery del{*target, std::move(f.datagram)};
        const auto& more = nodes_[*target].more;
        if (f.direction == Direction::kServerToClient &&
            std::find(more.begin(), more.end(), del.datagram.to) == more.end())
            del.datagram.to = nodes_[*target].address;
        return del;
    }
    return std::nullopt;
}

}  // namespace quic::sim
