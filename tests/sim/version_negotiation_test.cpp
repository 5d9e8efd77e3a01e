// Version negotiation in the simulator (RFC 9368, RFC 9369): a v1 client offering v2 is
// upgraded by a server that prefers v2 (also when the first flights are lost, after a Retry,
// and with 0-RTT on the next connection); incompatible negotiation starts a new first flight;
// downgrade attempts by an on-path attacker (a forged Version Negotiation packet, a first
// flight rewritten into another version) are rejected. Versions are read off the wire: every
// long-header packet each link carried.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

#include "crypto/initial_secrets.h"
#include "crypto/packet_protection.h"
#include "endpoint/initial_packet.h"
#include "quic/frame.h"
#include "sim/file_transfer.h"
#include "wire/packet_header.h"
#include "wire/packet_number.h"
#include "wire/version_negotiation.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

constexpr size_t kCidLength = 8;  // ConnectionConfig's default

struct WirePacket {
    PacketType type;
    Version version;
};

// Every long-header packet of every datagram offered to a link, in order.
struct Wire {
    std::vector<WirePacket> c2s, s2c;

    static void record(std::vector<WirePacket>& out, ByteSpan datagram) {
        SplitDatagram split = split_coalesced_packets(datagram, kCidLength);
        for (const CoalescedPacket& p : split.packets)
            if (p.header.long_header) out.push_back({p.header.type, p.header.version});
    }
    // Installs observers on both links (after any drop rule already there).
    void observe(LinkConfig& c2s_link, LinkConfig& s2c_link) {
        auto wrap = [](std::vector<WirePacket>& out, LinkConfig& l) {
            auto drop = l.drop_if;
            l.drop_if = [&out, drop](uint64_t index, ByteSpan bytes) {
                record(out, bytes);
                return drop && drop(index, bytes);
            };
        };
        wrap(c2s, c2s_link);
        wrap(s2c, s2c_link);
    }
    static size_t count(const std::vector<WirePacket>& ps, PacketType t, Version v) {
        return std::count_if(ps.begin(), ps.end(),
                             [&](const WirePacket& p) { return p.type == t && p.version == v; });
    }
};

EndpointConfig server_config(std::vector<Version> versions) {
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    EndpointConfig c;
    c.server_tls = tls->server;
    c.connection.versions = std::move(versions);
    return c;
}

EndpointConfig client_config(std::vector<Version> versions) {
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    EndpointConfig c;
    c.client_tls = tls->client;
    c.connection.versions = std::move(versions);
    return c;
}

// An on-path attacker beside a client: it sees each datagram the client sends and may rewrite
// it (`rewrite`) or answer it at once with a forged datagram (`answer`), which reaches the
// client 1 ms later, long before the server's reply.
class OnPathAttacker final : public SimNode {
  public:
    using Rewrite = std::function<void(Bytes&)>;
    using Answer = std::function<std::optional<Bytes>(ByteSpan)>;

    OnPathAttacker(EndpointConfig config, uint64_t seed, Rewrite rewrite, Answer answer)
        : inner_(std::move(config), seed),
          rewrite_(std::move(rewrite)),
          answer_(std::move(answer)) {}

    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) override {
        inner_.on_datagram(now, path, ecn, datagram);
    }
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer) override {
        auto t = inner_.poll_transmit(now, buffer);
        if (!t || t->segment_size != 0) return t;
        Bytes d(buffer.begin(), buffer.begin() + t->size);
        if (answer_)
            if (auto a = answer_(d)) forged_.push_back({now + 1ms, t->path, std::move(*a)});
        if (rewrite_) {
            rewrite_(d);
            std::copy(d.begin(), d.end(), buffer.begin());
            t->size = d.size();
        }
        return t;
    }
    std::optional<Time> next_timeout() const override {
        auto t = inner_.next_timeout();
        if (!forged_.empty() && (!t || forged_.front().at < *t)) t = forged_.front().at;
        return t;
    }
    void on_timeout(Time now) override {
        while (!forged_.empty() && forged_.front().at <= now) {
            Forged f = std::move(forged_.front());
            forged_.erase(forged_.begin());
            inner_.on_datagram(now, f.path, Ecn::kNotEct, f.bytes);
        }
        if (auto t = inner_.next_timeout(); t && *t <= now) inner_.on_timeout(now);
    }
    const Endpoint* endpoint() const override { return inner_.endpoint(); }
    Endpoint& get() { return inner_.get(); }

  private:
    struct Forged {
        Time at;
        Path path;
        Bytes bytes;
    };
    EndpointNode inner_;
    Rewrite rewrite_;
    Answer answer_;
    std::vector<Forged> forged_;
};

