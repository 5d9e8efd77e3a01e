// Connection migration (RFC 9000 §9) in the simulator: a client moving to the server's
// preferred address (§9.6), with and without loss; a preferred address that never answers
// (the client stays, §9.3.2); a server following a spoofed address and going back (§9.3.2,
// §9.3.3); a client moving to a new local address on request (§9.2); a peer probing from many
// new addresses (bounded: adversarial checklist 23). What the wire shows is read at the
// server's socket (ServerTap) and from the client's tracer.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "conn/limits.h"
#include "conn/test_access.h"
#include "quic/frame.h"
#include "quic/overloaded.h"
#include "quic/tracer.h"
#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

const SocketAddress kPreferred = *SocketAddress::parse("10.0.0.3:4433");

// Every packet a connection sent or received: its DCID and its path frames.
struct PathTracer final : trace::Tracer {
    struct Packet {
        bool sent = false;
        ConnectionId dcid;
        bool challenge = false, response = false, probing_only = true;
    };
    std::vector<Packet> packets;

    void packet_sent(Time, const trace::PacketHeaderInfo& h, std::span<const Frame> f) override {
        record(true, h, f);
    }
    void packet_received(Time, const trace::PacketHeaderInfo& h,
                         std::span<const Frame> f) override {
        record(false, h, f);
    }
    void record(bool sent, const trace::PacketHeaderInfo& h, std::span<const Frame> frames) {
        if (h.type != PacketType::kOneRtt) return;
        Packet p{sent, h.dcid};
        for (const Frame& f : frames) {
            if (std::holds_alternative<PathChallengeFrame>(f)) p.challenge = true;
            if (std::holds_alternative<PathResponseFrame>(f)) p.response = true;
            if (!is_probing_frame(f)) p.probing_only = false;
        }
        packets.push_back(p);
    }
};

// The server endpoint behind a tap that sees every datagram as it reaches the server's
// sockets, and may withhold it or deliver something else (a firewall, an off-path attacker).
class ServerTap final : public SimNode {
  public:
    struct Seen {
        Time at;
        Path path;
        Bytes bytes;
    };
    // Decides what the endpoint gets; the default delivers the datagram as it came.
    using Hook = std::function<void(Time, const Path&, Ecn, MutableByteSpan, Endpoint&)>;

    ServerTap(EndpointConfig config, uint64_t seed) : inner_(std::move(config), seed) {}
    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan d) override {
        seen.push_back({now, path, Bytes(d.begin(), d.end())});
        if (hook)
            hook(now, path, ecn, d, inner_.get());
        else
            inner_.on_datagram(now, path, ecn, d);
    }
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer) override {
        return inner_.poll_transmit(now, buffer);
    }
    std::optional<Time> next_timeout() const override { return inner_.next_timeout(); }
    void on_timeout(Time now) override { inner_.on_timeout(now); }
    const Endpoint* endpoint() const override { return inner_.endpoint(); }
    Endpoint& get() { return inner_.get(); }

    std::vector<Seen> seen;
    Hook hook;

  private:
    EndpointNode inner_;
};

// A connection ID as hex text (set keys).
std::string id_text(const uint8_t* p, size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (size_t k = 0; k < n; ++k) {
        out.push_back(kHex[p[k] >> 4]);
        out.push_back(kHex[p[k] & 0xf]);
    }
    return out;
}

// The DCID of a short-header packet (our connection IDs are 8 bytes: ConnectionConfig).
std::optional<Bytes> short_header_dcid(const Bytes& d) {
    if (d.size() < 9 || (d[0] & 0x80)) return std::nullopt;
    return Bytes(d.begin() + 1, d.begin() + 9);
}

struct Setup {
    EndpointConfig server, client;
    std::shared_ptr<PathTracer> client_trace = std::make_shared<PathTracer>();
    LinkConfig link;
};

