// The endpoint with many connections, wired back to back (sim/direct_net.h): its timer heap,
// its index of stateless reset tokens, and (below) what it does with datagrams that belong to
// no connection.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "crypto/initial_secrets.h"
#include "endpoint/initial_packet.h"
#include "quic/endpoint.h"
#include "quic/frame.h"
#include "sim/direct_net.h"
#include "sim/file_transfer.h"
#include "wire/packet_header.h"
#include "wire/version_negotiation.h"

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

// n clients, each on its own address, with their handshakes complete and the connection IDs
// they were issued (NEW_CONNECTION_ID) settled.
std::vector<std::shared_ptr<Connection>> connect_all(Endpoints& e, size_t n) {
    std::vector<std::shared_ptr<Connection>> clients;
    for (size_t i = 0; i < n; ++i) clients.push_back(e.connect(i));
    REQUIRE(e.net.run_until(
        [&] {
            return std::all_of(clients.begin(), clients.end(),
                               [](const auto& c) { return c->is_handshake_complete(); });
        },
        e.net.now() + 5s));
    for (int i = 0; i < 10; ++i) e.net.advance(e.net.now() + 100ms);
    return clients;
}

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
    std::vector<std::shared_ptr<Connection>> clients = connect_all(e, 50);
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

TEST_CASE(
    "endpoint: an ICMP Packet Too Big for one of 20 connections reaches only it (indexed by the "
    "peer's address, not a walk over all connections)") {
    auto [sc, cc] = configs();
    sc.connection.pmtud_start_after_bytes = 0;  // the search starts once the handshake is done
    Endpoints e(sc, cc);
    std::vector<std::shared_ptr<Connection>> clients, servers;
    for (size_t i = 0; i < 20; ++i) clients.push_back(e.connect(i));
    const auto all_searched = [&] {
        while (auto c = e.server.accept()) servers.push_back(c);
        return servers.size() == clients.size() &&
               std::all_of(servers.begin(), servers.end(), [](const auto& c) {
                   return c->is_handshake_complete() && c->stats().pmtu > 1300;
               });
    };
    REQUIRE(e.net.run_until(all_searched, e.net.now() + 30s));
    std::vector<uint64_t> before;
    for (const auto& c : servers) before.push_back(c->stats().pmtu);
    const auto lowered = [&] {
        std::vector<size_t> out;
        for (size_t i = 0; i < servers.size(); ++i)
            if (servers[i]->stats().pmtu != before[i]) out.push_back(i);
        return out;
    };
    const auto index_of = [&](size_t client) {
        for (size_t i = 0; i < servers.size(); ++i)
            if (servers[i]->path().remote == direct_client_address(client)) return i;
        FAIL("no server connection for client " << client);
        return size_t{0};
    };
    // With the peer's port: that connection only.
    e.server.on_packet_too_big(e.net.now(), direct_client_address(7), 1300);
    CHECK(lowered() == std::vector<size_t>{index_of(7)});
    CHECK(servers[index_of(7)]->stats().pmtu == 1300);
    // Without a port (an ICMP message that did not quote one): the connections to that IP.
    SocketAddress no_port = direct_client_address(11);
    no_port.set_port(0);
    e.server.on_packet_too_big(e.net.now(), no_port, 1250);
    std::vector<size_t> expected = {index_of(7), index_of(11)};
    std::sort(expected.begin(), expected.end());
    CHECK(lowered() == expected);
    // Another port at that IP, or an IP no connection has: nobody.
    SocketAddress other_port = direct_client_address(12);
    other_port.set_port(9);
    e.server.on_packet_too_big(e.net.now(), other_port, 1250);
    e.server.on_packet_too_big(e.net.now(), direct_client_address(500), 1250);
    CHECK(lowered() == expected);
    for (const auto& c : servers) CHECK_FALSE(c->is_closed());
}

// --- datagrams that belong to no connection -----------------------------------------------------