// The client's first Initial, parsed (nullopt for anything else).
std::optional<PacketHeader> client_initial(ByteSpan datagram) {
    auto h = parse_packet_header(datagram, kCidLength);
    if (!h.ok() || !h->long_header || h->type != PacketType::kInitial) return std::nullopt;
    return *h;
}

// A forged Version Negotiation packet answering the client's Initial, listing `versions`.
OnPathAttacker::Answer forge_version_negotiation(std::vector<Version> versions) {
    auto sent = std::make_shared<bool>(false);
    return [versions, sent](ByteSpan d) -> std::optional<Bytes> {
        auto h = client_initial(d);
        if (*sent || !h) return std::nullopt;
        *sent = true;
        return build_version_negotiation(h->scid.bytes(), h->dcid.bytes(), versions, 0x2a);
    };
}

// Rewrites the client's Initials from `from` into `to` (Initial keys are public: RFC 9001
// §5.2), the downgrade a Version Information check exists for (RFC 9368 §4).
OnPathAttacker::Rewrite rewrite_initials(Version from, Version to) {
    return [from, to](Bytes& d) {
        auto h = client_initial(d);
        if (!h || h->version != from) return;
        Bytes pkt(d.begin(), d.begin() + h->packet_size);
        InitialKeys keys = make_initial_keys(from, h->dcid);
        auto uh = remove_header_protection(pkt, h->pn_offset, *keys.client.header);
        REQUIRE(uh.ok());
        const uint64_t pn = decode_packet_number(std::nullopt, uh->truncated_pn, uh->pn_length * 8);
        auto plain = open_packet_payload(pkt, *uh, pn, *keys.client.packet);
        REQUIRE(plain);
        ByteSpan frames(pkt.data() + uh->header_length, *plain);
        InitialKeys to_keys = make_initial_keys(to, h->dcid);
        Bytes out =
            seal_initial(to, h->dcid, h->scid, h->token, pn, frames, d.size(), to_keys.client);
        REQUIRE_FALSE(out.empty());
        d = std::move(out);
    };
}

// A server whose connections the test keeps (to read their close reasons), answering files.
struct Run {
    Simulation sim;
    Endpoint& server;
    FileTransferServer app_server;

    Run(uint64_t seed, LinkConfig c2s, LinkConfig s2c, EndpointConfig sc)
        : sim(seed, c2s, s2c), server(sim.add_server(sc)), app_server(server) {}
};

}  // namespace

TEST_CASE("versions: a v1 client offering v2 is upgraded to v2 (RFC 9368 §2.3, RFC 9369 §4)") {
    LinkConfig c2s, s2c;
    Wire wire;
    wire.observe(c2s, s2c);
    Simulation sim(201, c2s, s2c);
    Endpoint& server = sim.add_server(server_config({kVersion2, kVersion1}));
    Endpoint& client = sim.add_client(client_config({kVersion1, kVersion2}));
    FileTransferServer app_server(server);
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  {100 * 1024});
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    RunResult r = sim.run_until([&] { return app_client.finished(); }, 10s);
    INFO(r.message << " " << app_client.failure());
    REQUIRE(app_client.done());
    CHECK(app_client.connection()->info().version == kVersion2);
    // The first flight in v1; the server's every packet in v2 (its ServerHello needs the
    // client's transport parameters first); Handshake packets only in v2, both ways.
    REQUIRE_FALSE(wire.c2s.empty());
    CHECK(wire.c2s.front().type == PacketType::kInitial);
    CHECK(wire.c2s.front().version == kVersion1);
    CHECK(Wire::count(wire.s2c, PacketType::kInitial, kVersion1) == 0);
    CHECK(Wire::count(wire.s2c, PacketType::kInitial, kVersion2) > 0);
    CHECK(Wire::count(wire.s2c, PacketType::kHandshake, kVersion2) > 0);
    CHECK(Wire::count(wire.c2s, PacketType::kHandshake, kVersion2) > 0);
    CHECK(Wire::count(wire.s2c, PacketType::kHandshake, kVersion1) == 0);
    CHECK(Wire::count(wire.c2s, PacketType::kHandshake, kVersion1) == 0);
    // After the server's first Initial the client's Initials are in v2 too.
    CHECK(Wire::count(wire.c2s, PacketType::kInitial, kVersion2) > 0);
}

