// DPLPMTUD (RFC 8899, RFC 9000 §14.3) in the simulator: links with an MTU drop every datagram
// larger than it, silently, as a router does with DF set. The server sends the file, so its
// connection's search is the one watched, through its tracer (qlog mtu_updated, recovery
// metrics, congestion states) and the links' statistics.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "quic/tracer.h"
#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

constexpr size_t kIpv4UdpHeaders = 28;  // the simulator's addresses are IPv4
constexpr size_t kCeiling = 1452;       // ConnectionConfig::max_udp_payload_size's default
constexpr size_t kGranularity = 16;     // PmtuDiscovery::kSearchGranularity

class PmtuTracer final : public trace::Tracer {
  public:
    struct Update {
        Time at;
        size_t old_size, new_size;
        bool done;
    };
    std::vector<Update> updates;
    std::vector<std::pair<Time, uint64_t>> cwnd;  // on every change
    std::vector<std::string> states;

    void mtu_updated(Time t, size_t old_size, size_t new_size, bool done) override {
        updates.push_back({t, old_size, new_size, done});
    }
    void metrics_updated(Time t, const trace::RecoveryMetrics& m) override {
        if (cwnd.empty() || cwnd.back().second != m.congestion_window)
            cwnd.emplace_back(t, m.congestion_window);
    }
    void congestion_state_updated(Time, std::string_view, std::string_view state) override {
        states.emplace_back(state);
    }
    std::vector<size_t> datagrams;  // DATAGRAM frames received (RFC 9221)
    void datagram_received(Time, size_t size) override { datagrams.push_back(size); }
    size_t final_mtu() const { return updates.empty() ? 1200 : updates.back().new_size; }
    uint64_t min_cwnd_after(Time t) const {
        uint64_t m = UINT64_MAX;
        for (const auto& [at, w] : cwnd)
            if (at >= t) m = std::min(m, w);
        return m;
    }
};

struct Run {
    TransferOutcome outcome;
    std::shared_ptr<PmtuTracer> server;
    double goodput_bps = 0;
};

Run transfer(uint64_t seed, const LinkConfig& down, const LinkConfig& up, uint64_t bytes) {
    TransferScenario s = sim_scenario(seed);
    s.server_to_client = down;
    s.client_to_server = up;
    s.file_sizes = {bytes};
    Run r;
    r.server = std::make_shared<PmtuTracer>();
    s.server.tracer_factory = [t = r.server](Role, const ConnectionId&) { return t; };
    r.outcome = check_file_transfer(s);
    const auto& f = r.outcome.files.at(0);
    if (f.requested_at && f.completed_at)
        r.goodput_bps = static_cast<double>(bytes) * 8 /
                        std::chrono::duration<double>(*f.completed_at - *f.requested_at).count();
    return r;
}

LinkConfig link_with_mtu(size_t mtu) {
    LinkConfig l;
    l.mtu = mtu;
    return l;
}

}  // namespace

TEST_CASE("pmtud: the PMTU is found on links with an MTU of 1280+28, 1400 and 1500") {
    for (size_t mtu : {size_t{1280 + 28}, size_t{1400}, size_t{1500}}) {
        CAPTURE(mtu);
        const LinkConfig link = link_with_mtu(mtu);
        const Run r = transfer(11, link, link, 1 << 20);
        const size_t path = std::min(mtu - kIpv4UdpHeaders, kCeiling);
        const size_t found = r.server->final_mtu();
        MESSAGE("link MTU " << mtu << ": server PMTU " << found << " after "
                            << r.server->updates.size() << " updates, client PMTU "
                            << r.outcome.client_stats->pmtu);
        // At most the path, within the search's granularity of it, and the search is over.
        CHECK(found <= path);
        CHECK(found + kGranularity > path);
        REQUIRE(!r.server->updates.empty());
        CHECK(r.server->updates.back().done);
        // The client sent its request and ACKs only, under kPmtudMinStreamBytes: it never
        // probed (a search would cost it more than it saves).
        CHECK(r.outcome.client_stats->pmtu == 1200);
        CHECK(r.outcome.client_stats->pmtu_probes_sent == 0);
        // The data went in datagrams of that size.
        CHECK(r.outcome.server_to_client.largest_delivered == found);
        // Only probes were too large for the link: one for a 1500-byte link, MAX_PROBES (3)
        // per refuted size otherwise.
        if (path == kCeiling)
            CHECK(r.outcome.server_to_client.dropped_mtu == 0);
        else
            CHECK(r.outcome.server_to_client.dropped_mtu % 3 == 0);
        CHECK(r.outcome.server_to_client.dropped_mtu <= 3 * 5);
    }
}