namespace {

ConnectionId random_cid(Random& r, size_t n = 8) {
    uint8_t b[kMaxConnectionIdLength];
    r.fill(std::span(b, n));
    return ConnectionId(std::span<const uint8_t>(b, n));
}

// The start of a ClientHello that claims 4 KiB: TLS waits for the rest, so a connection made
// from it stays half-open (what a cheap attacker who builds real Initials sends).
Bytes partial_client_hello() {
    static const uint8_t hello[] = {0x01, 0x00, 0x10, 0x00, 0x03, 0x03, 0xaa, 0xbb};
    CryptoFrame f;
    f.offset = 0;
    f.data = hello;
    Bytes out(encoded_size(Frame{f}));
    ByteWriter w(out);
    REQUIRE(encode_frame(w, Frame{f}));
    return out;
}

// A client Initial that decrypts (RFC 9001 §5.2 keys from its own DCID), padded to `size`.
Bytes decryptable_initial(Random& r, size_t size = 1200, ConnectionId* dcid_out = nullptr) {
    const ConnectionId dcid = random_cid(r), scid = random_cid(r);
    InitialKeys keys = make_initial_keys(kVersion1, dcid);
    Bytes frames = partial_client_hello();
    Bytes d = seal_initial(kVersion1, dcid, scid, {}, 0, frames, size, keys.client);
    REQUIRE(d.size() == size);
    if (dcid_out) *dcid_out = dcid;
    return d;
}

// A long header with `version` and random bytes after it: for version 1 a well-formed Initial
// header whose payload is junk.
Bytes long_header_junk(Random& r, Version version, size_t size = 1200) {
    Bytes d(size);
    r.fill(d);
    ByteWriter w(d);
    w.write_u8(0xc0);  // long header, fixed bit, type Initial (v1), reserved and PN bits 0
    w.write_u32(version);
    w.write_u8(8).write_bytes(random_cid(r).bytes());
    w.write_u8(8).write_bytes(random_cid(r).bytes());
    w.write_varint(0);                                   // token length
    w.write_varint_with_length(size - w.size() - 2, 2);  // Length: the rest of the datagram
    REQUIRE(w.ok());
    return d;
}

// A server endpoint fed datagrams by hand; replies are collected.
struct LoneServer {
    SeededRandom random{5};
    Endpoint server;
    Time now = Time{} + 1s;
    std::vector<Bytes> replies;

    explicit LoneServer(EndpointConfig c) : server(std::move(c), random) {}

    void send(Bytes d, const SocketAddress& from) {
        server.on_datagram(now, Path{direct_server_address(), from}, Ecn::kNotEct, d);
        drain();
    }
    void drain() {
        uint8_t buf[65536];
        while (auto t = server.poll_transmit(now, buf)) replies.emplace_back(buf, buf + t->size);
    }
    void advance_to(Time t) {
        while (auto due = server.next_timeout()) {
            if (*due > t) break;
            now = std::max(now, *due);
            server.on_timeout(now);
            drain();
        }
        now = t;
    }
};

bool is_long_type(const Bytes& d, int type) {  // v1 long header types, before protection
    return !d.empty() && (d[0] & 0x80) && ((d[0] >> 4) & 0x3) == type;
}

SocketAddress source(uint8_t a, uint8_t b, uint16_t port = 4433) {
    return SocketAddress::ipv4({10, 9, a, b}, port);
}

}  // namespace

TEST_CASE(
    "endpoint: state only for Initials that decrypt, in datagrams of 1200 bytes (checklist 1)") {
    auto [sc, cc] = configs();
    LoneServer s(sc);
    SeededRandom r(11);
    s.send(long_header_junk(r, kVersion1), source(0, 1));
    CHECK(s.server.connection_count() == 0);
    CHECK(s.replies.empty());
    CHECK(s.server.stats().initials_undecryptable == 1);
    // A real Initial, but in a datagram under 1200 bytes (RFC 9000 §14.1).
    s.send(decryptable_initial(r, 1199), source(0, 2));
    CHECK(s.server.connection_count() == 0);
    CHECK(s.replies.empty());
    // A real Initial at 1200 bytes: a connection, and the server's first flight.
    s.send(decryptable_initial(r), source(0, 3));
    CHECK(s.server.connection_count() == 1);
    CHECK(s.server.half_open_count() == 1);
    CHECK_FALSE(s.replies.empty());
}