TEST_CASE("versions: upgrade to v2 with the first flights lost") {
    // Client datagrams 1-2 and server datagrams 1-2 lost: the client's v1 Initial is sent
    // again, the server's v2 flight too.
    LinkConfig c2s, s2c;
    c2s.drop_if = drop_indexes(1, 2);
    s2c.drop_if = drop_indexes(1, 2);
    Wire wire;
    wire.observe(c2s, s2c);
    for (uint64_t seed : {202, 203, 204}) {
        wire.c2s.clear();
        wire.s2c.clear();
        Simulation sim(seed, c2s, s2c);
        Endpoint& server = sim.add_server(server_config({kVersion2, kVersion1}));
        Endpoint& client = sim.add_client(client_config({kVersion1, kVersion2}));
        FileTransferServer app_server(server);
        FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                      {10 * 1024});
        sim.set_on_step(server, [&](Time t) { app_server.step(t); });
        sim.set_on_step(client, [&](Time t) { app_client.step(t); });
        RunResult r = sim.run_until([&] { return app_client.finished(); }, 30s);
        INFO("seed " << seed << ": " << r.message << " " << app_client.failure());
        REQUIRE(app_client.done());
        CHECK(app_client.connection()->info().version == kVersion2);
        CHECK(Wire::count(wire.c2s, PacketType::kInitial, kVersion1) >= 2);
        CHECK(Wire::count(wire.s2c, PacketType::kHandshake, kVersion1) == 0);
        CHECK(Wire::count(wire.c2s, PacketType::kHandshake, kVersion1) == 0);
    }
}

TEST_CASE("versions: no upgrade unless both want it") {
    struct Case {
        std::vector<Version> client, server;
        Version expected;
    };
    for (const Case& c : {
             Case{{kVersion1}, {kVersion2, kVersion1}, kVersion1},             // v2 not offered
             Case{{kVersion1, kVersion2}, {kVersion1, kVersion2}, kVersion1},  // server prefers v1
             Case{{kVersion1, kVersion2}, {kVersion1}, kVersion1},             // server: v1 only
             Case{{kVersion2}, {kVersion1, kVersion2}, kVersion2},             // v1 not offered
             // The server's preference wins (RFC 9368 §3): compatible negotiation v2 -> v1.
             Case{{kVersion2, kVersion1}, {kVersion1, kVersion2}, kVersion1},
         }) {
        LinkConfig c2s, s2c;
        Wire wire;
        wire.observe(c2s, s2c);
        Simulation sim(205, c2s, s2c);
        Endpoint& server = sim.add_server(server_config(c.server));
        Endpoint& client = sim.add_client(client_config(c.client));
        FileTransferServer app_server(server);
        FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                      {1024});
        sim.set_on_step(server, [&](Time t) { app_server.step(t); });
        sim.set_on_step(client, [&](Time t) { app_client.step(t); });
        RunResult r = sim.run_until([&] { return app_client.finished(); }, 10s);
        INFO(r.message << " " << app_client.failure());
        REQUIRE(app_client.done());
        CHECK(app_client.connection()->info().version == c.expected);
        const Version other = c.expected == kVersion1 ? kVersion2 : kVersion1;
        CHECK(Wire::count(wire.s2c, PacketType::kInitial, other) == 0);
        CHECK(Wire::count(wire.c2s, PacketType::kHandshake, other) == 0);
        CHECK(Wire::count(wire.s2c, PacketType::kHandshake, other) == 0);
    }
}

