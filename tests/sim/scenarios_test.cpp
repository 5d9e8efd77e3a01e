// Scenarios of the quic-interop-runner (interop/README.md) and of issue 3, run in the
// deterministic simulator: each asserts data integrity and the protocol fact behind it. A
// failure prints its seed (doctest INFO).
#include <doctest/doctest.h>

#include <openssl/x509.h>

#include <set>

#include "conn/limits.h"
#include "conn/test_access.h"
#include "quic/frame.h"
#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

constexpr Time kStart = Time{};  // the simulation's clock starts at 0

TransferScenario base(uint64_t seed, std::vector<uint64_t> sizes) {
    return sim_scenario(seed, std::move(sizes));
}

// v1 long-header packet types from the (unprotected) first byte, RFC 9000 §17.2.
bool is_long(uint8_t b) {
    return b & 0x80;
}
int long_type(uint8_t b) {
    return (b >> 4) & 0x3;
}  // 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry

size_t count(const std::vector<TraceEvent>& trace, Direction d, int type) {
    size_t n = 0;
    for (const TraceEvent& e : trace)
        if (e.direction == d && is_long(e.first_byte) && long_type(e.first_byte) == type) ++n;
    return n;
}

double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

TEST_CASE("scenario: handshake in one round trip, no Retry, then a 1 KiB file") {
    TransferScenario s = base(101, {1024});
    TransferOutcome out = check_file_transfer(s);
    REQUIRE(out.handshake_completed_at);
    // 15 ms each way plus serialisation: the client completes after one round trip (~31 ms).
    CHECK(*out.handshake_completed_at - kStart < 40ms);
    CHECK(out.client_stats->packets_lost == 0);
}

TEST_CASE("scenario: 750 ms one-way delay: the transfer completes") {
    TransferScenario s = base(102, {1024});
    s.client_to_server.delay = s.server_to_client.delay = 750ms;
    TransferOutcome out = check_file_transfer(s);
    // The handshake takes at least two 1.5 s round trips' worth of probing and answering.
    REQUIRE(out.handshake_completed_at);
    CHECK(*out.handshake_completed_at - kStart >= 1500ms);
}

TEST_CASE("scenario: the runner's longrtt check: at least two client Initials before any reply") {
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    LinkConfig slow;
    slow.delay = 750ms;
    Simulation sim(103, slow, slow);
    EndpointConfig sc, cc;
    sc.server_tls = tls->server;
    cc.client_tls = tls->client;
    Endpoint& server = sim.add_server(sc);
    Endpoint& client = sim.add_client(cc);
    FileTransferServer app_server(server);
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  {1024});
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    RunResult r = sim.run_until([&] { return app_client.finished(); }, 30s);
    INFO(r.message);
    REQUIRE(app_client.done());
    Time first_reply{};
    for (const TraceEvent& e : sim.network().trace())
        if (e.direction == Direction::kServerToClient) {
            first_reply = e.time;
            break;
        }
    // Trace times are arrival times: a client datagram left 750 ms (plus serialisation)
    // before it arrived.
    size_t initials_before = 0;
    for (const TraceEvent& e : sim.network().trace())
        if (e.direction == Direction::kClientToServer && e.time - 751ms < first_reply &&
            is_long(e.first_byte) && long_type(e.first_byte) == 0)
            ++initials_before;
    CHECK(initials_before >= 2);
}

TEST_CASE("scenario: 10 MiB over 10 Mbit/s, 30 ms RTT, 25-packet queue within 20% of ideal") {
    TransferScenario s = base(104, {10 << 20});
    TransferOutcome out = check_file_transfer(s);
    REQUIRE(out.completed_at);
    const double ideal = (10.0 * (1 << 20) * 8) / 10e6;  // payload bytes at the link rate
    const double took = seconds(*out.completed_at - kStart);
    INFO("took " << took << " s, ideal " << ideal << " s, efficiency " << ideal / took);
    CHECK(took < ideal * 1.2);
    MESSAGE("10 MiB at 10 Mbit/s: " << took << " s (ideal " << ideal << " s, efficiency "
                                    << int(100 * ideal / took) << "%)");
}

TEST_CASE("scenario: 1999 small streams under a 1000-stream credit") {
    TransferScenario s = base(105, std::vector<uint64_t>(1999, 32));
    s.server.connection.max_incoming_streams = 1000;
    TransferOutcome out = check_file_transfer(s);
    CHECK(out.files.size() == 1999);
}

TEST_CASE("scenario: Retry: the server validates the address first") {
    TransferScenario s = base(106, {10 * 1024});
    s.server.retry = RetryPolicy::kAlways;
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    Endpoint& server = sim.add_server(s.server);
    Endpoint& client = sim.add_client(s.client);
    FileTransferServer app_server(server);
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  s.file_sizes);
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    RunResult r = sim.run_until([&] { return app_client.finished(); }, 30s);
    INFO(r.message << " " << app_client.failure());
    REQUIRE(app_client.done());
    CHECK(server.stats().retries_sent == 1);
    CHECK(count(sim.network().trace(), Direction::kServerToClient, 3) == 1);  // one Retry
    CHECK(app_server.connections_accepted() == 1);
}

namespace {

// A client endpoint making several connections one after another (resumption, 0-RTT,
// multiconnect).
struct Sequential {
    Simulation sim;
    Endpoint& server;
    Endpoint& client;
    FileTransferServer app_server;
    std::unique_ptr<FileTransferClient> app_client;

    Sequential(uint64_t seed, LinkConfig c2s, LinkConfig s2c, EndpointConfig sc, EndpointConfig cc)
        : sim(seed, c2s, s2c),
          server(sim.add_server(sc)),
          client(sim.add_client(cc)),
          app_server(server) {
        sim.set_on_step(server, [this](Time t) { app_server.step(t); });
        sim.set_on_step(client, [this](Time t) {
            if (app_client) app_client->step(t);
        });
    }