Setup make_setup() {
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    Setup s;
    s.server.server_tls = tls->server;
    s.client.client_tls = tls->client;
    s.server.connection.preferred_address_ipv4 = kPreferred;
    auto trace = s.client_trace;
    s.client.tracer_factory = [trace](Role, const ConnectionId&) { return trace; };
    return s;
}

// One client fetching `size` bytes from a tapped server.
struct Run {
    Simulation sim;
    ServerTap& tap;
    Endpoint& client;
    FileTransferServer app_server;
    FileTransferClient app_client;

    Run(uint64_t seed, const Setup& s, uint64_t size, bool close_when_done = true)
        : sim(seed, s.link, s.link),
          tap(static_cast<ServerTap&>(sim.add_node(
              [&](uint64_t node_seed) { return std::make_unique<ServerTap>(s.server, node_seed); },
              Simulation::default_server_address(), false))),
          client(sim.add_client(s.client)),
          app_server(tap.get()),
          app_client(client, sim.client_path(client), ConnectOptions{"server"}, {size},
                     FileTransferClient::Options{false, close_when_done}) {
        sim.set_on_step(tap.get(), [this](Time t) { app_server.step(t); });
        sim.set_on_step(client, [this](Time t) { app_client.step(t); });
    }
    RunResult until_done(Duration max = 60s) {
        return sim.run_until([&] { return app_client.finished(); }, max);
    }
    std::shared_ptr<Connection> server_connection() const {
        REQUIRE(app_server.accepted_connections().size() == 1);
        return app_server.accepted_connections().front();
    }
};

// Short-header DCIDs the server received, by the local address they arrived on.
std::map<std::string, std::set<std::string>> dcids_by_local(const ServerTap& tap) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& s : tap.seen)
        if (auto d = short_header_dcid(s.bytes))
            out[s.path.local.to_string()].insert(id_text(d->data(), d->size()));
    return out;
}

void check_moved_to_preferred(Run& r, const Setup& s) {
    const SocketAddress original = Simulation::default_server_address();
    const ConnectionStats cs = r.app_client.connection()->stats();
    CHECK(cs.path_migrations == 1);
    CHECK(cs.paths_probed == 1);
    CHECK(r.app_client.connection()->path().remote == kPreferred);
    CHECK(r.server_connection()->path().local == kPreferred);

    // §9.5: the client's packets to the preferred address carry connection IDs never seen on
    // the old path.
    auto by_local = dcids_by_local(r.tap);
    const auto& old_ids = by_local[original.to_string()];
    const auto& new_ids = by_local[kPreferred.to_string()];
    REQUIRE(!new_ids.empty());
    for (const std::string& id : new_ids) CHECK(old_ids.count(id) == 0);

    // §8.2, §9.3: the client's first packet there is a PATH_CHALLENGE (probing only); the
    // server answers with PATH_RESPONSE and challenges the new 4-tuple in that same first
    // packet; the client answers that challenge.
    const auto& pk = s.client_trace->packets;
    auto first_new = std::find_if(pk.begin(), pk.end(), [&](const PathTracer::Packet& p) {
        return p.sent && new_ids.count(id_text(p.dcid.data(), p.dcid.size()));
    });
    REQUIRE(first_new != pk.end());
    CHECK(first_new->challenge);
    CHECK(first_new->probing_only);
    auto answer = std::find_if(first_new, pk.end(),
                               [](const PathTracer::Packet& p) { return !p.sent && p.response; });
    REQUIRE(answer != pk.end());
    CHECK(answer->challenge);
    CHECK(std::any_of(answer, pk.end(),
                      [](const PathTracer::Packet& p) { return p.sent && p.response; }));

    // From then on the server speaks from the preferred address.
    const auto& trace = r.sim.network().trace();
    auto last = std::find_if(trace.rbegin(), trace.rend(), [](const TraceEvent& e) {
        return e.direction == Direction::kServerToClient && e.kind == TraceKind::kDelivered;
    });
    REQUIRE(last != trace.rend());
    CHECK(last->from == kPreferred);
}

}  // namespace