TEST_CASE("versions: Retry in the Chosen Version, then the upgrade to v2") {
    LinkConfig c2s, s2c;
    Wire wire;
    wire.observe(c2s, s2c);
    EndpointConfig sc = server_config({kVersion2, kVersion1});
    sc.retry = RetryPolicy::kAlways;
    Simulation sim(206, c2s, s2c);
    Endpoint& server = sim.add_server(sc);
    Endpoint& client = sim.add_client(client_config({kVersion1, kVersion2}));
    FileTransferServer app_server(server);
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  {10 * 1024});
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    RunResult r = sim.run_until([&] { return app_client.finished(); }, 10s);
    INFO(r.message << " " << app_client.failure());
    REQUIRE(app_client.done());
    CHECK(server.stats().retries_sent == 1);
    CHECK(Wire::count(wire.s2c, PacketType::kRetry, kVersion1) == 1);  // RFC 9369 §4
    CHECK(Wire::count(wire.s2c, PacketType::kRetry, kVersion2) == 0);
    CHECK(app_client.connection()->info().version == kVersion2);
    CHECK(Wire::count(wire.s2c, PacketType::kHandshake, kVersion1) == 0);
}

TEST_CASE("versions: 0-RTT after an upgrade: the ticket's version is the next first flight's") {
    LinkConfig c2s, s2c;
    Wire wire;
    wire.observe(c2s, s2c);
    EndpointConfig sc = server_config({kVersion2, kVersion1});
    EndpointConfig cc = client_config({kVersion1, kVersion2});
    sc.connection.enable_0rtt = cc.connection.enable_0rtt = true;
    Simulation sim(207, c2s, s2c);
    Endpoint& server = sim.add_server(sc);
    Endpoint& client = sim.add_client(cc);
    FileTransferServer app_server(server);
    std::unique_ptr<FileTransferClient> app_client;
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) {
        if (app_client) app_client->step(t);
    });
    app_client = std::make_unique<FileTransferClient>(
        client, sim.client_path(client), ConnectOptions{"server"}, std::vector<uint64_t>{1024});
    REQUIRE(sim.run_until([&] { return app_client->finished(); }, 10s).done());
    REQUIRE(app_client->done());
    CHECK(app_client->connection()->info().version == kVersion2);
    Bytes ticket = app_client->session_ticket();
    REQUIRE_FALSE(ticket.empty());

    wire.c2s.clear();
    wire.s2c.clear();
    FileTransferClient::Options early;
    early.open_before_handshake = true;
    app_client = std::make_unique<FileTransferClient>(client, sim.client_path(client),
                                                      ConnectOptions{"server", ticket, {}},
                                                      std::vector<uint64_t>(10, 32), early);
    RunResult r = sim.run_until([&] { return app_client->finished(); }, 10s);
    INFO(r.message << " " << app_client->failure());
    REQUIRE(app_client->done());
    const ConnectionInfo& info = app_client->connection()->info();
    CHECK(info.version == kVersion2);
    CHECK(info.resumed);
    CHECK(info.early_data_accepted);
    // RFC 9369 §5: the ticket came from a v2 connection, so the first flight is v2 and so is
    // the 0-RTT; nothing in v1.
    REQUIRE_FALSE(wire.c2s.empty());
    CHECK(wire.c2s.front().version == kVersion2);
    CHECK(Wire::count(wire.c2s, PacketType::kZeroRtt, kVersion2) > 0);
    CHECK(Wire::count(wire.c2s, PacketType::kZeroRtt, kVersion1) == 0);
    CHECK(Wire::count(wire.c2s, PacketType::kInitial, kVersion1) == 0);
}