    RunResult fetch(std::vector<uint64_t> sizes, ConnectOptions opts,
                    FileTransferClient::Options o = {}, Duration max = 30s) {
        if (opts.server_name.empty()) opts.server_name = "server";
        app_client = std::make_unique<FileTransferClient>(client, sim.client_path(client),
                                                          std::move(opts), std::move(sizes), o);
        return sim.run_until([this] { return app_client->finished(); }, max);
    }
};

}  // namespace

TEST_CASE("scenario: resumption, then 0-RTT requests answered") {
    TransferScenario s = base(107, {});
    s.client.connection.enable_0rtt = true;
    s.server.connection.enable_0rtt = true;
    Sequential q(s.seed, s.client_to_server, s.server_to_client, s.server, s.client);
    RunResult r1 = q.fetch({5 * 1024}, {});
    INFO(r1.message << " " << q.app_client->failure());
    REQUIRE(q.app_client->done());
    Bytes ticket = q.app_client->session_ticket();
    REQUIRE_FALSE(ticket.empty());
    CHECK_FALSE(q.app_client->connection()->info().resumed);
    CHECK_FALSE(q.app_client->connection()->info().early_data_attempted);  // no ticket yet

    FileTransferClient::Options early;
    early.open_before_handshake = true;
    RunResult r2 =
        q.fetch(std::vector<uint64_t>(40, 32), ConnectOptions{"server", ticket, {}}, early);
    INFO(r2.message << " " << q.app_client->failure());
    REQUIRE(q.app_client->done());
    const ConnectionInfo& info = q.app_client->connection()->info();
    CHECK(info.resumed);
    CHECK(info.early_data_attempted);
    CHECK(info.early_data_accepted);
}

TEST_CASE("scenario: 0-RTT packets reach the server and carry the requests") {
    TransferScenario s = base(108, {});
    s.client.connection.enable_0rtt = true;
    s.server.connection.enable_0rtt = true;
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    Endpoint& server = sim.add_server(s.server);
    Endpoint& client = sim.add_client(s.client);
    std::vector<std::shared_ptr<Connection>> server_conns;
    FileTransferServer app_server(server);
    std::unique_ptr<FileTransferClient> app_client;
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) {
        if (app_client) app_client->step(t);
    });
    app_client = std::make_unique<FileTransferClient>(
        client, sim.client_path(client), ConnectOptions{"server"}, std::vector<uint64_t>{1024});
    REQUIRE(sim.run_until([&] { return app_client->finished(); }, 30s).done());
    Bytes ticket = app_client->session_ticket();
    REQUIRE_FALSE(ticket.empty());
    FileTransferClient::Options early;
    early.open_before_handshake = true;
    early.close_when_done = false;
    app_client = std::make_unique<FileTransferClient>(client, sim.client_path(client),
                                                      ConnectOptions{"server", ticket, {}},
                                                      std::vector<uint64_t>(40, 32), early);
    REQUIRE(sim.run_until([&] { return app_client->finished(); }, 30s).done());
    CHECK(app_client->done());
    // Every request left before the handshake completed: in 0-RTT.
    for (const auto& f : app_client->files()) {
        REQUIRE(f.requested_at);
        CHECK(*f.requested_at <= *app_client->started_at() + 1ms);
    }
    CHECK(app_client->connection()->info().early_data_accepted);
    CHECK(app_client->connection()->stats().handshake_duration_ns > 0);
    // The 40 answers arrived within about one round trip of the handshake.
    CHECK(*app_client->completed_at() - *app_client->started_at() < 80ms);
}

TEST_CASE("scenario: key update started by the client while data flows") {
    TransferScenario s = base(109, {3 << 20});
    s.client.connection.key_update_interval_packets = 50;
    TransferOutcome out = check_file_transfer(s);
    CHECK(out.client_stats->key_updates >= 2);
}

TEST_CASE("scenario: key update started by the server while data flows") {
    TransferScenario s = base(110, {3 << 20});
    s.server.connection.key_update_interval_packets = 200;
    TransferOutcome out = check_file_transfer(s);
    // The client follows each of the server's updates (RFC 9001 §6.2).
    CHECK(out.client_stats->key_updates >= 2);
}

TEST_CASE("scenario: 50 handshakes under 30% loss with bursts of at most 3, all complete") {
    TransferScenario s = base(111, {});
    s.client_to_server.loss = s.server_to_client.loss = 0.30;
    s.client_to_server.max_burst_loss = s.server_to_client.max_burst_loss = 3;
    Sequential q(s.seed, s.client_to_server, s.server_to_client, s.server, s.client);
    for (int i = 0; i < 50; ++i) {
        RunResult r = q.fetch({1024}, {}, {}, 60s);
        INFO("connection " << i << ": " << r.message << " " << q.app_client->failure());
        REQUIRE(q.app_client->done());
    }
    CHECK(q.app_server.connections_accepted() == 50);
    CHECK(seconds(q.sim.now() - kStart) < 300);
}

TEST_CASE("scenario: 2 MiB under 2% loss with bursts") {
    TransferScenario s = base(112, {2 << 20});
    s.client_to_server.loss = s.server_to_client.loss = 0.02;
    s.client_to_server.max_burst_loss = s.server_to_client.max_burst_loss = 3;
    TransferOutcome out = check_file_transfer(s);
    CHECK(out.client_to_server.dropped_loss + out.server_to_client.dropped_loss > 0);
    REQUIRE(out.completed_at);
    MESSAGE("2 MiB, 2% loss: " << seconds(*out.completed_at - kStart) << " s; " << out.describe());
}

TEST_CASE("scenario: 2 MiB under 2% corruption") {
    TransferScenario s = base(113, {2 << 20});
    s.client_to_server.corrupt = s.server_to_client.corrupt = 0.02;
    TransferOutcome out = check_file_transfer(s);
    CHECK(out.client_to_server.corrupted + out.server_to_client.corrupted > 0);
}

TEST_CASE("scenario: 50 handshakes under 30% corruption") {
    TransferScenario s = base(114, {});
    s.client_to_server.corrupt = s.server_to_client.corrupt = 0.30;
    Sequential q(s.seed, s.client_to_server, s.server_to_client, s.server, s.client);
    for (int i = 0; i < 50; ++i) {
        RunResult r = q.fetch({1024}, {}, {}, 60s);
        INFO("connection " << i << ": " << r.message << " " << q.app_client->failure());
        REQUIRE(q.app_client->done());
    }
    CHECK(q.app_server.connections_accepted() == 50);
}