TEST_CASE(
    "endpoint: the unvalidated handshake timeout defaults to half the handshake timeout, never "
    "below 5 s; an explicit one holds") {
    struct Case {
        Duration handshake_timeout;
        std::optional<Duration> configured;
        Duration expected;
    };
    for (const Case& c : {Case{10s, std::nullopt, 5s}, Case{12s, std::nullopt, 6s},
                          Case{60s, std::nullopt, 30s}, Case{60s, 2s, 2s}}) {
        INFO("handshake timeout " << c.handshake_timeout.count() << " ns, expected "
                                  << c.expected.count() << " ns");
        auto [sc, cc] = configs();
        sc.connection.handshake_timeout = c.handshake_timeout;
        sc.unvalidated_handshake_timeout = c.configured;
        LoneServer s(sc);
        SeededRandom r(12);
        s.send(decryptable_initial(r), source(0, 1));
        REQUIRE(s.server.accept());
        const Time start = s.now;
        s.advance_to(start + c.expected - 100ms);
        CHECK(s.server.connection_count() == 1);
        s.advance_to(start + c.expected + 100ms);
        CHECK(s.server.connection_count() == 0);
        CHECK(s.server.stats().handshakes_abandoned == 1);
    }
}

TEST_CASE("endpoint: an unvalidated half-open connection is abandoned after 5 s, silently") {
    auto [sc, cc] = configs();
    LoneServer s(sc);
    SeededRandom r(12);
    s.send(decryptable_initial(r), source(0, 1));
    auto conn = s.server.accept();
    REQUIRE(conn);
    const size_t replies = s.replies.size();
    s.advance_to(s.now + 4900ms);
    CHECK(s.server.connection_count() == 1);
    s.advance_to(s.now + 200ms);
    CHECK(s.server.connection_count() == 0);
    CHECK(s.server.half_open_count() == 0);
    CHECK(s.server.stats().handshakes_abandoned == 1);
    REQUIRE(conn->close_reason());
    CHECK(conn->close_reason()->origin == CloseOrigin::kHandshakeTimeout);
    // Only the anti-amplification-limited probes before; nothing at the end (no CONNECTION_CLOSE
    // to an address that may be spoofed).
    CHECK(s.replies.size() >= replies);
    CHECK_FALSE(s.server.next_timeout());
}

TEST_CASE("endpoint: automatic Retry once half-open connections reach the threshold") {
    auto [sc, cc] = configs();
    sc.retry_threshold = 8;
    Endpoints e(sc, cc);
    SeededRandom r(13);
    for (uint8_t i = 0; i < 8; ++i) {
        Bytes d = decryptable_initial(r);
        e.net.deliver(Path{direct_server_address(), source(1, i)}, d);
    }
    CHECK(e.server.half_open_count() == 8);
    CHECK(e.server.stats().retries_sent == 0);
    // A real client now gets a Retry first, then connects with its token.
    auto c = e.connect(0);
    REQUIRE(e.net.run_until([&] { return c->is_handshake_complete(); }, e.net.now() + 3s));
    CHECK(e.server.stats().retries_sent == 1);
    CHECK(e.server.connection_count() == 9);
    // A ninth attacker Initial gets a Retry too, and no state.
    Bytes d = decryptable_initial(r);
    e.net.deliver(Path{direct_server_address(), source(1, 99)}, d);
    CHECK(e.server.stats().retries_sent == 2);
    CHECK(e.server.connection_count() == 9);
}