TEST_CASE("versions: incompatible negotiation: a new first flight in a version both speak") {
    // The client prefers v2 and starts there; the server only speaks v1 (RFC 9368 §2.1).
    LinkConfig c2s, s2c;
    Wire wire;
    wire.observe(c2s, s2c);
    Simulation sim(208, c2s, s2c);
    Endpoint& server = sim.add_server(server_config({kVersion1}));
    Endpoint& client = sim.add_client(client_config({kVersion2, kVersion1}));
    FileTransferServer app_server(server);
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  {1024});
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    RunResult r = sim.run_until([&] { return app_client.finished(); }, 10s);
    INFO(r.message << " " << app_client.failure());
    REQUIRE(app_client.done());
    CHECK(server.stats().version_negotiations_sent == 1);
    CHECK(app_client.connection()->info().version == kVersion1);
    REQUIRE_FALSE(wire.c2s.empty());
    CHECK(wire.c2s.front().version == kVersion2);
    CHECK(Wire::count(wire.s2c, PacketType::kVersionNegotiation, kVersionNegotiationVersion) == 1);
}

TEST_CASE("versions: a forged Version Negotiation packet cannot downgrade (RFC 9368 §4)") {
    // Client and server both speak v2 and v1, the client prefers v2; an attacker answers the
    // client's first Initial with a Version Negotiation packet listing only v1. The client
    // starts over in v1 (offering v2 again), then:
    auto attacked = [](uint64_t seed, std::vector<Version> server_versions) {
        auto run = std::make_unique<Run>(seed, LinkConfig{}, LinkConfig{},
                                         server_config(std::move(server_versions)));
        auto& node = run->sim.add_node(
            [](uint64_t s) {
                return std::make_unique<OnPathAttacker>(client_config({kVersion2, kVersion1}), s,
                                                        nullptr,
                                                        forge_version_negotiation({kVersion1}));
            },
            Simulation::default_client_address(0), true);
        Endpoint& client = static_cast<OnPathAttacker&>(node).get();
        auto app_client = std::make_unique<FileTransferClient>(client, run->sim.client_path(client),
                                                               ConnectOptions{"server"},
                                                               std::vector<uint64_t>{1024});
        Run* r = run.get();
        FileTransferClient* c = app_client.get();
        run->sim.set_on_step(run->server, [r](Time t) { r->app_server.step(t); });
        run->sim.set_on_step(client, [c](Time t) { c->step(t); });
        RunResult res = run->sim.run_until([c] { return c->finished(); }, 10s);
        INFO(res.message);
        REQUIRE(app_client->finished());
        return std::make_pair(std::move(run), std::move(app_client));
    };
    SUBCASE("a server preferring v2 upgrades the new attempt back to v2") {
        auto attack = attacked(209, {kVersion2, kVersion1});
        FileTransferClient* app_client = attack.second.get();
        INFO(app_client->failure());
        REQUIRE(app_client->done());
        CHECK(app_client->connection()->info().version == kVersion2);
    }
    SUBCASE("a server staying in v1: its Available Versions expose the downgrade") {
        // The server's Version Information lists v2: had the client seen that list it would
        // have picked v2, so the Version Negotiation packet was not the server's.
        auto attack = attacked(212, {kVersion1, kVersion2});
        FileTransferClient* app_client = attack.second.get();
        CHECK_FALSE(app_client->done());
        auto reason = app_client->connection()->close_reason();
        REQUIRE(reason);
        CHECK(reason->error.code ==
              static_cast<uint64_t>(TransportErrorCode::kVersionNegotiationError));
        CHECK(reason->error.reason.find("downgrade") != std::string::npos);
    }
}