TEST_CASE("migration: the client probes the server's preferred address and moves there") {
    Setup s = make_setup();
    Run r(301, s, 2 << 20);
    INFO("seed 301");
    RunResult res = r.until_done();
    INFO(r.sim.describe());
    REQUIRE_MESSAGE(res.done(), res.message);
    REQUIRE(r.app_client.done());
    check_moved_to_preferred(r, s);
}

TEST_CASE("migration: to the preferred address under 10% loss with bursts") {
    for (uint64_t seed : {311, 312, 313}) {
        Setup s = make_setup();
        s.link.loss = 0.10;
        s.link.max_burst_loss = 3;
        Run r(seed, s, 1 << 20);
        INFO("seed " << seed);
        RunResult res = r.until_done(120s);
        INFO(r.sim.describe());
        REQUIRE_MESSAGE(res.done(), res.message);
        REQUIRE(r.app_client.done());
        CHECK(r.app_client.connection()->path().remote == kPreferred);
        CHECK(r.app_client.connection()->stats().path_migrations == 1);
    }
}

TEST_CASE("migration: a preferred address that never answers: the client stays (§9.3.2)") {
    Setup s = make_setup();
    Run r(321, s, 4 << 20);
    size_t blocked = 0;
    r.tap.hook = [&](Time now, const Path& p, Ecn ecn, MutableByteSpan d, Endpoint& e) {
        if (p.local == kPreferred) {
            ++blocked;  // a firewall in front of the preferred address
            return;
        }
        e.on_datagram(now, p, ecn, d);
    };
    INFO("seed 321");
    RunResult res = r.until_done();
    INFO(r.sim.describe());
    REQUIRE_MESSAGE(res.done(), res.message);
    REQUIRE(r.app_client.done());
    const ConnectionStats cs = r.app_client.connection()->stats();
    CHECK(blocked > 0);
    CHECK(cs.paths_probed == 1);
    CHECK(cs.path_validation_failures == 1);
    CHECK(cs.path_migrations == 0);
    CHECK(r.app_client.connection()->path().remote == Simulation::default_server_address());
}

TEST_CASE("migration: a server that followed a spoofed address returns when it fails (§9.3.2)") {
    // An off-path attacker replays a client packet from its own address before the client's
    // copy arrives (§9.3.3, §21.5.4); the client then goes quiet (its packets are held) for
    // longer than path validation may take. The server moves, challenges the spoofed address
    // within 3x what came from there, gives up and goes back to the validated path.
    Setup s = make_setup();
    s.server.connection.preferred_address_ipv4.reset();
    s.server.connection.max_datagram_frame_size = 1200;
    s.client.connection.max_datagram_frame_size = 1200;
    Run r(331, s, 64 * 1024, false);
    REQUIRE(r.until_done().done());
    REQUIRE(r.app_client.done());
    REQUIRE(r.sim.run_for(1s).status == RunResult::Status::kTimeLimit);

    const SocketAddress spoofed = *SocketAddress::parse("10.66.0.9:9999");
    size_t spoofed_bytes = 0;
    std::optional<Time> hold_until;
    r.tap.hook = [&](Time now, const Path& p, Ecn ecn, MutableByteSpan d, Endpoint& e) {
        if (!hold_until) {
            hold_until = now + 6s;
            spoofed_bytes = d.size();
            e.on_datagram(now, Path{p.local, spoofed}, ecn, d);
            return;
        }
        if (now < *hold_until) return;
        e.on_datagram(now, p, ecn, d);
    };
    const uint8_t x[] = {'x'};
    REQUIRE(r.app_client.connection()->send_datagram(x).ok());
    REQUIRE(r.sim.run_for(500ms).status == RunResult::Status::kTimeLimit);
    auto server = r.server_connection();
    CHECK(server->path().remote == spoofed);
    REQUIRE(r.sim.run_for(5s).status == RunResult::Status::kTimeLimit);
    CHECK(server->path().remote == r.sim.address(r.client));
    CHECK(server->stats().path_validation_failures == 1);
    CHECK(server->stats().path_migrations == 2);
    size_t sent_to_spoofed = 0;
    for (const TraceEvent& e : r.sim.network().trace())
        if (e.direction == Direction::kServerToClient && e.to == spoofed) sent_to_spoofed += e.size;
    CHECK(sent_to_spoofed > 0);
    CHECK(sent_to_spoofed <= kAntiAmplificationFactor * spoofed_bytes);
    // Once the client is heard again the connection goes on.
    REQUIRE(r.sim.run_for(3s).status == RunResult::Status::kTimeLimit);
    CHECK(server->state() == ConnectionState::kEstablished);
    CHECK(r.app_client.connection()->state() == ConnectionState::kEstablished);
}