TEST_CASE(
    "endpoint: per-source limit: Retry for the source's next unvalidated client, which "
    "then gets in validated") {
    auto [sc, cc] = configs();
    sc.max_half_open_per_source = 4;
    Endpoints e(sc, cc);
    SeededRandom r(14);
    // Four half-open connections from one address (other ports), as a spoofer could make.
    for (uint16_t port = 1; port <= 4; ++port) {
        Bytes d = decryptable_initial(r);
        e.net.deliver(Path{direct_server_address(), direct_client_address(0)}, d);
        (void)port;
    }
    CHECK(e.server.half_open_count() == 4);
    auto c = e.connect(0);  // the real client, same address
    REQUIRE(e.net.run_until([&] { return c->is_handshake_complete(); }, e.net.now() + 3s));
    CHECK(e.server.stats().retries_sent == 1);
    CHECK(e.server.stats().connections_refused == 0);
}

TEST_CASE(
    "endpoint: a full server refuses with CONNECTION_REFUSED in an Initial (RFC 9000 "
    "§10.2.3), and so does a source over its share without Retry") {
    auto [sc, cc] = configs();
    SUBCASE("handshake table full") {
        sc.retry = RetryPolicy::kNever;
        sc.max_concurrent_handshakes = 2;
    }
    SUBCASE("per-source limit, no Retry") {
        sc.retry = RetryPolicy::kNever;
        sc.max_half_open_per_source = 2;
    }
    Endpoints e(sc, cc);
    SeededRandom r(15);
    for (int i = 0; i < 2; ++i) {
        Bytes d = decryptable_initial(r);
        e.net.deliver(Path{direct_server_address(), direct_client_address(0)}, d);
    }
    CHECK(e.server.half_open_count() == 2);
    const Time start = e.net.now();
    auto c = e.connect(0);
    REQUIRE(e.net.run_until([&] { return c->close_reason().has_value(); }, start + 20s));
    REQUIRE(c->close_reason());
    CHECK(c->close_reason()->origin == CloseOrigin::kPeer);
    CHECK(c->close_reason()->error.code ==
          static_cast<uint64_t>(TransportErrorCode::kConnectionRefused));
    // At once, not after the client's handshake timeout.
    CHECK(e.net.now() - start < 1s);
    CHECK(e.server.stats().connections_refused == 1);
}

TEST_CASE("endpoint: the accept queue is bounded: beyond it, CONNECTION_REFUSED (checklist 26)") {
    auto [sc, cc] = configs();
    sc.max_accept_queue = 2;
    Endpoints e(sc, cc);
    std::vector<std::shared_ptr<Connection>> clients;
    for (size_t i = 0; i < 3; ++i) clients.push_back(e.connect(i));
    REQUIRE(e.net.run_until(
        [&] { return clients[0]->is_handshake_complete() && clients[2]->close_reason(); },
        e.net.now() + 5s));
    CHECK(clients[1]->is_handshake_complete());
    REQUIRE(clients[2]->close_reason());
    CHECK(clients[2]->close_reason()->error.code ==
          static_cast<uint64_t>(TransportErrorCode::kConnectionRefused));
    // Once the application accepts, there is room again.
    while (e.server.accept()) {
    }
    auto late = e.connect(3);
    REQUIRE(e.net.run_until([&] { return late->is_handshake_complete(); }, e.net.now() + 5s));
}