TEST_CASE("versions: a Version Negotiation packet listing the Chosen Version is ignored") {
    Run run(210, {}, {}, server_config({kVersion2, kVersion1}));
    auto& node = run.sim.add_node(
        [](uint64_t seed) {
            return std::make_unique<OnPathAttacker>(
                client_config({kVersion2, kVersion1}), seed, nullptr,
                forge_version_negotiation({kVersion1, kVersion2}));
        },
        Simulation::default_client_address(0), true);
    Endpoint& client = static_cast<OnPathAttacker&>(node).get();
    FileTransferClient app_client(client, run.sim.client_path(client), ConnectOptions{"server"},
                                  {1024});
    run.sim.set_on_step(run.server, [&](Time t) { run.app_server.step(t); });
    run.sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    RunResult r = run.sim.run_until([&] { return app_client.finished(); }, 10s);
    INFO(r.message << " " << app_client.failure());
    REQUIRE(app_client.done());
    CHECK(app_client.connection()->info().version == kVersion2);
}

TEST_CASE("versions: a first flight rewritten into another version is refused (RFC 9368 §4)") {
    // The client starts in v2; an attacker rewrites its Initials into v1, which the server
    // also accepts. The client's Version Information (Chosen Version v2) no longer matches
    // the packets: the server closes with VERSION_NEGOTIATION_ERROR.
    Run run(211, {}, {}, server_config({kVersion1, kVersion2}));
    auto& node = run.sim.add_node(
        [](uint64_t seed) {
            return std::make_unique<OnPathAttacker>(
                client_config({kVersion2}), seed, rewrite_initials(kVersion2, kVersion1), nullptr);
        },
        Simulation::default_client_address(0), true);
    Endpoint& client = static_cast<OnPathAttacker&>(node).get();
    FileTransferClient app_client(client, run.sim.client_path(client), ConnectOptions{"server"},
                                  {1024});
    std::vector<std::shared_ptr<Connection>> accepted;
    run.sim.set_on_step(run.server, [&](Time) {
        while (auto c = run.server.accept()) accepted.push_back(c);
    });
    run.sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    RunResult r =
        run.sim.run_until([&] { return !accepted.empty() && accepted.front()->is_closed(); }, 10s);
    INFO(r.message);
    REQUIRE_FALSE(accepted.empty());
    auto reason = accepted.front()->close_reason();
    REQUIRE(reason);
    CHECK(reason->error.code ==
          static_cast<uint64_t>(TransportErrorCode::kVersionNegotiationError));
    CHECK_FALSE(app_client.done());
}

TEST_CASE("versions: a NEW_TOKEN token only validates connections of its version (RFC 9369 §5)") {
    // Retry for every client without a valid token; the first connection is upgraded to v2,
    // so its NEW_TOKEN token is a v2 token (and its ticket a v2 ticket).
    EndpointConfig sc = server_config({kVersion2, kVersion1});
    sc.retry = RetryPolicy::kAlways;
    Simulation sim(213, {}, {});
    Endpoint& server = sim.add_server(sc);
    Endpoint& client = sim.add_client(client_config({kVersion1, kVersion2}));
    FileTransferServer app_server(server);
    std::unique_ptr<FileTransferClient> app_client;
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) {
        if (app_client) app_client->step(t);
    });
    auto fetch = [&](ConnectOptions opts) {
        app_client = std::make_unique<FileTransferClient>(client, sim.client_path(client), opts,
                                                          std::vector<uint64_t>{1024});
        RunResult r = sim.run_until([&] { return app_client->finished(); }, 10s);
        INFO(r.message << " " << app_client->failure());
        REQUIRE(app_client->done());
    };
    fetch({"server", {}, {}});
    CHECK(app_client->connection()->info().version == kVersion2);
    CHECK(server.stats().retries_sent == 1);
    const Bytes token = app_client->new_token();
    const Bytes ticket = app_client->session_ticket();
    REQUIRE_FALSE(token.empty());
    REQUIRE_FALSE(ticket.empty());
    // A v1 first flight with the v2 token: the token does not count, a Retry again.
    fetch({"server", {}, token});
    CHECK(server.stats().retries_sent == 2);
    // With the ticket too, the first flight is v2 (the ticket's version): the token counts.
    fetch({"server", ticket, token});
    CHECK(server.stats().retries_sent == 2);
    CHECK(app_client->connection()->info().version == kVersion2);
    CHECK(app_client->connection()->info().resumed);
}