TEST_CASE("migration: probes from 100 new addresses are bounded (adversarial checklist 23)") {
    // A peer (or an attacker replaying its packets) probes from ever new addresses: the server
    // keeps at most kMaxCandidatePaths of them, sends each at most 3x what came from it
    // (§8.1, §9.3.1), stays on its path and keeps serving.
    Setup s = make_setup();
    s.server.connection.preferred_address_ipv4.reset();
    Run r(341, s, 2 << 20);
    constexpr size_t kProbes = 100, kProbeSize = 100;
    bool injected = false;
    r.sim.set_on_step(r.tap.get(), [&](Time now) {
        r.app_server.step(now);
        if (injected || r.app_client.bytes_received() < (512 << 10)) return;
        injected = true;
        auto conn = r.server_connection();
        for (size_t i = 0; i < kProbes; ++i) {
            const Path from{Simulation::default_server_address(),
                            SocketAddress::ipv4({10, 99, uint8_t(i / 250), uint8_t(1 + i % 250)},
                                                uint16_t(2000 + i))};
            Bytes frame(9);
            ByteWriter w(frame);
            PathChallengeFrame pc;
            pc.data = {1, 2, 3, 4, 5, 6, 7, uint8_t(i)};
            REQUIRE(encode_frame(w, pc));
            ConnectionTestAccess::receive_frames_on(*conn, now, from, frame, kProbeSize);
        }
    });
    INFO("seed 341");
    RunResult res = r.until_done();
    INFO(r.sim.describe());
    REQUIRE_MESSAGE(res.done(), res.message);
    REQUIRE(injected);
    REQUIRE(r.app_client.done());
    auto server = r.server_connection();
    CHECK(server->stats().paths_probed == kProbes);
    CHECK(server->stats().path_migrations == 0);
    CHECK(server->path().remote == r.sim.address(r.client));
    std::map<std::string, size_t> sent_to;
    for (const TraceEvent& e : r.sim.network().trace())
        if (e.direction == Direction::kServerToClient && e.to.ip()[0] == 10 && e.to.ip()[1] == 99)
            sent_to[e.to.to_string()] += e.size;
    CHECK(!sent_to.empty());
    CHECK(sent_to.size() <= kMaxCandidatePaths);
    for (const auto& entry : sent_to) {  // (clang 14 cannot capture bindings in INFO)
        INFO(entry.first);
        CHECK(entry.second <= kAntiAmplificationFactor * kProbeSize);
    }
}

namespace {

const SocketAddress kClientSecond = *SocketAddress::parse("10.0.0.7:40000");

// The client asks to move to kClientSecond once `after` bytes arrived (RFC 9000 §9.2).
void migrate_client_after(Run& r, uint64_t after, bool& asked) {
    r.sim.add_client_address(r.client, kClientSecond);
    r.sim.set_on_step(r.client, [&r, after, &asked](Time now) {
        r.app_client.step(now);
        if (asked || r.app_client.bytes_received() < after || !r.app_client.connection()) return;
        asked = true;
        REQUIRE(r.app_client.connection()->migrate(now, kClientSecond).ok());
    });
}

}  // namespace