TEST_CASE("scenario: a 2-second blackhole mid-transfer") {
    TransferScenario s = base(115, {10 << 20});
    const auto hole = std::make_pair(kStart + 5s, kStart + 7s);
    s.client_to_server.blackholes = s.server_to_client.blackholes = {hole};
    TransferOutcome out = check_file_transfer(s);
    CHECK(out.client_to_server.dropped_blackhole + out.server_to_client.dropped_blackhole > 0);
}

TEST_CASE("scenario: NAT rebinding of the client's port: the server validates the new path") {
    TransferScenario s = base(116, {3 << 20});
    s.rebinding_rule = RebindingRule{kStart + 1s, 5s, false};
    TransferOutcome out = check_file_transfer(s);
    CHECK(out.client_to_server.dropped_nat + out.server_to_client.dropped_nat >= 0);
}

TEST_CASE(
    "scenario: NAT rebinding while the client waits in silence for a slow response: its quiet-path "
    "PINGs show the server the new address, and the response arrives") {
    // The request goes out at once; the server's application answers only at 5 s. The NAT
    // rebinds the client at 1 s, when neither side has anything in flight: the server's
    // response would go to the old address (dropped) unless the client sends something from
    // the new one first (conn_timers.cpp, quiet_probe_at).
    TransferScenario s = base(1270, {64 << 10});
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    Endpoint& server = sim.add_server(s.server);
    Endpoint& client = sim.add_client(s.client);
    const SocketAddress rebound = *SocketAddress::parse("10.0.0.9:40000");
    sim.add_rebinding(Rebinding{kStart + 1s, rebound});
    FileTransferServer app_server(server);
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  s.file_sizes);
    sim.set_on_step(server, [&](Time t) {
        if (t >= kStart + 5s) app_server.step(t);
    });
    sim.wake_at(kStart + 5s);
    uint64_t sent_before_answer = 0;
    sim.set_on_step(client, [&](Time t) {
        app_client.step(t);
        if (t < kStart + 5s && app_client.connection())
            sent_before_answer = app_client.connection()->stats().packets_sent;
    });
    RunResult r = sim.run_until([&] { return app_client.finished(); }, 20s);
    INFO(r.message << " " << app_client.failure() << " " << sim.describe());
    REQUIRE(app_client.done());
    REQUIRE(app_server.accepted_connections().size() == 1);
    CHECK(app_server.accepted_connections()[0]->path().remote == rebound);
    CHECK(app_server.accepted_connections()[0]->stats().path_migrations == 1);
    // Before the answer (15 seen): the handshake and its ACKs, the request, kMaxQuietProbes
    // PINGs; not one per round trip for 4 s (hundreds).
    CHECK(sent_before_answer <= 14 + kMaxQuietProbes);
}

TEST_CASE(
    "scenario: NAT rebinding every 5 s during a 15-second transfer (checklist 26): port, then "
    "address and port; the server follows each, the transfer completes") {
    for (const bool change_ip : {false, true}) {
        CAPTURE(change_ip);
        // 3 MiB at 2 Mbit/s: about 13 s, so the rebindings at 1, 6 and 11 s all fall inside.
        TransferScenario s = base(change_ip ? 1261 : 1260, {3 << 20});
        s.client_to_server.rate_bps = 2'000'000;
        s.server_to_client.rate_bps = 2'000'000;
        Simulation sim(s.seed, s.client_to_server, s.server_to_client);
        Endpoint& server = sim.add_server(s.server);
        Endpoint& client = sim.add_client(s.client);
        sim.set_rebinding_rule(RebindingRule{kStart + 1s, 5s, change_ip});
        FileTransferServer app_server(server);
        FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                      s.file_sizes);
        sim.set_on_step(server, [&](Time t) { app_server.step(t); });
        sim.set_on_step(client, [&](Time t) { app_client.step(t); });
        RunResult r = sim.run_until([&] { return app_client.finished(); }, 60s);
        INFO(r.message << " " << app_client.failure() << " " << sim.describe());
        REQUIRE(app_client.done());
        CHECK(app_server.errors().empty());
        CHECK(app_server.connections_accepted() == 1);
        // The client's external addresses the server received from while the transfer ran, in
        // order of first appearance: the original and one per rebinding.
        std::vector<SocketAddress> sources;
        Time last_to_server{};
        for (const TraceEvent& e : sim.network().trace()) {
            if (e.direction != Direction::kClientToServer || e.kind != TraceKind::kDelivered)
                continue;
            last_to_server = e.time;
            if (std::find(sources.begin(), sources.end(), e.from) == sources.end())
                sources.push_back(e.from);
        }
        MESSAGE("sources " << sources.size() << ", last datagram to the server at "
                           << (last_to_server - kStart).count() / 1'000'000 << " ms");
        CHECK(sources.size() >= 4);
        for (size_t i = 1; i < sources.size(); ++i)
            CHECK(sources[i].same_ip(sources[0]) == !change_ip);
    }
}