TEST_CASE(
    "endpoint: an invalid Retry token is answered with INVALID_TOKEN (RFC 9000 §8.1.2, "
    "checklist 6)") {
    auto [sc, cc] = configs();
    sc.retry = RetryPolicy::kAlways;
    Endpoints e(sc, cc);
    Bytes stolen;
    e.net.filter = [&](const Path&, ByteSpan d) {
        Bytes copy(d.begin(), d.end());
        auto h = parse_packet_header(copy, 8);
        if (h.ok() && h->type == PacketType::kRetry && stolen.empty())
            stolen.assign(h->retry_token.begin(), h->retry_token.end());
        return true;
    };
    auto first = e.connect(0);
    REQUIRE(e.net.run_until([&] { return first->is_handshake_complete(); }, e.net.now() + 3s));
    REQUIRE_FALSE(stolen.empty());
    // Another address presents it: not its token.
    const SocketAddress other = direct_client_address(1);
    e.net.attach(other, e.client);
    auto c = e.client.connect(e.net.now(), Path{other, direct_server_address()},
                              ConnectOptions{"server", {}, stolen});
    REQUIRE(c.ok());
    REQUIRE(e.net.run_until([&] { return (*c)->close_reason().has_value(); }, e.net.now() + 20s));
    REQUIRE((*c)->close_reason());
    CHECK((*c)->close_reason()->error.code ==
          static_cast<uint64_t>(TransportErrorCode::kInvalidToken));
    CHECK(e.server.stats().invalid_tokens == 1);
    CHECK(e.server.connection_count() == 1);
}

TEST_CASE("endpoint: a forged Retry and a second Retry are ignored by the client (checklist 6)") {
    auto [sc, cc] = configs();
    sc.retry = RetryPolicy::kAlways;
    Endpoints e(sc, cc);
    Bytes retry;
    Path retry_path;
    int retries_seen = 0;
    e.net.filter = [&](const Path& p, ByteSpan d) {
        if (!is_long_type(Bytes(d.begin(), d.end()), 3)) return true;
        ++retries_seen;
        retry.assign(d.begin(), d.end());
        retry_path = p;
        // The first Retry arrives with a broken integrity tag: the client must drop it.
        if (retries_seen == 1) {
            Bytes forged = retry;
            forged.back() ^= 0x01;
            e.net.deliver(Path{p.remote, p.local}, forged);
            return false;
        }
        return true;
    };
    auto c = e.connect(0);
    REQUIRE(e.net.run_until([&] { return c->is_handshake_complete(); }, e.net.now() + 5s));
    // The client resent its Initial after the forged Retry and got a genuine one.
    CHECK(retries_seen >= 2);
    // A replayed Retry now changes nothing (§17.2.5.2: at most one per connection attempt).
    e.net.filter = nullptr;
    e.net.deliver(Path{retry_path.remote, retry_path.local}, retry);
    e.net.flush();
    for (int i = 0; i < 5; ++i) e.net.advance(e.net.now() + 100ms);
    CHECK_FALSE(c->is_closed());
    CHECK(c->is_handshake_complete());
}

TEST_CASE(
    "endpoint: Version Negotiation (checklist 5): never for a VN packet or a short "
    "datagram, rate-limited") {
    auto [sc, cc] = configs();
    LoneServer s(sc);
    SeededRandom r(16);
    s.send(long_header_junk(r, kVersionNegotiationVersion), source(0, 1));
    CHECK(s.replies.empty());
    s.send(long_header_junk(r, 0x1a2a3a4a, 1199), source(0, 2));
    CHECK(s.replies.empty());
    s.send(long_header_junk(r, 0x1a2a3a4a), source(0, 3));
    REQUIRE(s.replies.size() == 1);
    CHECK(s.replies[0].size() < 1200);
    CHECK((s.replies[0][1] | s.replies[0][2] | s.replies[0][3] | s.replies[0][4]) == 0);
    // A flood of unknown versions at one instant: the burst, no more.
    for (int i = 0; i < 1000; ++i) s.send(long_header_junk(r, 0x1a2a3a4a), source(1, i % 250));
    CHECK(s.replies.size() <= 16);
    // 1000 more over the next second: about 100 more (the rate), no more.
    for (int i = 0; i < 1000; ++i) {
        s.now += 1ms;
        s.send(long_header_junk(r, 0x1a2a3a4a), source(1, i % 250));
    }
    CHECK(s.replies.size() <= 16 + 101);
    CHECK(s.replies.size() >= 100);
    CHECK(s.server.stats().replies_rate_limited >= 1800);
    CHECK(s.server.connection_count() == 0);
}