TEST_CASE("migration: the client moves to a new local address on request (§9.2)") {
    Setup s = make_setup();
    s.server.connection.preferred_address_ipv4.reset();
    Run r(351, s, 2 << 20);
    bool asked = false;
    migrate_client_after(r, 512 << 10, asked);
    INFO("seed 351");
    RunResult res = r.until_done();
    INFO(r.sim.describe());
    REQUIRE_MESSAGE(res.done(), res.message);
    REQUIRE(r.app_client.done());
    REQUIRE(asked);
    const ConnectionStats cs = r.app_client.connection()->stats();
    CHECK(cs.paths_probed == 1);
    CHECK(cs.path_migrations == 1);
    CHECK(r.app_client.connection()->path().local == kClientSecond);
    auto server = r.server_connection();
    CHECK(server->path().remote == kClientSecond);
    CHECK(server->stats().path_migrations == 1);
    // §9.5: a connection ID never used from the old address; the first packet from the new
    // one is a PATH_CHALLENGE, and the server's first packet there answers and challenges.
    std::set<std::string> old_ids, new_ids;
    for (const auto& seen : r.tap.seen) {
        auto d = short_header_dcid(seen.bytes);
        if (!d) continue;
        if (seen.path.remote == kClientSecond)
            new_ids.insert(id_text(d->data(), d->size()));
        else
            old_ids.insert(id_text(d->data(), d->size()));
    }
    REQUIRE(!new_ids.empty());
    for (const std::string& id : new_ids) CHECK(old_ids.count(id) == 0);
    const auto& pk = s.client_trace->packets;
    auto first_new = std::find_if(pk.begin(), pk.end(), [&](const PathTracer::Packet& p) {
        return p.sent && new_ids.count(id_text(p.dcid.data(), p.dcid.size()));
    });
    REQUIRE(first_new != pk.end());
    CHECK(first_new->challenge);
    CHECK(first_new->probing_only);
    auto answer = std::find_if(first_new, pk.end(),
                               [](const PathTracer::Packet& p) { return !p.sent && p.response; });
    REQUIRE(answer != pk.end());
    CHECK(answer->challenge);
}

TEST_CASE("migration: to a new local address under 10% loss with bursts") {
    for (uint64_t seed : {361, 362, 363}) {
        Setup s = make_setup();
        s.server.connection.preferred_address_ipv4.reset();
        s.link.loss = 0.10;
        s.link.max_burst_loss = 3;
        Run r(seed, s, 1 << 20);
        bool asked = false;
        migrate_client_after(r, 256 << 10, asked);
        INFO("seed " << seed);
        RunResult res = r.until_done(120s);
        INFO(r.sim.describe());
        REQUIRE_MESSAGE(res.done(), res.message);
        REQUIRE(r.app_client.done());
        CHECK(asked);
        CHECK(r.app_client.connection()->path().local == kClientSecond);
        CHECK(r.server_connection()->path().remote == kClientSecond);
    }
}

TEST_CASE("migration: a new local address that fails validation: the client stays (§9.3.2)") {
    Setup s = make_setup();
    s.server.connection.preferred_address_ipv4.reset();
    Run r(371, s, 4 << 20);
    bool asked = false;
    migrate_client_after(r, 256 << 10, asked);
    size_t blocked = 0;
    r.tap.hook = [&](Time now, const Path& p, Ecn ecn, MutableByteSpan d, Endpoint& e) {
        if (p.remote == kClientSecond) {
            ++blocked;  // that network does not reach the server
            return;
        }
        e.on_datagram(now, p, ecn, d);
    };
    INFO("seed 371");
    RunResult res = r.until_done();
    INFO(r.sim.describe());
    REQUIRE_MESSAGE(res.done(), res.message);
    REQUIRE(r.app_client.done());
    REQUIRE(asked);
    CHECK(blocked > 0);
    const ConnectionStats cs = r.app_client.connection()->stats();
    CHECK(cs.path_validation_failures == 1);
    CHECK(cs.path_migrations == 0);
    CHECK(r.app_client.connection()->path().local == r.sim.address(r.client));
}