TEST_CASE("scenario: amplification: client packets 2-7 dropped, the server stays within 3x") {
    TransferScenario s = base(117, {5 * 1024});
    // A nine-certificate chain makes the server's first flight larger than 3 x 1200 bytes.
    auto leaf = make_self_signed(KeyType::kEcdsaP256, {"server", "server4", "server6", "server46"});
    REQUIRE(leaf.ok());
    CertifiedKey chain = std::move(leaf).value();
    for (int i = 0; i < 8; ++i) {
        auto extra =
            make_self_signed(KeyType::kEcdsaP256, {"intermediate-" + std::to_string(i) + ".example",
                                                   "a.example", "b.example", "c.example"});
        REQUIRE(extra.ok());
        chain.chain.push_back(std::move(extra->chain[0]));
    }
    TlsConfig sc;
    sc.is_server = true;
    sc.alpn = {"hq-interop"};
    sc.certificate = chain;
    s.server.server_tls = std::shared_ptr<TlsContext>(std::move(TlsContext::create(sc)).value());
    s.client_to_server.drop_if = drop_indexes(2, 7);
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    Endpoint& server = sim.add_server(s.server);
    Endpoint& client = sim.add_client(s.client);
    FileTransferServer app_server(server);
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  s.file_sizes);
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    RunResult r = sim.run_until([&] { return app_client.finished(); }, 60s);
    INFO(r.message << " " << app_client.failure());
    REQUIRE(app_client.done());
    // Until the server receives a second datagram from the client, it has received exactly the
    // first one; what it sent by then (send time = arrival - delay - serialisation) is <= 3x.
    const auto& trace = sim.network().trace();
    uint64_t received = 0, sent_before_second = 0;
    Time second_arrival = Time::max();
    int client_datagrams = 0;
    for (const TraceEvent& e : trace) {
        if (e.direction == Direction::kClientToServer && e.kind == TraceKind::kDelivered) {
            if (++client_datagrams == 2) {
                second_arrival = e.time;
                break;
            }
            received += e.size;
        }
    }
    for (const TraceEvent& e : trace) {
        if (e.direction != Direction::kServerToClient) continue;
        const Duration serialisation = std::chrono::nanoseconds(
            uint64_t(e.size) * 8 * 1'000'000'000 / s.server_to_client.rate_bps);
        const Time sent_at = e.kind == TraceKind::kDelivered
                                 ? e.time - s.server_to_client.delay - serialisation
                                 : e.time;
        if (sent_at < second_arrival) sent_before_second += e.size;
    }
    INFO("received " << received << ", sent " << sent_before_second);
    CHECK(received >= 1200);
    CHECK(sent_before_second <= 3 * received);
    CHECK(sent_before_second > 2 * received);  // the limit, not the flight size, stopped it
}

TEST_CASE("scenario: idle timeout closes silently after the smaller max_idle_timeout") {
    TransferScenario s = base(118, {1024});
    s.client.connection.max_idle_timeout = 2s;
    s.server.connection.max_idle_timeout = 5s;
    s.client_options.close_when_done = false;
    Sequential q(s.seed, s.client_to_server, s.server_to_client, s.server, s.client);
    FileTransferClient::Options keep;
    keep.close_when_done = false;
    REQUIRE(q.fetch({1024}, {}, keep).done());
    auto conn = q.app_client->connection();
    const Time done_at = q.sim.now();
    RunResult r = q.sim.run_until([&] { return conn->is_closed(); }, 10s);
    INFO(r.message);
    REQUIRE(conn->is_closed());
    REQUIRE(conn->close_reason());
    CHECK(conn->close_reason()->origin == CloseOrigin::kIdleTimeout);
    const double idle = seconds(q.sim.now() - done_at);
    CHECK(idle >= 1.9);
    CHECK(idle <= 2.5);
    // Silent close (§10.1): the last datagram (the final ACKs) long before the timeout.
    CHECK(q.sim.network().trace().back().time < done_at + 500ms);
}

TEST_CASE("scenario: the peer sees the application close code and reason") {
    TransferScenario s = base(120, {});
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    Endpoint& server = sim.add_server(s.server);
    Endpoint& client = sim.add_client(s.client);
    std::shared_ptr<Connection> sconn, cconn;
    std::optional<ConnectionClosed> server_saw;
    bool closed = false;
    sim.set_on_step(server, [&](Time) {
        if (!sconn) sconn = server.accept();
        if (sconn)
            while (auto ev = sconn->poll_event())
                if (auto* c = std::get_if<ConnectionClosed>(&*ev)) server_saw = *c;
    });
    sim.set_on_step(client, [&](Time now) {
        if (!cconn) cconn = *client.connect(now, sim.client_path(client), ConnectOptions{"server"});
        while (auto ev = cconn->poll_event()) (void)ev;
        if (cconn->is_handshake_complete() && !closed) {
            cconn->close(now, 0x42, "done here");
            closed = true;
        }
    });
    (void)sim.run_until([&] { return server_saw.has_value(); }, 5s);
    REQUIRE(server_saw);
    CHECK(server_saw->origin == CloseOrigin::kPeer);
    CHECK(server_saw->error.space == ErrorSpace::kApplication);
    CHECK(server_saw->error.code == 0x42);
    CHECK(server_saw->error.reason == "done here");
}

TEST_CASE("scenario: stateless reset after the server forgets the connection") {
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    SeededRandom rng(121);
    Bytes key(32, 7);
    EndpointConfig sc, cc;
    sc.server_tls = tls->server;
    sc.static_key = key;
    cc.client_tls = tls->client;
    auto server = std::make_unique<Endpoint>(sc, rng);
    Endpoint client(cc, rng);
    const SocketAddress ca = SocketAddress::ipv4({10, 0, 0, 1}, 5000);
    const SocketAddress sa = SocketAddress::ipv4({10, 0, 0, 2}, 443);
    Time now = kStart + 1s;
    auto conn = *client.connect(now, Path{ca, sa}, ConnectOptions{"server"});
    uint8_t buf[2048];
    // Exchange datagrams instantly until the handshake is confirmed.
    for (int i = 0; i < 50 && !conn->is_handshake_complete(); ++i) {
        while (auto t = client.poll_transmit(now, buf))
            server->on_datagram(now, Path{sa, ca}, Ecn::kNotEct, MutableByteSpan(buf, t->size));
        while (auto t = server->poll_transmit(now, buf))
            client.on_datagram(now, Path{ca, sa}, Ecn::kNotEct, MutableByteSpan(buf, t->size));
        now += 1ms;
    }
    REQUIRE(conn->is_handshake_complete());
    for (int i = 0; i < 5; ++i) {  // let HANDSHAKE_DONE and NEW_CONNECTION_ID settle
        while (auto t = client.poll_transmit(now, buf))
            server->on_datagram(now, Path{sa, ca}, Ecn::kNotEct, MutableByteSpan(buf, t->size));
        while (auto t = server->poll_transmit(now, buf))
            client.on_datagram(now, Path{ca, sa}, Ecn::kNotEct, MutableByteSpan(buf, t->size));
        now += 30ms;
        client.on_timeout(now);
        server->on_timeout(now);
    }
    // The server restarts with the same static key: it knows no connection, but can derive
    // the reset token of the connection ID the client sends to (RFC 9000 §10.3.2).
    server = std::make_unique<Endpoint>(sc, rng);
    auto sid = conn->open_stream(true);
    REQUIRE(sid.ok());
    const uint8_t hello[] = {'h', 'i'};
    REQUIRE(conn->write(*sid, hello, true).ok());
    auto t = client.poll_transmit(now, buf);
    REQUIRE(t);
    server->on_datagram(now, Path{sa, ca}, Ecn::kNotEct, MutableByteSpan(buf, t->size));
    CHECK(server->stats().stateless_resets_sent == 1);
    auto reset = server->poll_transmit(now, buf);
    REQUIRE(reset);
    CHECK(reset->size < t->size);  // §10.3.3: smaller than what triggered it
    client.on_datagram(now, Path{ca, sa}, Ecn::kNotEct, MutableByteSpan(buf, reset->size));
    REQUIRE(conn->close_reason());
    CHECK(conn->close_reason()->origin == CloseOrigin::kStatelessReset);
    CHECK(conn->is_closed());
}