TEST_CASE(
    "endpoint: a client ignores Version Negotiation that lists its version, or after it "
    "processed a packet (checklist 5)") {
    auto [sc, cc] = configs();
    Endpoints e(sc, cc);
    ConnectionId client_scid, client_dcid;
    bool hold_server = true;
    e.net.filter = [&](const Path& p, ByteSpan d) {
        if (p.local == direct_client_address(0)) {  // client to server
            if (client_scid.empty()) {
                Bytes copy(d.begin(), d.end());
                auto h = parse_packet_header(copy, 8);
                REQUIRE(h.ok());
                client_scid = h->scid;
                client_dcid = h->dcid;
            }
            return true;
        }
        return !hold_server;  // the server's first flight is lost
    };
    auto c = e.connect(0);
    e.net.flush();
    REQUIRE_FALSE(client_scid.empty());
    auto vn = [&](std::vector<Version> versions) {
        Bytes d = build_version_negotiation(client_scid.bytes(), client_dcid.bytes(), versions, 0);
        e.net.deliver(Path{direct_client_address(0), direct_server_address()}, d);
    };
    // RFC 9000 §6.2: a VN listing the version the client chose is discarded.
    vn({0x1a2a3a4a, kVersion1});
    CHECK_FALSE(c->is_closed());
    CHECK_FALSE(c->close_reason());
    hold_server = false;
    REQUIRE(e.net.run_until([&] { return c->is_handshake_complete(); }, e.net.now() + 5s));
    // §6.2: once a packet from the server was processed, VN is ignored (msquic CVE-2023-38171).
    vn({0x1a2a3a4a});
    for (int i = 0; i < 5; ++i) e.net.advance(e.net.now() + 100ms);
    CHECK_FALSE(c->close_reason());
}

TEST_CASE(
    "endpoint: a coalesced datagram: the first packet counts, a packet for another DCID "
    "and trailing junk are dropped (checklist 4)") {
    auto [sc, cc] = configs();
    Endpoints e(sc, cc);
    SeededRandom r(18);
    bool tampered = false;
    e.net.filter = [&](const Path& p, ByteSpan d) {
        if (tampered || p.local != direct_client_address(0)) return true;
        tampered = true;
        // The client's first Initial, then a real Initial for another DCID, then junk.
        Bytes big(d.begin(), d.end());
        ConnectionId other;
        Bytes second = decryptable_initial(r, 200, &other);
        big.insert(big.end(), second.begin(), second.end());
        Bytes junk(100);
        r.fill(junk);
        big.insert(big.end(), junk.begin(), junk.end());
        e.net.deliver(Path{p.remote, p.local}, big);
        return false;
    };
    auto c = e.connect(0);
    REQUIRE(e.net.run_until([&] { return c->is_handshake_complete(); }, e.net.now() + 3s));
    CHECK(tampered);
    CHECK(e.server.connection_count() == 1);
    auto s = e.server.accept();
    REQUIRE(s);
    CHECK_FALSE(e.server.accept());
    CHECK(s->stats().packets_received > 0);
}