TEST_CASE("pmtud: a PMTU black hole after the PMTU was raised: fall back to 1200, search again") {
    // The server->client route changes at 3 s to one whose MTU is 1280 + 28: every full-size
    // datagram of the transfer (1452 bytes) vanishes from then on.
    LinkConfig down = link_with_mtu(1500);
    const Time change = time_from_ns(3'000'000'000);
    down.mtu_changes = {{change, 1280 + 28}};
    const LinkConfig up = link_with_mtu(1500);
    const Run r = transfer(12, down, up, 8 << 20);
    const auto& u = r.server->updates;
    for (const auto& x : u)
        MESSAGE(format_time(x.at) << ": " << x.old_size << " -> " << x.new_size
                                  << std::string(x.done ? " (done)" : ""));
    MESSAGE("goodput " << r.goodput_bps / 1e6 << " Mbit/s; min cwnd after the change "
                       << r.server->min_cwnd_after(change));
    // Raised to the ceiling first, back to 1200 after the change, then up to what the new
    // route carries.
    REQUIRE(u.size() >= 3);
    CHECK(u.front().new_size == kCeiling);
    CHECK(u.front().at < change);
    auto fallback = std::find_if(u.begin(), u.end(),
                                 [&](const PmtuTracer::Update& x) { return x.new_size == 1200; });
    REQUIRE(fallback != u.end());
    CHECK(fallback->at > change);
    CHECK(r.server->final_mtu() <= 1280);
    CHECK(r.server->final_mtu() + kGranularity > 1280);
    // No congestion collapse: the loss of a window of full-size datagrams is one congestion
    // event, not persistent congestion (which would leave 2 datagrams of window), and the
    // transfer still fills most of the 10 Mbit/s link.
    CHECK(r.server->min_cwnd_after(change) > 4 * 1452);
    CHECK(r.goodput_bps > 0.6 * 10e6);
}

TEST_CASE("pmtud: lost probes are no congestion signal") {
    // A link whose MTU refutes the first probes, with a queue deep enough that nothing else
    // is ever lost: the congestion window only grows, and no congestion event happens.
    LinkConfig down = link_with_mtu(1400);
    down.queue_packets = 10'000;
    LinkConfig up = down;
    const Run r = transfer(13, down, up, 2 << 20);
    CHECK(r.outcome.server_to_client.dropped_mtu >= 3);  // probes were lost
    CHECK(r.outcome.server_to_client.dropped_queue == 0);
    CHECK(std::find(r.server->states.begin(), r.server->states.end(), "recovery") ==
          r.server->states.end());
    for (size_t i = 1; i < r.server->cwnd.size(); ++i) {
        CAPTURE(i);
        CHECK(r.server->cwnd[i].second >= r.server->cwnd[i - 1].second);
    }
    CHECK(r.outcome.client_stats->packets_lost == 0);
}

TEST_CASE("pmtud: a forged ICMP MTU below 1200 is ignored; a plausible one lowers the PMTU") {
    // Adversarial checklist 24 (quic-go CVE-2024-53259): a packet-too-big claiming a tiny MTU
    // must not shrink datagrams below QUIC's minimum (RFC 9000 §14.2.1).
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    EndpointConfig sc, cc;
    sc.server_tls = tls->server;
    cc.client_tls = tls->client;
    auto tracer = std::make_shared<PmtuTracer>();
    sc.tracer_factory = [tracer](Role, const ConnectionId&) { return tracer; };
    Simulation sim(14, LinkConfig{}, LinkConfig{});
    Endpoint& server_ep = sim.add_server(sc);
    Endpoint& client_ep = sim.add_client(cc);
    FileTransferServer server(server_ep);
    FileTransferClient client(client_ep, sim.client_path(client_ep), ConnectOptions{"server"},
                              {4 << 20});
    const SocketAddress client_address = sim.address(client_ep);
    bool forged = false, plausible = false;
    size_t after_forged = 0;
    sim.set_on_step(server_ep, [&](Time t) {
        server.step(t);
        if (!forged && tracer->final_mtu() == kCeiling) {
            forged = true;
            // An IPv4 MTU of 576 less 28, one just under 1200, and a zero.
            for (size_t bogus : {size_t{548}, size_t{1199}, size_t{0}})
                server_ep.on_packet_too_big(t, client_address, bogus);
            after_forged = tracer->final_mtu();
        } else if (forged && !plausible && t > time_from_ns(2'000'000'000)) {
            plausible = true;
            server_ep.on_packet_too_big(t, client_address, 1300);
        }
    });
    sim.set_on_step(client_ep, [&](Time t) { client.step(t); });
    const RunResult run = sim.run_until([&] { return client.finished(); }, 60s);
    INFO(sim.describe());
    REQUIRE(run.done());
    CHECK(client.done());
    REQUIRE(forged);
    CHECK(after_forged == kCeiling);
    REQUIRE(plausible);
    CHECK(tracer->final_mtu() == 1300);
    CHECK(sim.network().stats(Direction::kServerToClient).largest_delivered == kCeiling);
}

TEST_CASE("pmtud: a DATAGRAM queued for the larger PMTU is dropped when the PMTU falls") {
    // RFC 9221 §5 lets a sender drop datagrams; one that no longer fits must not stay queued
    // (it would block every later one).
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    EndpointConfig sc, cc;
    sc.server_tls = tls->server;
    cc.client_tls = tls->client;
    sc.connection.max_datagram_frame_size = 65535;
    cc.connection.max_datagram_frame_size = 65535;
    cc.connection.pmtud_start_after_bytes = 0;  // this client sends no stream data, yet probes
    auto tracer = std::make_shared<PmtuTracer>();
    sc.tracer_factory = [tracer](Role, const ConnectionId&) { return tracer; };
    Simulation sim(15, LinkConfig{}, LinkConfig{});
    Endpoint& server_ep = sim.add_server(sc);
    Endpoint& client_ep = sim.add_client(cc);
    FileTransferServer server(server_ep);
    FileTransferClient client(client_ep, sim.client_path(client_ep), ConnectOptions{"server"},
                              {1 << 20});
    std::optional<Time> shrunk_at;
    size_t big = 0, small_left = 3;
    sim.set_on_step(server_ep, [&](Time t) { server.step(t); });
    sim.set_on_step(client_ep, [&](Time t) {
        client.step(t);
        const auto& conn = client.connection();
        if (!conn) return;
        if (!shrunk_at && conn->stats().pmtu == kCeiling) {
            // Queued and the PMTU falls before the connection is polled again.
            big = conn->max_datagram_size();
            REQUIRE(big > 1300);
            CHECK(conn->send_datagram(Bytes(big, 0xdd)).ok());
            client_ep.on_packet_too_big(t, sim.server_address(), 1300);
            shrunk_at = t;
            CHECK(conn->max_datagram_size() < 1300);
        } else if (shrunk_at && small_left > 0 && conn->send_datagram(Bytes(100, 0x11)).ok()) {
            --small_left;
        }
    });
    const RunResult run = sim.run_until([&] { return client.finished(); }, 60s);
    INFO(sim.describe());
    REQUIRE(run.done());
    CHECK(client.done());
    REQUIRE(shrunk_at);
    CHECK(small_left == 0);
    // The small ones sent after the fall arrived; the large one never did.
    CHECK(tracer->datagrams == std::vector<size_t>{100, 100, 100});
    // Nothing larger than the new PMTU left the client after the fall.
    for (const TraceEvent& e : sim.network().trace())
        if (e.direction == Direction::kClientToServer && e.time > *shrunk_at) CHECK(e.size <= 1300);
}