TEST_CASE("scenario: a slow reader keeps the sender within flow control and memory bounded") {
    TransferScenario s = base(122, {});
    s.client.connection.initial_stream_receive_window = 64 * 1024;
    s.client.connection.max_stream_receive_window = 128 * 1024;
    s.client.connection.initial_connection_receive_window = 96 * 1024;
    s.client.connection.max_connection_receive_window = 192 * 1024;
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    Endpoint& server = sim.add_server(s.server);
    Endpoint& client = sim.add_client(s.client);
    FileTransferServer app_server(server);
    std::shared_ptr<Connection> conn;
    uint64_t sid = 0, read = 0, max_buffered = 0;
    bool fin = false, requested = false;
    const uint64_t size = 2 << 20;
    const std::string request = "GET /" + file_name(0, size) + "\r\n";
    Time next_read = kStart;
    Bytes buf(1000), expected(1000);
    bool content_ok = true;
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time now) {
        if (!conn) conn = *client.connect(now, sim.client_path(client), ConnectOptions{"server"});
        while (auto ev = conn->poll_event()) (void)ev;
        if (conn->is_handshake_complete() && !requested) {
            sid = *conn->open_stream(true);
            REQUIRE(conn->write(sid, ByteSpan((const uint8_t*)request.data(), request.size()), true)
                        .ok());
            requested = true;
        }
        // Read 1000 bytes every 10 ms: 100 kB/s, far below the link's 1.25 MB/s.
        if (requested && now >= next_read && !fin) {
            auto n = conn->read(sid, buf, &fin);
            if (n.ok() && *n) {
                file_content(file_name(0, size), read, MutableByteSpan(expected).first(*n));
                content_ok &= std::equal(buf.begin(), buf.begin() + *n, expected.begin());
                read += *n;
            }
            next_read = now + 10ms;
            sim.wake_at(next_read);
        }
        const ConnectionStats st = conn->stats();
        max_buffered = std::max(max_buffered, st.stream_bytes_received - read);
    });
    RunResult r = sim.run_until([&] { return read >= 300 * 1000; }, 10s);
    INFO(r.message);
    CHECK(content_ok);
    CHECK(read >= 300 * 1000);
    // Received but unread bytes never exceed the connection window we allow.
    CHECK(max_buffered <= s.client.connection.max_connection_receive_window);
    CHECK(max_buffered > 0);
    // The server is flow-control blocked, not sending into the void: few losses.
    CHECK(conn->stats().packets_lost == 0);
}

TEST_CASE("scenario: one seed gives one trace") {
    TransferScenario s = base(123, {300 * 1024});
    s.client_to_server.loss = s.server_to_client.loss = 0.01;
    auto run = [&] {
        Simulation sim(s.seed, s.client_to_server, s.server_to_client);
        Endpoint& server = sim.add_server(s.server);
        Endpoint& client = sim.add_client(s.client);
        FileTransferServer app_server(server);
        FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                      s.file_sizes);
        sim.set_on_step(server, [&](Time t) { app_server.step(t); });
        sim.set_on_step(client, [&](Time t) { app_client.step(t); });
        REQUIRE(sim.run_until([&] { return app_client.finished(); }, 30s).done());
        // The first byte's low bits are under header protection (RFC 9001 §5.4.1) and so
        // random: keep the unprotected ones.
        std::vector<TraceEvent> trace = sim.network().trace();
        for (TraceEvent& e : trace) e.first_byte &= is_long(e.first_byte) ? 0xf0 : 0xe0;
        return trace;
    };
    auto a = run();
    auto b = run();
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (!(a[i] == b[i])) {
            MESSAGE("first difference at event " << i << ": " << a[i].to_string() << " vs "
                                                 << b[i].to_string());
            break;
        }
    REQUIRE(a.size() == b.size());
    CHECK(a == b);
}

// --- malformed and illegal frames: each closes the connection with its RFC error code, which
// the peer receives in CONNECTION_CLOSE ----------------------------------------------------