TEST_CASE(
    "endpoint: an Initial flood from 10,000 sources: half-open state stays at the Retry "
    "threshold, a real client connects, and everything is reclaimed (checklist 2, 26)") {
    auto [sc, cc] = configs();
    Endpoints e(sc, cc);
    SeededRandom r(19);
    std::vector<uint8_t> sink(65536);
    for (size_t i = 0; i < 10'000; ++i) {
        Bytes d = decryptable_initial(r);
        e.net.deliver(Path{direct_server_address(), direct_client_address(100'000 + i)}, d);
        while (e.server.poll_transmit(e.net.now(), sink)) {  // to spoofed addresses: lost
        }
    }
    CHECK(e.server.half_open_count() == kDefaultRetryThreshold);
    CHECK(e.server.connection_count() == kDefaultRetryThreshold);
    CHECK(e.server.stats().retries_sent == 10'000 - kDefaultRetryThreshold);
    auto c = e.connect(0);
    REQUIRE(e.net.run_until([&] { return c->is_handshake_complete(); }, e.net.now() + 3s));
    while (e.server.accept()) {
    }
    // The spoofed ones never prove their address: gone after 5 s; the real one stays.
    e.net.run_until([&] { return e.server.half_open_count() == 0; }, e.net.now() + 6s);
    CHECK(e.server.half_open_count() == 0);
    CHECK(e.server.connection_count() == 1);
    CHECK(e.server.stats().handshakes_abandoned == kDefaultRetryThreshold);
    CHECK_FALSE(c->is_closed());
}

TEST_CASE(
    "endpoint: a closing connection answers packets with CONNECTION_CLOSE at most 1 in 4, "
    "a draining one sends nothing, a 1 MB close reason goes out truncated (checklist 26)") {
    auto [sc, cc] = configs();
    Endpoints e(sc, cc);
    size_t from_server = 0, from_client = 0;
    bool server_muted = false;
    e.net.filter = [&](const Path& p, ByteSpan) {
        if (p.local == direct_server_address()) {
            ++from_server;
            return !server_muted;
        }
        ++from_client;
        return true;
    };
    auto c = e.connect(0);
    REQUIRE(e.net.run_until([&] { return c->is_handshake_complete(); }, e.net.now() + 3s));
    for (int i = 0; i < 5; ++i) e.net.advance(e.net.now() + 50ms);
    auto s = e.server.accept();
    REQUIRE(s);
    // The server closes with a 1 MB reason; the client does not hear it yet and keeps sending.
    server_muted = true;
    s->close(e.net.now(), 7, std::string(1 << 20, 'x'));
    e.net.flush();
    REQUIRE(s->state() == ConnectionState::kClosing);
    const size_t before = from_server;
    auto id = c->open_stream(false);
    REQUIRE(id.ok());
    const uint8_t byte[1] = {1};
    for (int i = 0; i < 100; ++i) {
        REQUIRE(c->write(*id, byte).ok());
        e.net.flush();  // one client datagram each, delivered to the closing server
    }
    const size_t replies = from_server - before;
    INFO(replies << " replies to 100 packets");
    CHECK(replies >= 1);
    CHECK(replies <= 100 / 4 + 1);
    // Now the client hears the close: it drains and sends nothing more, whatever arrives.
    server_muted = false;
    REQUIRE(e.net.run_until([&] { return c->close_reason().has_value(); }, e.net.now() + 2s));
    CHECK(c->state() == ConnectionState::kDraining);
    CHECK(c->close_reason()->error.code == 7);
    CHECK(c->close_reason()->error.reason.size() <= 256);
    CHECK_FALSE(c->close_reason()->error.reason.empty());
    const size_t client_before = from_client;
    for (int i = 0; i < 20; ++i) {
        e.net.advance(e.net.now() + 10ms);
        CHECK(c->write(*id, byte).ok() == false);
    }
    CHECK(from_client == client_before);
    // Both forget the connection once closing and draining end (3 PTO).
    e.net.run_until(
        [&] { return e.server.connection_count() == 0 && e.client.connection_count() == 0; },
        e.net.now() + 10s);
    CHECK(e.server.connection_count() == 0);
    CHECK(e.client.connection_count() == 0);
}

// EndpointConfig::connection_id_generator (quic-go's ConnectionIDGenerator): every connection
// ID the server issues (its first, in the handshake, and those in NEW_CONNECTION_ID) comes from
// the generator, so the client's short-header packets carry them (RFC 9000 §5.1); IDs of the
// wrong length are replaced by random ones, and the connection works either way.
TEST_CASE("endpoint: the server's connection IDs come from connection_id_generator") {
    for (const size_t generated_length : {size_t{8}, size_t{5}}) {
        CAPTURE(generated_length);
        auto [sc, cc] = configs();
        uint32_t issued = 0;
        sc.connection_id_generator = [&] {
            std::vector<uint8_t> id{0x5e, 0x4f};  // a "server ID" a load balancer routes on
            id.resize(generated_length, static_cast<uint8_t>(++issued));
            return ConnectionId(id);
        };
        Endpoints e(sc, cc);
        std::vector<std::vector<uint8_t>> short_dcids;
        e.net.filter = [&](const Path& from, ByteSpan d) {
            if (from.local != direct_server_address() && !d.empty() && (d[0] & 0x80) == 0)
                short_dcids.emplace_back(d.begin() + 1, d.begin() + 9);  // 8-byte IDs
            return true;
        };
        auto client = e.connect(0);
        e.net.flush();
        while (e.net.advance(e.net.now() + 100ms) && !client->is_handshake_complete()) {
        }
        REQUIRE(client->is_handshake_complete());
        auto id = client->open_stream(true);
        REQUIRE(id.ok());
        const uint8_t b[3] = {1, 2, 3};
        REQUIRE(client->write(*id, b, true).ok());
        e.net.flush();
        REQUIRE_FALSE(short_dcids.empty());
        // The first, and the ones the server announced after the handshake.
        CHECK(issued >= 2);
        for (const auto& dcid : short_dcids) {
            const bool generated = dcid[0] == 0x5e && dcid[1] == 0x4f;
            CHECK(generated == (generated_length == 8));
        }
        CHECK(e.server.stats().generated_connection_ids_replaced ==
              (generated_length == 8 ? 0 : issued));
    }
}

// Endpoint::take_touched: what an I/O layer dispatches instead of every connection
// (docs/architecture.md, "Dispatch"). Input for one connection among 50 touches that one,
// once however many datagrams it took; a connection that closed and was forgotten is still
// reported.
TEST_CASE("endpoint: take_touched reports the one connection among 50 that got input, once") {
    auto [sc, cc] = configs();
    Endpoints e(sc, cc);
    std::vector<std::shared_ptr<Connection>> clients = connect_all(e, 50), servers;
    while (auto s = e.server.accept()) servers.push_back(s);
    REQUIRE(servers.size() == 50);
    auto server_of = [&](size_t i) {
        for (const auto& s : servers)
            if (s->path().remote == direct_client_address(i)) return s;
        return std::shared_ptr<Connection>();
    };
    std::vector<std::shared_ptr<Connection>> touched;
    e.server.take_touched(touched);
    e.client.take_touched(touched);
    // Everything was touched during the handshakes: each connection once per endpoint.
    std::sort(touched.begin(), touched.end());
    CHECK(std::adjacent_find(touched.begin(), touched.end()) == touched.end());
    CHECK(touched.size() == 100);

    // The application writes 20 KB on client 17: only it is touched (Params::wake), and on the
    // server only its peer, once for all the datagrams.
    touched.clear();
    auto id = clients[17]->open_stream(true);
    REQUIRE(id.ok());
    const Bytes data(20000, 0x2a);
    REQUIRE(clients[17]->write(*id, data, true).ok());
    e.client.take_touched(touched);
    REQUIRE(touched.size() == 1);
    CHECK(touched[0] == clients[17]);
    touched.clear();
    const size_t before = e.net.delivered();
    e.net.flush();
    CHECK(e.net.delivered() - before > 10);
    e.server.take_touched(touched);
    REQUIRE(touched.size() == 1);
    CHECK(touched[0] == server_of(17));

    // Client 5 closes; its server connection drains and is forgotten, and is still reported.
    clients[5]->close(e.net.now(), 0, "done");
    auto server5 = server_of(5);
    REQUIRE(e.net.run_until([&] { return server5->is_closed(); }, e.net.now() + 5s));
    CHECK(e.server.connection_count() == 49);
    touched.clear();
    e.server.take_touched(touched);
    CHECK(std::count(touched.begin(), touched.end(), server5) == 1);
    touched.clear();
    e.server.take_touched(touched);
    CHECK(touched.empty());
}
