// The endpoint with many connections, wired back to back (sim/direct_net.h): its timer heap,
// its index of stateless reset tokens, and (below) what it does with datagrams that belong to
// no connection.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "quic/endpoint.h"
#include "sim/direct_net.h"
#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

struct Endpoints {
    SeededRandom server_random, client_random;
    Endpoint server;
    Endpoint client;
    DirectNet net;

    Endpoints(EndpointConfig sc, EndpointConfig cc, uint64_t seed = 1)
        : server_random(seed),
          client_random(seed + 1000),
          server(sc, server_random),
          client(cc, client_random) {
        net.attach(direct_server_address(), server);
        net.add_endpoint(server);
        net.add_endpoint(client);
    }

    std::shared_ptr<Connection> connect(size_t i) {
        const SocketAddress from = direct_client_address(i);
        net.attach(from, client);
        auto c = client.connect(net.now(), Path{from, direct_server_address()},
                                ConnectOptions{"server"});
        REQUIRE(c.ok());
        return *c;
    }
};

std::pair<EndpointConfig, EndpointConfig> configs() {
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    EndpointConfig sc, cc;
    sc.server_tls = tls->server;
    cc.client_tls = tls->client;
    return {sc, cc};
}

// The earliest timer among connections that are not closed.
std::optional<Time> earliest(const std::vector<std::shared_ptr<Connection>>& conns) {
    std::optional<Time> t;
    for (const auto& c : conns)
        if (!c->is_closed())
            if (auto ct = c->next_timeout(); ct && (!t || *ct < *t)) t = ct;
    return t;
}

}  // namespace

TEST_CASE("endpoint: with 300 connections the next timeout is always the earliest connection's") {
    auto [sc, cc] = configs();
    sc.connection.max_idle_timeout = 5s;
    cc.connection.max_idle_timeout = 5s;
    Endpoints e(sc, cc);
    std::vector<std::shared_ptr<Connection>> clients, servers;
    SeededRandom rng(3);
    const Time start = e.net.now();
    // Connections start 7 ms apart; each writes a little on a random earlier one, so that
    // application calls (not only datagrams and timers) move timers around.
    for (size_t i = 0; i < 300; ++i) {
        clients.push_back(e.connect(i));
        e.net.set_now(start + std::chrono::milliseconds(7 * i));
        e.net.flush();
        while (auto s = e.server.accept()) servers.push_back(s);
        auto& victim = clients[rng.uniform(clients.size())];
        if (victim->is_handshake_complete())
            if (auto id = victim->open_stream(true); id.ok()) {
                const uint8_t b[3] = {1, 2, 3};
                REQUIRE(victim->write(*id, b, true).ok());
            }
        e.net.flush();
        while (e.net.advance(e.net.now())) {
        }
        CHECK(e.server.next_timeout() == earliest(servers));
        CHECK(e.client.next_timeout() == earliest(clients));
    }
    CHECK(servers.size() == 300);
    CHECK(e.server.connection_count() == 300);
    // Every idle timeout fires at its time, in order, and the endpoint forgets each connection.
    size_t closed_before = 0;
    while (e.net.advance(start + 30s)) {
        CHECK(e.server.next_timeout() == earliest(servers));
        size_t closed = 0;
        for (const auto& s : servers) {
            if (!s->is_closed()) continue;
            ++closed;
            REQUIRE(s->close_reason());
            CHECK(s->close_reason()->origin == CloseOrigin::kIdleTimeout);
        }
        CHECK(closed >= closed_before);
        closed_before = closed;
        CHECK(e.server.connection_count() == servers.size() - closed);
    }
    CHECK(closed_before == 300);
    CHECK(e.server.connection_count() == 0);
    CHECK(e.client.connection_count() == 0);
    CHECK_FALSE(e.server.next_timeout());
}

TEST_CASE(
    "endpoint: a stateless reset closes the one connection among 50 whose token it ends with") {
    auto [sc, cc] = configs();
    sc.static_key = Bytes(32, 7);
    Endpoints e(sc, cc);
    std::vector<std::shared_ptr<Connection>> clients;
    for (size_t i = 0; i < 50; ++i) clients.push_back(e.connect(i));
    REQUIRE(e.net.run_until(
        [&] {
            return std::all_of(clients.begin(), clients.end(),
                               [](const auto& c) { return c->is_handshake_complete(); });
        },
        e.net.now() + 5s));
    for (int i = 0; i < 10; ++i) e.net.advance(e.net.now() + 100ms);  // NEW_CONNECTION_IDs settle
    // The server restarts with the same static key: it knows no connection, but derives the
    // reset token of any connection ID it issued (RFC 9000 §10.3.2).
    SeededRandom fresh(99);
    Endpoint restarted(sc, fresh);
    e.net.attach(direct_server_address(), restarted);
    auto& victim = clients[17];
    auto id = victim->open_stream(true);
    REQUIRE(id.ok());
    const uint8_t hello[] = {'h', 'i'};
    REQUIRE(victim->write(*id, hello, true).ok());
    uint8_t buf[2048];
    auto t = e.client.poll_transmit(e.net.now(), buf);
    REQUIRE(t);
    restarted.on_datagram(e.net.now(), Path{direct_server_address(), t->path.local}, Ecn::kNotEct,
                          MutableByteSpan(buf, t->size));
    CHECK(restarted.stats().stateless_resets_sent == 1);
    auto reset = restarted.poll_transmit(e.net.now(), buf);
    REQUIRE(reset);
    e.client.on_datagram(e.net.now(), Path{reset->path.remote, direct_server_address()},
                         Ecn::kNotEct, MutableByteSpan(buf, reset->size));
    for (size_t i = 0; i < clients.size(); ++i) {
        INFO("connection " << i);
        if (i == 17) {
            REQUIRE(clients[i]->close_reason());
            CHECK(clients[i]->close_reason()->origin == CloseOrigin::kStatelessReset);
        } else {
            CHECK_FALSE(clients[i]->is_closed());
        }
    }
    CHECK(e.client.connection_count() == 49);
}