namespace {

struct InjectCase {
    const char* name;
    std::vector<uint8_t> payload;  // frames as a peer would send them in a 1-RTT packet
    TransportErrorCode expected;
};

Bytes encode(const Frame& f) {
    Bytes out(encoded_size(f));
    ByteWriter w(out);
    REQUIRE(encode_frame(w, f));
    return out;
}

NewConnectionIdFrame new_cid(uint64_t seq, uint8_t fill, uint64_t retire_prior_to = 0) {
    std::array<uint8_t, 8> bytes;
    bytes.fill(fill);
    NewConnectionIdFrame f;
    f.sequence_number = seq;
    f.retire_prior_to = retire_prior_to;
    f.connection_id = ConnectionId(bytes);
    f.stateless_reset_token.fill(fill);
    return f;
}

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST_CASE("scenario: injected malformed and illegal frames close with the right error code") {
    const std::vector<InjectCase> cases = {
        {"unknown frame type", {0x21}, TransportErrorCode::kFrameEncodingError},
        {"truncated STREAM", {0x0a, 0x00, 0x05, 'a'}, TransportErrorCode::kFrameEncodingError},
        {"HANDSHAKE_DONE from a client", {0x1e}, TransportErrorCode::kProtocolViolation},
        {"NEW_TOKEN from a client", {0x07, 0x01, 0xaa}, TransportErrorCode::kProtocolViolation},
        {"STREAM on a server uni stream that cannot exist",
         encode(StreamFrame{3, 0, {}, true, true}), TransportErrorCode::kStreamStateError},
        {"STREAM beyond the stream limit", encode(StreamFrame{4 * 5000, 0, {}, false, true}),
         TransportErrorCode::kStreamLimitError},
        {"STREAM beyond flow control",
         encode(StreamFrame{0, (1 << 20) * 10, ByteSpan((const uint8_t*)"x", 1), false, true}),
         TransportErrorCode::kFlowControlError},
        {"ACK of a packet never sent", encode(AckFrame{1000000, 0, {{1000000, 1000000}}, {}, 0}),
         TransportErrorCode::kProtocolViolation},
        {"RETIRE_CONNECTION_ID never issued", encode(RetireConnectionIdFrame{99}),
         TransportErrorCode::kProtocolViolation},
        {"DATAGRAM not negotiated", {0x31, 0x01, 0x00}, TransportErrorCode::kProtocolViolation},
        {"CRYPTO far beyond the buffer",
         encode(CryptoFrame{1 << 20, ByteSpan((const uint8_t*)"x", 1)}),
         TransportErrorCode::kCryptoBufferExceeded},
        {"NEW_CONNECTION_ID beyond active_connection_id_limit",
         concat({encode(new_cid(100, 1)), encode(new_cid(101, 2)), encode(new_cid(102, 3)),
                 encode(new_cid(103, 4))}),
         TransportErrorCode::kConnectionIdLimitError},
        {"RESET_STREAM with a final size below received data",
         {0x0b, 0x00, 0x0a, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 0x04, 0x00, 0x00,
          0x02},
         TransportErrorCode::kFinalSizeError},
    };
    for (const InjectCase& c : cases) {
        INFO(std::string(c.name));
        TransferScenario s = base(124, {});
        Simulation sim(s.seed, s.client_to_server, s.server_to_client);
        Endpoint& server = sim.add_server(s.server);
        Endpoint& client = sim.add_client(s.client);
        std::shared_ptr<Connection> sconn, cconn;
        std::optional<ConnectionClosed> client_saw;
        bool injected = false;
        sim.set_on_step(server, [&](Time now) {
            if (!sconn) sconn = server.accept();
            if (!sconn) return;
            while (auto ev = sconn->poll_event()) (void)ev;
            if (sconn->is_handshake_complete() && !injected) {
                // As if the client had sent these frames in a 1-RTT packet.
                ConnectionTestAccess::receive_frames(*sconn, now, PacketType::kOneRtt, c.payload);
                injected = true;
            }
        });
        sim.set_on_step(client, [&](Time now) {
            if (!cconn)
                cconn = *client.connect(now, sim.client_path(client), ConnectOptions{"server"});
            while (auto ev = cconn->poll_event())
                if (auto* closed = std::get_if<ConnectionClosed>(&*ev)) client_saw = *closed;
        });
        (void)sim.run_until([&] { return client_saw.has_value(); }, 5s);
        REQUIRE(client_saw);
        CHECK(client_saw->origin == CloseOrigin::kPeer);
        CHECK(client_saw->error.space == ErrorSpace::kTransport);
        CHECK(client_saw->error.code == static_cast<uint64_t>(c.expected));
        REQUIRE(sconn->close_reason());
        CHECK(sconn->close_reason()->error.code == static_cast<uint64_t>(c.expected));
    }
}

// --- versions, tokens, datagrams, timeouts ----------------------------------------------------

namespace {

// Runs a client connection until `until` holds or the time runs out; the server side runs the
// file server. Returns the client connection.
struct Quick {
    Simulation sim;
    Endpoint& server;
    Endpoint& client;
    FileTransferServer app_server;
    std::shared_ptr<Connection> conn;
    std::vector<ConnectionEvent> events;

    Quick(uint64_t seed, EndpointConfig sc, EndpointConfig cc, LinkConfig link = {})
        : sim(seed, link, link),
          server(sim.add_server(sc)),
          client(sim.add_client(cc)),
          app_server(server) {
        sim.set_on_step(server, [this](Time t) { app_server.step(t); });
    }
    RunResult run(ConnectOptions opts, const std::function<bool()>& until, Duration max,
                  std::function<void(Time)> on_client = {}) {
        if (opts.server_name.empty()) opts.server_name = "server";
        sim.set_on_step(client, [this, opts, on_client](Time now) {
            if (!conn) {
                auto c = client.connect(now, sim.client_path(client), opts);
                REQUIRE(c.ok());
                conn = *c;
            }
            while (auto ev = conn->poll_event()) events.push_back(std::move(*ev));
            if (on_client) on_client(now);
        });
        return sim.run_until(until, max);
    }
    template <class E>
    const E* find() const {
        for (const auto& e : events)
            if (auto* p = std::get_if<E>(&e)) return p;
        return nullptr;
    }
};

}  // namespace

TEST_CASE("scenario: QUIC v2 end to end (RFC 9369)") {
    TransferScenario s = base(130, {64 * 1024});
    s.client.connection.versions = {kVersion2};
    s.server.connection.versions = {kVersion2, kVersion1};
    TransferOutcome out = check_file_transfer(s);
    REQUIRE(out.completed_at);
    // On the wire: v2 type bits (RFC 9369 §3.2): Initial 0b01, Handshake 0b11; no packet has
    // v1's Initial bits 0b00 (which v2 uses for Retry, and there is no Retry here).
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    Endpoint& server = sim.add_server(s.server);
    Endpoint& client = sim.add_client(s.client);
    FileTransferServer app_server(server);
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  {1024});
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    REQUIRE(sim.run_until([&] { return app_client.finished(); }, 10s).done());
    REQUIRE(app_client.done());
    CHECK(app_client.connection()->info().version == kVersion2);
    const auto& trace = sim.network().trace();
    CHECK(count(trace, Direction::kClientToServer, 1) > 0);
    CHECK(count(trace, Direction::kClientToServer, 0) == 0);
    CHECK(count(trace, Direction::kServerToClient, 0) == 0);
}

