// The network model alone: datagrams fed into links and the network, no QUIC.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include "sim/harness.h"
#include "sim/network.h"

namespace quic::sim {
namespace {

const SocketAddress kClient = SocketAddress::ipv4({10, 0, 0, 1}, 50000);
const SocketAddress kServer = SocketAddress::ipv4({10, 0, 0, 2}, 443);

Datagram datagram(size_t size, uint64_t tag = 0, Direction d = Direction::kClientToServer) {
    Datagram dg;
    dg.from = d == Direction::kClientToServer ? kClient : kServer;
    dg.to = d == Direction::kClientToServer ? kServer : kClient;
    dg.bytes.resize(size);
    // A recognisable payload: the tag in the first 8 bytes, then a pattern.
    for (size_t i = 0; i < size; ++i)
        dg.bytes[i] = i < 8 ? static_cast<uint8_t>(tag >> (8 * i)) : static_cast<uint8_t>(i * 7);
    return dg;
}

uint64_t tag_of(const Datagram& dg) {
    uint64_t t = 0;
    for (size_t i = 0; i < 8 && i < dg.bytes.size(); ++i)
        t |= static_cast<uint64_t>(dg.bytes[i]) << (8 * i);
    return t;
}

struct Arrived {
    Time at;
    Network::Delivery delivery;
};

// Delivers everything in flight, in order, as the harness would.
std::vector<Arrived> drain(Network& net) {
    std::vector<Arrived> out;
    while (auto t = net.next_delivery()) {
        while (auto d = net.pop_due(*t)) out.push_back(Arrived{*t, std::move(*d)});
    }
    return out;
}

struct TwoNodes {
    explicit TwoNodes(uint64_t seed, LinkConfig c2s = {}, LinkConfig s2c = {})
        : net(seed, std::move(c2s), std::move(s2c)),
          client(net.add_client(kClient)),
          server(net.add_server(kServer)) {}
    Network net;
    NodeId client, server;
};

Time at_ms(double ms) {
    return time_from_ns(static_cast<int64_t>(ms * 1e6));
}

TEST_CASE("network: event queue orders by time, then insertion") {
    EventQueue<int> q;
    q.push(at_ms(5), 1);
    q.push(at_ms(1), 2);
    q.push(at_ms(5), 3);
    q.push(at_ms(1), 4);
    q.push(at_ms(3), 5);
    std::vector<int> order;
    while (!q.empty()) order.push_back(q.pop().second);
    CHECK(order == std::vector<int>{2, 4, 5, 1, 3});
}

TEST_CASE("network: rate limiting: 1000 x 1250 B at 10 Mbit/s take 1 s") {
    LinkConfig cfg;
    cfg.delay = 0ms;
    cfg.queue_packets = 1000;
    TwoNodes n(1, cfg);
    CHECK(n.net.link(Direction::kClientToServer).serialisation_time(1250) == 1ms);
    for (uint64_t i = 0; i < 1000; ++i) n.net.send(Time{}, n.client, datagram(1250, i));
    auto arrived = drain(n.net);
    REQUIRE(arrived.size() == 1000);
    CHECK(arrived.front().at == at_ms(1));
    CHECK(arrived.back().at == at_ms(1000));
    for (size_t i = 0; i < arrived.size(); ++i) {
        CHECK(tag_of(arrived[i].delivery.datagram) == i);
        CHECK(arrived[i].at == time_from_ns(static_cast<int64_t>(i + 1) * 1'000'000));
    }
    const auto& s = n.net.stats(Direction::kClientToServer);
    CHECK(s.delivered == 1000);
    CHECK(s.bytes_delivered == 1'250'000);
    CHECK(s.dropped() == 0);
}

TEST_CASE("network: delay adds to serialisation; a rate of 0 means no serialisation") {
    TwoNodes n(1);  // defaults: 15 ms, 10 Mbit/s
    n.net.send(at_ms(100), n.client, datagram(1000));
    auto a = drain(n.net);
    REQUIRE(a.size() == 1);
    CHECK(a[0].at == at_ms(100) + 15ms + 800us);  // 1000 B at 10 Mbit/s = 0.8 ms
    CHECK(a[0].delivery.node == n.server);
    CHECK(a[0].delivery.datagram.from == kClient);
    CHECK(a[0].delivery.datagram.to == kServer);

    LinkConfig fast;
    fast.rate_bps = 0;
    fast.delay = 750ms;  // interop longrtt
    TwoNodes m(1, {}, fast);
    m.net.send(at_ms(1), m.server, datagram(1200, 0, Direction::kServerToClient));
    auto b = drain(m.net);
    REQUIRE(b.size() == 1);
    CHECK(b[0].at == at_ms(751));
    CHECK(b[0].delivery.node == m.client);
}

TEST_CASE("network: drop-tail queue overflows") {
    TwoNodes n(1);  // 25 packets may wait behind the one being serialised
    for (uint64_t i = 0; i < 100; ++i) n.net.send(Time{}, n.client, datagram(1250, i));
    auto a = drain(n.net);
    REQUIRE(a.size() == 26);
    for (size_t i = 0; i < a.size(); ++i) CHECK(tag_of(a[i].delivery.datagram) == i);
    const auto& s = n.net.stats(Direction::kClientToServer);
    CHECK(s.offered == 100);
    CHECK(s.dropped_queue == 74);
    CHECK(s.max_queue == 25);

    // Once the queue has drained, datagrams are accepted again.
    n.net.send(at_ms(30), n.client, datagram(1250, 1000));
    CHECK(drain(n.net).size() == 1);

    // Sent at the link rate, nothing queues up.
    TwoNodes paced(1);
    for (int i = 0; i < 1000; ++i) paced.net.send(at_ms(i), paced.client, datagram(1250, 0));
    CHECK(drain(paced.net).size() == 1000);
    CHECK(paced.net.stats(Direction::kClientToServer).max_queue == 0);
}

TEST_CASE("network: random loss rate is within tolerance for a seed") {
    for (double p : {0.02, 0.3}) {
        CAPTURE(p);
        LinkConfig cfg;
        cfg.rate_bps = 0;
        cfg.loss = p;
        Link link(cfg, 42);
        const int n = 100000;
        for (int i = 0; i < n; ++i) (void)link.offer(at_ms(i), datagram(100));
        const double rate = static_cast<double>(link.stats().dropped_loss) / n;
        CAPTURE(rate);
        CHECK(rate > p * 0.9);
        CHECK(rate < p * 1.1);
        CHECK(link.stats().dropped() == link.stats().dropped_loss);
    }
}

TEST_CASE("network: loss bursts are capped") {
    for (unsigned cap : {1u, 3u}) {
        CAPTURE(cap);
        LinkConfig cfg;
        cfg.rate_bps = 0;
        cfg.loss = 0.5;
        cfg.max_burst_loss = cap;
        Link link(cfg, 7);
        unsigned run = 0, longest = 0;
        for (int i = 0; i < 20000; ++i) {
            auto out = link.offer(at_ms(i), datagram(100));
            run = out.dropped ? run + 1 : 0;
            longest = std::max(longest, run);
        }
        CHECK(longest == cap);  // reached, never exceeded
        CHECK(link.stats().dropped_loss > 5000);
    }
    // Unlimited: at 50 % loss, 20000 datagrams see bursts longer than 3.
    LinkConfig cfg;
    cfg.rate_bps = 0;
    cfg.loss = 0.5;
    Link link(cfg, 7);
    unsigned run = 0, longest = 0;
    for (int i = 0; i < 20000; ++i) {
        run = link.offer(at_ms(i), datagram(100)).dropped ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    CHECK(longest > 3);
}

TEST_CASE("network: blackhole drops everything sent in [start, end)") {
    LinkConfig cfg;
    cfg.blackholes = {{at_ms(5000), at_ms(7000)}};
    TwoNodes n(3, cfg);
    for (int i = 0; i < 1000; ++i) n.net.send(at_ms(i * 10), n.client, datagram(100, i));
    auto a = drain(n.net);
    CHECK(n.net.stats(Direction::kClientToServer).dropped_blackhole == 200);
    REQUIRE(a.size() == 800);
    for (const auto& x : a) {
        const uint64_t sent_ms = tag_of(x.delivery.datagram) * 10;
        CHECK((sent_ms < 5000 || sent_ms >= 7000));
    }
    // The trace says when and why.
    size_t drops = 0;
    for (const auto& e : n.net.trace()) {
        if (e.kind != TraceKind::kDropped) continue;
        ++drops;
        CHECK(e.drop_reason == DropReason::kBlackhole);
        CHECK(e.time >= at_ms(5000));
        CHECK(e.time < at_ms(7000));
    }
    CHECK(drops == 200);
    // The other direction is untouched.
    CHECK(n.net.stats(Direction::kServerToClient).offered == 0);
}

TEST_CASE("network: datagrams larger than the link MTU are dropped; the MTU can change") {
    LinkConfig cfg;
    cfg.mtu = 1400;                          // IPv4 addresses: 28 bytes of IP and UDP headers
    cfg.mtu_changes = {{at_ms(100), 1280}};  // a route change at 100 ms
    TwoNodes n(4, cfg);
    n.net.send(at_ms(0), n.client, datagram(1372, 1));  // 1400 on the wire: passes
    n.net.send(at_ms(1), n.client, datagram(1373, 2));  // 1401: dropped
    n.net.send(at_ms(100), n.client, datagram(1252, 3));
    n.net.send(at_ms(101), n.client, datagram(1253, 4));
    auto a = drain(n.net);
    REQUIRE(a.size() == 2);
    CHECK(tag_of(a[0].delivery.datagram) == 1);
    CHECK(tag_of(a[1].delivery.datagram) == 3);
    const LinkStats& st = n.net.stats(Direction::kClientToServer);
    CHECK(st.dropped_mtu == 2);
    CHECK(st.largest_delivered == 1372);
    size_t drops = 0;
    for (const auto& e : n.net.trace())
        if (e.kind == TraceKind::kDropped && e.drop_reason == DropReason::kMtu) ++drops;
    CHECK(drops == 2);
    // The default is Ethernet's 1500; 0 means unlimited.
    CHECK(LinkConfig{}.mtu == 1500);
    LinkConfig unlimited;
    unlimited.mtu = 0;
    TwoNodes u(4, unlimited);
    u.net.send(at_ms(0), u.client, datagram(9000, 1));
    CHECK(drain(u.net).size() == 1);
}

TEST_CASE("network: custom drops count datagrams from 1") {
    LinkConfig cfg;
    cfg.drop_if = drop_indexes(2, 7);  // interop amplificationlimit: client packets 2-7
    TwoNodes n(1, cfg);
    for (int i = 1; i <= 10; ++i) n.net.send(at_ms(i * 10), n.client, datagram(1200, i));
    std::vector<uint64_t> tags;
    for (const auto& x : drain(n.net)) tags.push_back(tag_of(x.delivery.datagram));
    CHECK(tags == std::vector<uint64_t>{1, 8, 9, 10});
    CHECK(n.net.stats(Direction::kClientToServer).dropped_custom == 6);
}

TEST_CASE("network: reordering lets later datagrams overtake") {
    LinkConfig cfg;
    cfg.reorder = 0.2;
    cfg.reorder_extra = 10ms;
    TwoNodes n(11, cfg);
    const int count = 1000;
    for (int i = 0; i < count; ++i) n.net.send(at_ms(i), n.client, datagram(200, i));
    auto a = drain(n.net);
    REQUIRE(a.size() == count);
    const auto& s = n.net.stats(Direction::kClientToServer);
    CHECK(s.reordered > 150);
    CHECK(s.reordered < 250);
    size_t out_of_order = 0;
    for (size_t i = 1; i < a.size(); ++i)
        if (tag_of(a[i].delivery.datagram) < tag_of(a[i - 1].delivery.datagram)) ++out_of_order;
    CHECK(out_of_order > 100);
    // Arrival times never go backwards, whatever the order.
    for (size_t i = 1; i < a.size(); ++i) CHECK(a[i].at >= a[i - 1].at);
}

TEST_CASE("network: corruption flips exactly one byte") {
    LinkConfig cfg;
    cfg.corrupt = 1.0;
    cfg.rate_bps = 0;
    TwoNodes n(5, cfg);
    for (int i = 0; i < 500; ++i) n.net.send(at_ms(i), n.client, datagram(1200, 0));
    const Bytes original = datagram(1200, 0).bytes;
    auto a = drain(n.net);
    REQUIRE(a.size() == 500);
    size_t first_byte_hits = 0;
    for (const auto& x : a) {
        const Bytes& got = x.delivery.datagram.bytes;
        REQUIRE(got.size() == original.size());
        size_t diff = 0;
        for (size_t i = 0; i < got.size(); ++i) diff += got[i] != original[i];
        CHECK(diff == 1);
        first_byte_hits += got[0] != original[0];
    }
    CHECK(first_byte_hits < 10);  // positions are spread over the datagram
    CHECK(n.net.stats(Direction::kClientToServer).corrupted == 500);

    LinkConfig some;
    some.corrupt = 0.3;
    Link link(some, 9);
    for (int i = 0; i < 10000; ++i) (void)link.offer(at_ms(i), datagram(100));
    CHECK(link.stats().corrupted > 2700);
    CHECK(link.stats().corrupted < 3300);
}

TEST_CASE("network: duplication delivers a second copy") {
    LinkConfig cfg;
    cfg.duplicate = 1.0;
    TwoNodes n(5, cfg);
    for (int i = 0; i < 10; ++i) n.net.send(at_ms(i * 10), n.client, datagram(1250, i));
    auto a = drain(n.net);
    REQUIRE(a.size() == 20);
    for (size_t i = 0; i < a.size(); ++i) {
        CHECK(tag_of(a[i].delivery.datagram) == i / 2);
        CHECK(a[i].delivery.datagram.bytes == datagram(1250, i / 2).bytes);
    }
    // The copy is serialised right behind the original.
    CHECK(a[1].at - a[0].at == 1ms);
    CHECK(n.net.stats(Direction::kClientToServer).duplicated == 10);
    CHECK(n.net.stats(Direction::kClientToServer).delivered == 20);
    size_t marked = 0;
    for (const auto& e : n.net.trace()) marked += e.duplicate;
    CHECK(marked == 10);
}

// A busy exchange with every impairment on, both directions.
uint64_t impaired_run(uint64_t seed, std::vector<TraceEvent>* trace = nullptr) {
    LinkConfig cfg;
    cfg.loss = 0.05;
    cfg.max_burst_loss = 3;
    cfg.reorder = 0.05;
    cfg.duplicate = 0.02;
    cfg.corrupt = 0.02;
    TwoNodes n(seed, cfg, cfg);
    for (int i = 0; i < 2000; ++i) {
        n.net.send(at_ms(i * 0.3), n.client, datagram(100 + (i * 37) % 1100, i));
        if (i % 3 == 0)
            n.net.send(at_ms(i * 0.3), n.server,
                       datagram(60 + i % 40, i, Direction::kServerToClient));
    }
    drain(n.net);
    if (trace) *trace = n.net.trace();
    return n.net.trace_digest();
}

TEST_CASE("network: one seed gives one trace") {
    std::vector<TraceEvent> t1, t2, t3;
    const uint64_t d1 = impaired_run(1234, &t1);
    const uint64_t d2 = impaired_run(1234, &t2);
    const uint64_t d3 = impaired_run(1235, &t3);
    CHECK(d1 == d2);
    CHECK(t1 == t2);
    CHECK(d1 != d3);
    CHECK(t1 != t3);
    // Both directions and every kind of event are in the trace.
    auto has = [&](auto pred) { return std::any_of(t1.begin(), t1.end(), pred); };
    CHECK(has([](const TraceEvent& e) { return e.direction == Direction::kServerToClient; }));
    CHECK(has([](const TraceEvent& e) { return e.drop_reason == DropReason::kLoss; }));
    CHECK(has([](const TraceEvent& e) { return e.drop_reason == DropReason::kQueue; }));
    CHECK(has([](const TraceEvent& e) { return e.corrupted; }));
    CHECK(has([](const TraceEvent& e) { return e.duplicate; }));
    CHECK(has([](const TraceEvent& e) { return e.reordered; }));
    CHECK_FALSE(t1.front().to_string().empty());
}

TEST_CASE("network: trace digest does not depend on trace recording") {
    TwoNodes a(1), b(1);
    b.net.set_trace_recording(false);
    for (int i = 0; i < 50; ++i) {
        a.net.send(at_ms(i), a.client, datagram(500, i));
        b.net.send(at_ms(i), b.client, datagram(500, i));
    }
    drain(a.net);
    drain(b.net);
    CHECK(a.net.trace_digest() == b.net.trace_digest());
    CHECK(b.net.trace().empty());
    CHECK(a.net.trace().size() == 50);
}

TEST_CASE("network: NAT rebinding changes the source address the server sees") {
    TwoNodes n(1);
    const SocketAddress moved = SocketAddress::ipv4({10, 0, 0, 1}, 61000);
    n.net.add_rebinding(n.client, Rebinding{at_ms(1000), moved});
    CHECK(n.net.external_address(n.client, at_ms(999)) == kClient);
    CHECK(n.net.external_address(n.client, at_ms(1000)) == moved);

    n.net.send(at_ms(500), n.client, datagram(100, 1));
    n.net.send(at_ms(1500), n.client, datagram(100, 2));
    auto a = drain(n.net);
    REQUIRE(a.size() == 2);
    CHECK(a[0].delivery.datagram.from == kClient);
    CHECK(a[1].delivery.datagram.from == moved);
    CHECK(a[1].delivery.datagram.to == kServer);

    // Replies to the new address reach the client, at the address it bound.
    Datagram reply = datagram(100, 3, Direction::kServerToClient);
    reply.to = moved;
    n.net.send(at_ms(1600), n.server, reply);
    // Replies to the old mapping are lost at the NAT.
    n.net.send(at_ms(1600), n.server, datagram(100, 4, Direction::kServerToClient));
    auto b = drain(n.net);
    REQUIRE(b.size() == 1);
    CHECK(tag_of(b[0].delivery.datagram) == 3);
    CHECK(b[0].delivery.node == n.client);
    CHECK(b[0].delivery.datagram.to == kClient);
    CHECK(b[0].delivery.datagram.from == kServer);
    CHECK(n.net.stats(Direction::kServerToClient).dropped_nat == 1);
}

TEST_CASE("network: periodic NAT rebinding (rebind-port, rebind-addr)") {
    for (bool change_ip : {false, true}) {
        CAPTURE(change_ip);
        TwoNodes n(1);
        n.net.set_rebinding_rule(n.client, RebindingRule{at_ms(1000), 5s, change_ip});
        CHECK(n.net.external_address(n.client, at_ms(999)) == kClient);
        std::vector<SocketAddress> seen;
        for (int s = 0; s < 5; ++s) {
            const Time t = at_ms(1000 + s * 5000);
            const SocketAddress a = n.net.external_address(n.client, t);
            CHECK(a == n.net.external_address(n.client, t + 4999ms));  // stable within a period
            CHECK(a.family() == SocketAddress::Family::kIpv4);
            CHECK(a.same_ip(kClient) == !change_ip);
            CHECK(a.port() >= 1024);
            seen.push_back(a);
        }
        for (size_t i = 0; i < seen.size(); ++i) {
            CHECK(seen[i] != kClient);
            if (i > 0) CHECK(seen[i] != seen[i - 1]);
        }
        // The server sees the current address.
        n.net.send(at_ms(7000), n.client, datagram(100));
        auto a = drain(n.net);
        REQUIRE(a.size() == 1);
        CHECK(a[0].delivery.datagram.from == seen[1]);
    }
}

TEST_CASE("network: seeds of links are independent and reproducible") {
    CHECK(derive_seed(1, 1) == derive_seed(1, 1));
    CHECK(derive_seed(1, 1) != derive_seed(1, 2));
    CHECK(derive_seed(1, 1) != derive_seed(2, 1));
}

// --- the simulation loop, with scripted nodes instead of QUIC endpoints ----------------------

struct Received {
    Time at;
    Path path;
    Bytes bytes;
};

// Sends what it is told to, optionally echoes what it receives, and has one scripted timer.
class ScriptNode final : public SimNode {
  public:
    struct Out {
        Path path;
        Bytes bytes;  // several datagrams of segment_size when segment_size > 0
        size_t segment_size = 0;
    };
    std::deque<Out> outbox;
    std::vector<Received> received;
    bool echo = false;
    std::optional<Time> timeout;
    std::function<void(Time)> timer;  // called from on_timeout; should move `timeout`
    size_t timeouts = 0;
    bool endless = false;  // poll_transmit never says "nothing more"

    void on_datagram(Time now, const Path& path, Ecn, MutableByteSpan d) override {
        received.push_back(Received{now, path, Bytes(d.begin(), d.end())});
        if (echo) outbox.push_back(Out{path, Bytes(d.begin(), d.end())});
    }
    std::optional<Transmit> poll_transmit(Time, MutableByteSpan buf) override {
        if (endless) outbox.push_back(Out{path_to_server(), Bytes(100, 1)});
        if (outbox.empty()) return std::nullopt;
        Out o = std::move(outbox.front());
        outbox.pop_front();
        std::memcpy(buf.data(), o.bytes.data(), o.bytes.size());
        return Transmit{o.path, Ecn::kEct0, o.bytes.size(), o.segment_size};
    }
    std::optional<Time> next_timeout() const override { return timeout; }
    void on_timeout(Time now) override {
        ++timeouts;
        if (timer) timer(now);
    }
    static Path path_to_server() { return Path{kClient, kServer}; }
};

struct ScriptSim {
    explicit ScriptSim(uint64_t seed, LinkConfig c2s = {}, LinkConfig s2c = {})
        : sim(seed, std::move(c2s), std::move(s2c)) {
        server = &add(false);
        client = &add(true);
        server->echo = true;
    }
    ScriptNode& add(bool is_client) {
        auto& n = sim.add_node([](uint64_t) { return std::make_unique<ScriptNode>(); },
                               is_client ? kClient : kServer, is_client);
        return static_cast<ScriptNode&>(n);
    }
    Simulation sim;
    ScriptNode* server;
    ScriptNode* client;
};

TEST_CASE("loop: datagrams cross the network and come back") {
    ScriptSim s(1);
    s.client->outbox.push_back({ScriptNode::path_to_server(), Bytes(1250, 7)});
    auto r = s.sim.run_until([&] { return !s.client->received.empty(); }, 10s);
    INFO(r.message);
    REQUIRE(r.done());
    // 1 ms serialisation and 15 ms delay each way.
    CHECK(r.end == at_ms(32));
    CHECK(s.sim.now() == at_ms(32));
    REQUIRE(s.server->received.size() == 1);
    CHECK(s.server->received[0].at == at_ms(16));
    CHECK(s.server->received[0].path == Path{kServer, kClient});
    CHECK(s.client->received[0].path == Path{kClient, kServer});
    CHECK(s.client->received[0].bytes == Bytes(1250, 7));
}

TEST_CASE("loop: a GSO transmit is split into its segments") {
    ScriptSim s(1);
    Bytes batch;
    for (uint8_t i = 0; i < 3; ++i) batch.insert(batch.end(), 1200, i);
    batch.insert(batch.end(), 500, 3);  // the last segment may be shorter
    s.client->outbox.push_back({ScriptNode::path_to_server(), batch, 1200});
    auto r = s.sim.run_until([&] { return s.client->received.size() == 4; }, 10s);
    INFO(r.message);
    REQUIRE(r.done());
    REQUIRE(s.server->received.size() == 4);
    for (uint8_t i = 0; i < 4; ++i) {
        CHECK(s.server->received[i].bytes.size() == (i < 3 ? 1200u : 500u));
        CHECK(s.server->received[i].bytes[0] == i);
    }
}

TEST_CASE("loop: ECN marks pass only when asked") {
    for (bool pass : {false, true}) {
        CAPTURE(pass);
        struct EcnProbe final : SimNode {
            Ecn seen = Ecn::kCe;
            void on_datagram(Time, const Path&, Ecn e, MutableByteSpan) override { seen = e; }
            std::optional<Transmit> poll_transmit(Time, MutableByteSpan) override { return {}; }
            std::optional<Time> next_timeout() const override { return {}; }
            void on_timeout(Time) override {}
        };
        // The server records the mark; the scripted client sends ECT(0).
        Simulation sim(1, {}, {});
        auto& probe = static_cast<EcnProbe&>(
            sim.add_node([](uint64_t) { return std::make_unique<EcnProbe>(); }, kServer, false));
        auto& client = static_cast<ScriptNode&>(
            sim.add_node([](uint64_t) { return std::make_unique<ScriptNode>(); }, kClient, true));
        sim.set_ecn_passthrough(pass);
        client.outbox.push_back({ScriptNode::path_to_server(), Bytes(100, 0)});
        CHECK(sim.run_for(1s).status == RunResult::Status::kTimeLimit);
        CHECK(probe.seen == (pass ? Ecn::kEct0 : Ecn::kNotEct));
    }
}

TEST_CASE("loop: timers fire at their time; idle stretches are skipped") {
    ScriptSim s(1);
    s.client->timeout = at_ms(10);
    s.client->timer = [&](Time now) { s.client->timeout = now + 10ms; };
    auto r = s.sim.run_for(1s);
    CHECK(r.status == RunResult::Status::kTimeLimit);
    CHECK(s.sim.now() == at_ms(1000));
    CHECK(s.client->timeouts == 100);

    ScriptSim idle(1);
    auto i = idle.sim.run_until([] { return false; }, 10s);
    CHECK(i.status == RunResult::Status::kIdle);
    CHECK(i.message.find("seed 1") != std::string::npos);
    CHECK(idle.sim.run_for(5s).status == RunResult::Status::kTimeLimit);
    CHECK(idle.sim.now() == at_ms(5000));
}

TEST_CASE("loop: applications step and wake up") {
    ScriptSim s(1);
    std::vector<Time> steps;
    s.sim.set_on_step(*s.client, [&](Time now) {
        if (steps.empty() || steps.back() != now) steps.push_back(now);
    });
    s.sim.wake_at(at_ms(250));
    s.sim.wake_at(at_ms(500));
    CHECK(s.sim.run_for(1s).status == RunResult::Status::kTimeLimit);
    CHECK(steps == std::vector<Time>{at_ms(0), at_ms(250), at_ms(500)});
}

TEST_CASE("loop: livelocks fail with the seed") {
    ScriptSim stuck(77);
    stuck.client->timeout = at_ms(5);  // never moves: time cannot advance
    auto r = stuck.sim.run_until([] { return false; }, 10s);
    CHECK(r.status == RunResult::Status::kLivelock);
    CHECK(r.message.find("seed 77") != std::string::npos);
    CHECK(r.message.find("10.0.0.1:50000") != std::string::npos);
    CHECK(stuck.sim.now() == at_ms(5));

    ScriptSim chatty(78);
    chatty.client->endless = true;
    auto c = chatty.sim.run_until([] { return false; }, 10s);
    CHECK(c.status == RunResult::Status::kLivelock);
    CHECK(c.message.find("seed 78") != std::string::npos);
}

TEST_CASE("loop: NAT rebinding seen by the server, replies reach the client") {
    ScriptSim s(1);
    const SocketAddress moved = SocketAddress::ipv4({10, 0, 0, 1}, 61000);
    s.sim.add_rebinding(Rebinding{at_ms(500), moved}, *s.client);
    s.client->timeout = at_ms(0);
    s.client->timer = [&](Time now) {  // one datagram every 100 ms
        s.client->outbox.push_back({ScriptNode::path_to_server(), Bytes(100, 0)});
        s.client->timeout = now + 100ms;
    };
    CHECK(s.sim.run_for(1s).status == RunResult::Status::kTimeLimit);
    REQUIRE(s.server->received.size() == 10);
    for (const auto& d : s.server->received)
        CHECK(d.path.remote == (d.at < at_ms(500) ? kClient : moved));
    // Every echo went to the address its request came from, so all got through the NAT.
    CHECK(s.client->received.size() == 10);
    for (const auto& d : s.client->received) CHECK(d.path == Path{kClient, kServer});
}

uint64_t lossy_echo_digest(uint64_t seed) {
    LinkConfig cfg;
    cfg.loss = 0.1;
    cfg.reorder = 0.1;
    ScriptSim s(seed, cfg, cfg);
    s.client->timeout = at_ms(0);
    s.client->timer = [&](Time now) {
        s.client->outbox.push_back({ScriptNode::path_to_server(), Bytes(1000, 0)});
        s.client->timeout = now + 1ms;
    };
    CHECK(s.sim.run_for(2s).status == RunResult::Status::kTimeLimit);
    return s.sim.network().trace_digest();
}

TEST_CASE("loop: one seed gives one run") {
    CHECK(lossy_echo_digest(5) == lossy_echo_digest(5));
    CHECK(lossy_echo_digest(5) != lossy_echo_digest(6));
}

}  // namespace
}  // namespace quic::sim
