// The latency spin bit (RFC 9000 §17.4) as an on-path observer sees it: the simulator's trace
// of the datagrams the client sends, read at the server's side of the link. Short headers
// carry the bit in the clear (0x20 of the first byte).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

struct Observed {
    TransferOutcome outcome;
    std::vector<std::pair<Time, bool>> client_bits, server_bits;  // short headers, delivered
};

Observed observe(uint64_t seed, bool spin, const LinkConfig& link, uint64_t bytes) {
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    Simulation sim(seed, link, link);
    EndpointConfig sc, cc;
    sc.server_tls = tls->server;
    cc.client_tls = tls->client;
    sc.connection.spin_bit = spin;
    cc.connection.spin_bit = spin;
    // Small receive windows: the transfer is flow-control limited, one window per round
    // trip, so it lasts many round trips even on a link without a rate limit.
    cc.connection.initial_stream_receive_window = cc.connection.max_stream_receive_window =
        64 * 1024;
    cc.connection.initial_connection_receive_window = cc.connection.max_connection_receive_window =
        128 * 1024;
    Endpoint& server_ep = sim.add_server(sc);
    Endpoint& client_ep = sim.add_client(cc);
    FileTransferServer server(server_ep);
    FileTransferClient client(client_ep, sim.client_path(client_ep), ConnectOptions{"server"},
                              {bytes});
    sim.set_on_step(server_ep, [&](Time t) { server.step(t); });
    sim.set_on_step(client_ep, [&](Time t) { client.step(t); });
    Observed o;
    o.outcome.run = sim.run_until([&] { return client.finished(); }, 60s);
    INFO(sim.describe());
    REQUIRE(o.outcome.run.done());
    REQUIRE(client.done());
    o.outcome.client_stats = client.connection()->stats();
    for (const TraceEvent& e : sim.network().trace()) {
        if (e.kind != TraceKind::kDelivered || (e.first_byte & 0x80)) continue;
        const bool bit = (e.first_byte & 0x20) != 0;
        (e.direction == Direction::kClientToServer ? o.client_bits : o.server_bits)
            .emplace_back(e.time, bit);
    }
    return o;
}

// Times between consecutive changes of the bit.
std::vector<Duration> edge_intervals(const std::vector<std::pair<Time, bool>>& bits) {
    std::vector<Time> edges;
    for (size_t i = 1; i < bits.size(); ++i)
        if (bits[i].second != bits[i - 1].second) edges.push_back(bits[i].first);
    std::vector<Duration> out;
    for (size_t i = 1; i < edges.size(); ++i) out.push_back(edges[i] - edges[i - 1]);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("spin bit: on a fixed-delay link the spin period seen on the wire is the RTT") {
    // 15 ms each way, no serialisation, no queue: the RTT is 30 ms throughout (2 MiB in 64 KiB
    // windows: about 32 round trips).
    LinkConfig link;
    link.rate_bps = 0;
    link.delay = 15ms;
    // Seeds whose connections both spin (each side alone disables it for 1 in 16).
    for (uint64_t seed : {21, 22}) {
        CAPTURE(seed);
        const Observed o = observe(seed, true, link, 2 << 20);
        REQUIRE(o.outcome.client_stats->spin_bit);
        const auto intervals = edge_intervals(o.client_bits);
        REQUIRE(intervals.size() >= 10);
        const Duration median = intervals[intervals.size() / 2];
        MESSAGE("seed " << seed << ": " << intervals.size() << " spin edges, median period "
                        << format_duration(median) << ", min " << format_duration(intervals.front())
                        << ", max " << format_duration(intervals.back()));
        // An edge needs a full round trip; most take exactly one (ACK delay makes a few longer).
        CHECK(intervals.front() >= 30ms);
        CHECK(median <= 33ms);
        // The server's packets spin with the same period.
        const auto server_intervals = edge_intervals(o.server_bits);
        REQUIRE(server_intervals.size() >= 10);
        CHECK(server_intervals.front() >= 30ms);
    }
}

TEST_CASE("spin bit: a connection that does not spin sends one random value throughout") {
    LinkConfig link;
    link.delay = 15ms;
    std::set<bool> values_seen;
    for (uint64_t seed = 31; seed < 39; ++seed) {
        CAPTURE(seed);
        const Observed o = observe(seed, false, link, 200'000);
        CHECK_FALSE(o.outcome.client_stats->spin_bit);
        REQUIRE(o.client_bits.size() > 10);
        REQUIRE(o.server_bits.size() > 10);
        CHECK(edge_intervals(o.client_bits).empty());
        CHECK(edge_intervals(o.server_bits).empty());
        for (size_t i = 1; i < o.client_bits.size(); ++i)
            CHECK(o.client_bits[i].second == o.client_bits[0].second);
        for (size_t i = 1; i < o.server_bits.size(); ++i)
            CHECK(o.server_bits[i].second == o.server_bits[0].second);
        values_seen.insert(o.client_bits[0].second);
        values_seen.insert(o.server_bits[0].second);
    }
    // RFC 9000 §17.4 RECOMMENDS a random value: over 16 connections, both appear.
    CHECK(values_seen.size() == 2);
}