TEST_CASE("scenario: no shared version: Version Negotiation, and a clear error") {
    TransferScenario s = base(131, {});
    s.client.connection.versions = {kVersion2};
    s.server.connection.versions = {kVersion1};
    Quick q(s.seed, s.server, s.client);
    RunResult r = q.run(
        {}, [&] { return q.conn && q.conn->is_closed(); }, 5s);
    INFO(r.message);
    REQUIRE(q.conn);
    REQUIRE(q.conn->close_reason());
    CHECK(q.conn->close_reason()->origin == CloseOrigin::kVersionMismatch);
    CHECK(q.conn->close_reason()->error.reason.find("0x00000001") != std::string::npos);
    CHECK(q.server.stats().version_negotiations_sent == 1);
}

TEST_CASE("scenario: a NEW_TOKEN token lets the next connection skip Retry") {
    TransferScenario s = base(132, {});
    s.server.retry = RetryPolicy::kAlways;
    Sequential q(s.seed, s.client_to_server, s.server_to_client, s.server, s.client);
    REQUIRE(q.fetch({1024}, {}).done());
    CHECK(q.server.stats().retries_sent == 1);
    Bytes token = q.app_client->new_token();
    REQUIRE_FALSE(token.empty());
    REQUIRE(q.fetch({1024}, ConnectOptions{"server", {}, token}).done());
    CHECK(q.app_client->done());
    CHECK(q.server.stats().retries_sent == 1);  // no second Retry
}

TEST_CASE("scenario: a tampered token gets a Retry instead of validation") {
    TransferScenario s = base(133, {});
    s.server.retry = RetryPolicy::kAlways;
    Sequential q(s.seed, s.client_to_server, s.server_to_client, s.server, s.client);
    REQUIRE(q.fetch({1024}, {}).done());
    Bytes token = q.app_client->new_token();
    REQUIRE_FALSE(token.empty());
    token[token.size() / 2] ^= 0x01;
    REQUIRE(q.fetch({1024}, ConnectOptions{"server", {}, token}).done());
    CHECK(q.server.stats().retries_sent == 2);
}

TEST_CASE("scenario: DATAGRAM frames both ways (RFC 9221)") {
    TransferScenario s = base(134, {});
    s.client.connection.max_datagram_frame_size = 1200;
    s.server.connection.max_datagram_frame_size = 1200;
    Quick q(s.seed, s.server, s.client);
    std::shared_ptr<Connection> sconn;
    std::vector<Bytes> server_got;
    q.sim.set_on_step(q.server, [&](Time) {
        if (!sconn) sconn = q.server.accept();
        if (!sconn) return;
        while (auto ev = sconn->poll_event())
            if (auto* d = std::get_if<DatagramReceived>(&*ev)) {
                server_got.push_back(d->data);
                REQUIRE(sconn->send_datagram(d->data).ok());  // echo
            }
    });
    bool sent = false;
    RunResult r = q.run(
        {},
        [&] {
            int echoes = 0;
            for (const auto& e : q.events) echoes += std::holds_alternative<DatagramReceived>(e);
            return echoes == 3;
        },
        5s,
        [&](Time) {
            if (sent || !q.conn->is_handshake_complete()) return;
            CHECK(q.conn->info().datagrams_supported);
            CHECK(q.conn->max_datagram_size() > 1000);
            for (uint8_t i = 1; i <= 3; ++i) {
                Bytes d(100 * i, i);
                REQUIRE(q.conn->send_datagram(d).ok());
            }
            Bytes too_big(q.conn->max_datagram_size() + 1, 0);
            CHECK_FALSE(q.conn->send_datagram(too_big).ok());
            sent = true;
        });
    INFO(r.message);
    REQUIRE(server_got.size() == 3);
    CHECK(server_got[1] == Bytes(200, 2));
}

TEST_CASE("scenario: handshake timeout when the server never answers") {
    TransferScenario s = base(135, {});
    s.client.connection.handshake_timeout = 3s;
    LinkConfig dead;
    dead.blackholes = {{kStart, kStart + 100s}};
    Quick q(s.seed, s.server, s.client, dead);
    RunResult r = q.run(
        {}, [&] { return q.conn && q.conn->is_closed(); }, 10s);
    INFO(r.message);
    REQUIRE(q.conn->close_reason());
    CHECK(q.conn->close_reason()->origin == CloseOrigin::kHandshakeTimeout);
    CHECK(seconds(q.sim.now() - kStart) == doctest::Approx(3.0).epsilon(0.05));
}

TEST_CASE("scenario: keep-alive PINGs keep an idle connection open") {
    TransferScenario s = base(136, {});
    s.client.connection.max_idle_timeout = 2s;
    s.server.connection.max_idle_timeout = 2s;
    s.client.connection.keep_alive_period = 500ms;
    Quick q(s.seed, s.server, s.client);
    RunResult r = q.run(
        {}, [] { return false; }, 6s);
    REQUIRE(q.conn);
    CHECK(q.conn->is_handshake_complete());
    CHECK_FALSE(q.conn->is_closed());
    CHECK(q.app_server.open_connections() == 1);
}

// --- tracing: what the tracer sees agrees with the connection and with the peer ----------------

namespace {

struct RecordingTracer : trace::Tracer {
    std::set<std::pair<int, uint64_t>> sent, received;  // (packet type, packet number)
    uint64_t sent_count = 0, received_count = 0, lost = 0, metrics = 0, keys = 0, closed = 0;
    void packet_sent(Time, const trace::PacketHeaderInfo& h, std::span<const Frame> f) override {
        sent.insert(
            {int(h.type == PacketType::kZeroRtt ? PacketType::kOneRtt : h.type), h.packet_number});
        ++sent_count;
        CHECK_FALSE(f.empty());
    }
    void packet_received(Time, const trace::PacketHeaderInfo& h,
                         std::span<const Frame> f) override {
        received.insert(
            {int(h.type == PacketType::kZeroRtt ? PacketType::kOneRtt : h.type), h.packet_number});
        ++received_count;
        CHECK_FALSE(f.empty());
    }
    void packet_lost(Time, PacketType, uint64_t, trace::LossTrigger) override { ++lost; }
    void metrics_updated(Time, const trace::RecoveryMetrics&) override { ++metrics; }
    void key_updated(Time, trace::KeyKind, uint64_t, trace::KeyTrigger) override { ++keys; }
    void connection_closed(Time, const ConnectionClosed&) override { ++closed; }
};

}  // namespace

TEST_CASE("scenario: the tracer's counts agree with the connection and with the peer") {
    TransferScenario s = base(140, {256 * 1024});
    auto client_tracer = std::make_shared<RecordingTracer>();
    auto server_tracer = std::make_shared<RecordingTracer>();
    s.client.tracer_factory = [&](Role, const ConnectionId&) { return client_tracer; };
    s.server.tracer_factory = [&](Role, const ConnectionId&) { return server_tracer; };
    // No serialisation and no queue limit: nothing is lost on the way.
    s.client_to_server.rate_bps = s.server_to_client.rate_bps = 0;
    Sequential q(s.seed, s.client_to_server, s.server_to_client, s.server, s.client);
    FileTransferClient::Options keep;
    keep.close_when_done = false;
    REQUIRE(q.fetch(s.file_sizes, {}, keep).done());
    (void)q.sim.run_for(1s);  // let the last ACKs arrive
    const ConnectionStats st = q.app_client->connection()->stats();
    CHECK(q.sim.network().stats(Direction::kClientToServer).dropped() == 0);
    CHECK(q.sim.network().stats(Direction::kServerToClient).dropped() == 0);
    // Packets the connection counted are the packets the tracer saw.
    CHECK(client_tracer->sent_count == st.packets_sent);
    CHECK(client_tracer->received_count == st.packets_received);
    // Every packet one side sent, the other received (Initial packets sent after the peer
    // discarded its Initial keys are dropped by design, RFC 9001 §4.9.1).
    size_t missing = 0, missing_back = 0;
    for (const auto& p : client_tracer->sent)
        missing += !server_tracer->received.count(p) && p.first != int(PacketType::kInitial);
    for (const auto& p : server_tracer->sent)
        missing_back += !client_tracer->received.count(p) && p.first != int(PacketType::kInitial);
    CHECK(missing == 0);
    CHECK(missing_back == 0);
    CHECK(server_tracer->metrics > 10);
    CHECK(client_tracer->keys >= 4);
    CHECK(client_tracer->lost == 0);
}

TEST_CASE("scenario: lost data is resent even when flow control blocks new data") {
    // A small, fixed receive window keeps the sender flow-control blocked most of the time;
    // losses then leave holes the receiver cannot read past until they are retransmitted.
    TransferScenario s = base(141, {1 << 20});
    s.client.connection.initial_stream_receive_window = 32 * 1024;
    s.client.connection.max_stream_receive_window = 32 * 1024;
    s.client.connection.initial_connection_receive_window = 48 * 1024;
    s.client.connection.max_connection_receive_window = 48 * 1024;
    s.server_to_client.loss = 0.05;
    s.server_to_client.max_burst_loss = 3;
    s.server_to_client.rate_bps = 0;
    s.client_to_server.rate_bps = 0;
    TransferOutcome out = check_file_transfer(s);
    CHECK(out.server_to_client.dropped_loss > 0);
}

TEST_CASE(
    "scenario: ECN: marks validated on a path that carries them, dropped on one that bleaches "
    "them") {
    for (bool passthrough : {true, false}) {
        CAPTURE(passthrough);
        TransferScenario s = base(142, {200 * 1024});
        s.ecn_passthrough = passthrough;
        Sequential q(s.seed, s.client_to_server, s.server_to_client, s.server, s.client);
        q.sim.set_ecn_passthrough(passthrough);
        FileTransferClient::Options keep;
        keep.close_when_done = false;
        REQUIRE(q.fetch(s.file_sizes, {}, keep).done());
        const ConnectionStats st = q.app_client->connection()->stats();
        // The client sends (and the server acknowledges) enough to decide (RFC 9000 §13.4.2).
        CHECK(std::string(st.ecn) == (passthrough ? "capable" : "failed"));
        CHECK(st.ecn_ce_received == 0);
    }
}

TEST_CASE(
    "scenario: a flood of DATAGRAM frames to an application that does not read stays bounded") {
    TransferScenario s = base(143, {});
    s.client.connection.max_datagram_frame_size = 1200;
    s.server.connection.max_datagram_frame_size = 1200;
    s.client_to_server.rate_bps = s.server_to_client.rate_bps = 0;
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    Endpoint& server = sim.add_server(s.server);
    Endpoint& client = sim.add_client(s.client);
    std::shared_ptr<Connection> sconn, cconn;
    int sent = 0;
    sim.set_on_step(server, [&](Time) {
        if (!sconn) sconn = server.accept();
        if (!sconn || !sconn->is_handshake_complete()) return;
        while (auto ev = sconn->poll_event()) (void)ev;
        const Bytes d(100, 0x5a);
        while (sent < 2000 && sconn->send_datagram(d).ok()) ++sent;
    });
    sim.set_on_step(client, [&](Time now) {
        if (!cconn) cconn = *client.connect(now, sim.client_path(client), ConnectOptions{"server"});
        // The application never polls its events.
    });
    (void)sim.run_for(3s);
    REQUIRE(sent == 2000);
    size_t datagram_events = 0;
    while (auto ev = cconn->poll_event())
        datagram_events += std::holds_alternative<DatagramReceived>(*ev);
    CHECK(datagram_events > 0);
    CHECK(datagram_events <= kMaxQueuedDatagrams);
}
