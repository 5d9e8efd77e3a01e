// The perf protocol (draft-banks-quic-performance-00, quic/perf.h) over simulated
// connections: a perf::Client against a perf::Server, and raw clients writing through the
// Connection API what a well-behaved client never sends (short prefixes, resets, oversized
// requests). A failure prints its seed (doctest INFO).
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quic/overloaded.h"
#include "quic/perf.h"
#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;
using perf::kUnlimited;
using perf::RequestDone;
using perf::RequestEnd;

namespace {

// Datagrams are 1200 bytes here (initial_max_udp_payload_size): a 1-RTT packet carries a
// little under 1200 bytes of stream data.
constexpr uint64_t kJustUnderPacket = 1100;
constexpr uint64_t kJustOverPacket = 1300;

// Every connection the server endpoint accepts, each served by a perf::Server.
struct ServerApp {
    Endpoint& endpoint;
    perf::ServerConfig config;
    std::vector<std::unique_ptr<perf::Server>> conns;

    void step(Time now) {
        while (auto c = endpoint.accept())
            conns.push_back(std::make_unique<perf::Server>(std::move(c), config));
        for (auto& s : conns) s->process(now);
    }
    perf::ServerStats totals() const {
        perf::ServerStats t;
        for (const auto& s : conns) t += s->stats();
        return t;
    }
    size_t active_streams() const {
        size_t n = 0;
        for (const auto& s : conns) n += s->active_streams() + s->pending_uni_responses();
        return n;
    }
};

// A perf::Client with a queue of requests, sent as the server's stream limits allow.
struct ClientApp {
    Endpoint& endpoint;
    Path path;
    std::shared_ptr<Connection> conn;
    std::unique_ptr<perf::Client> client;
    bool handshake_done = false;
    bool blocked[2] = {false, false};  // [bidi, uni]: waiting for StreamsAvailable
    std::deque<perf::Request> queue;
    std::map<uint64_t, perf::Request> sent;  // stream id -> what it asked for
    std::vector<RequestDone> done;
    std::optional<ConnectionClosed> closed;
    std::function<void(Time)> on_step;  // extra actions (stop a request at some time)

    void step(Time now) {
        if (!conn) {
            ConnectOptions o;
            o.server_name = "server";
            auto r = endpoint.connect(now, path, o);
            REQUIRE(r);
            conn = std::move(r).value();
            client = std::make_unique<perf::Client>(conn);
        }
        while (auto ev = client->poll_event(now)) handle(*ev);
        send_queued(now);
        if (on_step) on_step(now);
        while (auto ev = client->poll_event(now)) handle(*ev);
    }
    void handle(const perf::ClientEvent& ev) {
        std::visit(Overloaded{
                       [&](const HandshakeCompleted&) { handshake_done = true; },
                       [&](const StreamsAvailable& e) { blocked[e.bidirectional ? 0 : 1] = false; },
                       [&](const RequestDone& e) { done.push_back(e); },
                       [&](const ConnectionClosed& e) { closed = e; },
                       [](const auto&) {},
                   },
                   ev);
    }
    void send_queued(Time now) {
        if (!handshake_done) return;
        while (!queue.empty()) {
            const perf::Request r = queue.front();
            if (blocked[r.bidirectional ? 0 : 1]) return;
            auto id = client->request(now, r);
            if (!id) {
                REQUIRE(id.error().is_transport(TransportErrorCode::kStreamLimitError));
                blocked[r.bidirectional ? 0 : 1] = true;
                return;
            }
            sent[*id] = r;
            queue.pop_front();
        }
    }
    const RequestDone* find(uint64_t id) const {
        for (const auto& d : done)
            if (d.stream_id == id) return &d;
        return nullptr;
    }
};

struct PerfSim {
    Simulation sim;
    SimTls tls;
    Endpoint* server_endpoint = nullptr;
    Endpoint* client_endpoint = nullptr;
    std::unique_ptr<ServerApp> server;

    explicit PerfSim(uint64_t seed, LinkConfig link = fast_link(),
                     perf::ServerConfig server_config = {}, EndpointConfig client_config = {})
        : sim(seed, link, link) {
        auto made = make_sim_tls({perf::kAlpn});
        REQUIRE(made);
        tls = *made;
        EndpointConfig sc;
        sc.server_tls = tls.server;
        client_config.client_tls = tls.client;
        server_endpoint = &sim.add_server(sc);
        client_endpoint = &sim.add_client(client_config);
        server = std::make_unique<ServerApp>(ServerApp{*server_endpoint, server_config, {}});
        sim.set_on_step(*server_endpoint, [this](Time t) { server->step(t); });
    }
    static LinkConfig fast_link() {
        LinkConfig l;
        l.rate_bps = 100'000'000;
        l.delay = 5ms;
        l.queue_packets = 200;
        return l;
    }

    std::unique_ptr<ClientApp> client() {
        auto c = std::make_unique<ClientApp>(
            ClientApp{*client_endpoint, sim.client_path(*client_endpoint)});
        ClientApp* raw = c.get();
        sim.set_on_step(*client_endpoint, [raw](Time t) { raw->step(t); });
        return c;
    }

    void run(const std::function<bool()>& done, Duration limit = 60s) {
        sim.wake_at(sim.now());
        RunResult r = sim.run_until(done, limit);
        INFO(r.message);
        REQUIRE(r.done());
    }
};

// Every request completes with exactly the bytes asked for, both ways; the server counts the
// same.
void check_all_complete(PerfSim& h, const ClientApp& c) {
    REQUIRE(c.done.size() == c.sent.size());
    // No waiting here: a unidirectional request without a response is done only once the
    // server acknowledged its bytes, so the server has read them all by now.
    uint64_t up = 0, down = 0;
    for (const auto& d : c.done) {
        const perf::Request& r = c.sent.at(d.stream_id);
        INFO("stream " << d.stream_id << ": " << perf::request_end_name(d.end));
        CHECK(d.end == RequestEnd::kComplete);
        CHECK(d.uploaded == r.upload);
        CHECK(d.downloaded == r.download);
        if (d.first_byte) CHECK(*d.first_byte <= d.completed);
        up += r.upload;
        down += r.download;
    }
    const perf::ServerStats s = h.server->totals();
    CHECK(s.requests == c.sent.size());
    CHECK(s.responses == c.sent.size());
    CHECK(s.bytes_received == up);
    CHECK(s.bytes_sent == down);
    CHECK(c.client->stats().bytes_sent == up);
    CHECK(c.client->stats().bytes_received == down);
    CHECK(c.client->stats().completed == c.sent.size());
    CHECK(s.ignored + s.refused + s.aborted == 0);
    CHECK(c.client->stats().unexpected == 0);
}

}  // namespace

TEST_CASE("perf: request prefix is the response size in 8 bytes, network byte order") {
    const auto p = perf::encode_request_prefix(0x0102030405060708);
    CHECK(p == std::array<uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(perf::decode_request_prefix(p) == 0x0102030405060708);
    CHECK(perf::encode_request_prefix(kUnlimited) ==
          std::array<uint8_t, 8>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
    CHECK(perf::decode_request_prefix(perf::encode_request_prefix(0)) == 0);
}

TEST_CASE("perf: downloads and uploads of 0, 1, about a packet and 1 MB on bidirectional streams") {
    for (bool upload : {false, true}) {
        INFO("seed 301, " << (upload ? "upload" : "download"));
        PerfSim h(301);
        auto c = h.client();
        for (uint64_t size :
             {uint64_t{0}, uint64_t{1}, kJustUnderPacket, kJustOverPacket, uint64_t{1} << 20}) {
            perf::Request r;
            (upload ? r.upload : r.download) = size;
            c->queue.push_back(r);
        }
        const size_t n = c->queue.size();
        h.run([&] { return c->done.size() == n; });
        check_all_complete(h, *c);
        // The 0-byte response still takes a round trip: the server's FIN (§2.3.2).
        for (const auto& d : c->done)
            if (c->sent[d.stream_id].download == 0) CHECK(!d.first_byte);
    }
}

TEST_CASE("perf: unidirectional requests are answered on the server's own streams") {
    INFO("seed 302");
    PerfSim h(302);
    auto c = h.client();
    // Different sizes in one batch: responses are matched by size, whatever their order.
    for (uint64_t size : {uint64_t{0}, uint64_t{1}, kJustUnderPacket, kJustOverPacket,
                          uint64_t{300000}, uint64_t{5}, uint64_t{70000}}) {
        c->queue.push_back({false, 0, size});
        c->queue.push_back({false, size, 0});
        c->queue.push_back({false, size, size});
    }
    const size_t n = c->queue.size();
    h.run([&] { return c->done.size() == n; });
    check_all_complete(h, *c);
    // Every response with data came on a server-initiated unidirectional stream (id % 4 == 3),
    // so the client's bidirectional credit was never used.
    for (const auto& [id, r] : c->sent) CHECK(id % 4 == 2);
}

TEST_CASE("perf: a unidirectional upload is done when the server has every byte, not before") {
    INFO("seed 308");
    PerfSim h(308);
    auto c = h.client();
    // §2.3.2: no response comes back, so only the acknowledgements can end it; 4 MB is more
    // than the connection takes into its send buffer at once.
    c->queue.push_back({false, uint64_t{4} << 20, 0});
    h.run([&] { return c->done.size() == 1; });
    CHECK(c->done[0].end == RequestEnd::kComplete);
    CHECK(h.server->totals().bytes_received == uint64_t{4} << 20);
}

TEST_CASE("perf: an unlimited response ends with STOP_SENDING, and the connection goes on") {
    for (bool bidi : {true, false}) {
        INFO("seed 303, " << (bidi ? "bidi" : "uni"));
        PerfSim h(303);
        auto c = h.client();
        c->queue.push_back({bidi, 0, kUnlimited});
        h.run([&] { return c->sent.size() == 1 && c->client->stats().bytes_received > 2000000; });
        const uint64_t id = c->sent.begin()->first;
        REQUIRE(c->client->stop(h.sim.now(), id));
        REQUIRE(c->done.size() == 0);  // reported on the next poll
        h.run([&] { return c->done.size() == 1; });
        const RequestDone& d = c->done[0];
        CHECK(d.end == RequestEnd::kStopped);
        CHECK(d.downloaded > 2000000);
        // The server hears STOP_SENDING, stops, and forgets the stream.
        h.run([&] { return h.server->totals().responses_stopped == 1; });
        h.run([&] { return h.server->active_streams() == 0; });
        // Another request on the same connection.
        c->queue.push_back({bidi, 10, 1000});
        h.run([&] { return c->done.size() == 2; });
        CHECK(c->done[1].end == RequestEnd::kComplete);
        CHECK(c->done[1].downloaded == 1000);
        CHECK(h.server->totals().responses == 1);
        CHECK(!c->closed);
    }
}

TEST_CASE("perf: an unlimited upload ends with the client's FIN; the server counts every byte") {
    INFO("seed 304");
    PerfSim h(304);
    auto c = h.client();
    c->queue.push_back({true, kUnlimited, 4});
    h.run([&] { return h.server->totals().bytes_received > 1000000; });
    const uint64_t id = c->sent.begin()->first;
    REQUIRE(c->client->stop(h.sim.now(), id));
    h.run([&] { return c->done.size() == 1; });
    const RequestDone& d = c->done[0];
    CHECK(d.end == RequestEnd::kComplete);
    CHECK(d.downloaded == 4);
    CHECK(h.server->totals().bytes_received == d.uploaded);
    CHECK(h.server->totals().responses == 1);
}

TEST_CASE("perf: many streams, mixed kinds and sizes, beyond the stream limits") {
    INFO("seed 305");
    PerfSim h(305);
    auto c = h.client();
    SeededRandom rng(305);
    // 600 requests: more than the server's 100 bidirectional and 100 unidirectional streams
    // at once, so the client waits for MAX_STREAMS (RFC 9000 §4.6) several times.
    for (int i = 0; i < 600; ++i) {
        perf::Request r;
        r.bidirectional = rng.uniform(2) == 0;
        r.upload = rng.uniform(3) == 0 ? rng.uniform(5000) : 0;
        r.download = rng.uniform(4000);
        c->queue.push_back(r);
    }
    h.run([&] { return c->done.size() == 600; });
    check_all_complete(h, *c);
    h.run([&] { return h.server->active_streams() == 0; });
}

TEST_CASE("perf: a lossy path still delivers every byte asked for") {
    INFO("seed 306");
    LinkConfig lossy = PerfSim::fast_link();
    lossy.loss = 0.03;
    lossy.reorder = 0.02;
    PerfSim h(306, lossy);
    auto c = h.client();
    c->queue.push_back({true, 0, 2000000});
    c->queue.push_back({true, 500000, 0});
    c->queue.push_back({false, 0, 300000});
    h.run([&] { return c->done.size() == 3; }, 120s);
    check_all_complete(h, *c);
}

TEST_CASE("perf: a request beyond the server's cap is refused, and the connection goes on") {
    INFO("seed 307");
    perf::ServerConfig cap;
    cap.max_response_size = 100000;
    PerfSim h(307, PerfSim::fast_link(), cap);
    auto c = h.client();
    c->queue.push_back({true, 0, 100001});
    c->queue.push_back({true, 3000000, kUnlimited});  // refused while its upload is in flight
    c->queue.push_back({false, 0, 200000});
    c->queue.push_back({true, 0, 100000});  // at the cap: served
    h.run([&] { return c->done.size() == 4; });
    std::map<uint64_t, RequestDone> by_id;
    for (const auto& d : c->done) by_id[d.stream_id] = d;
    auto it = c->sent.begin();
    const RequestDone& over = by_id.at((it++)->first);
    const RequestDone& unlimited = by_id.at((it++)->first);
    const RequestDone& uni = by_id.at((it++)->first);
    const RequestDone& at_cap = by_id.at((it++)->first);
    CHECK(over.end == RequestEnd::kReset);
    CHECK(over.error_code == perf::kRefused);
    CHECK(unlimited.end == RequestEnd::kReset);
    CHECK(unlimited.error_code == perf::kRefused);
    CHECK(unlimited.uploaded < 3000000);  // STOP_SENDING cut the upload short
    CHECK(uni.end == RequestEnd::kReset);
    CHECK(uni.error_code == perf::kRefused);
    CHECK(at_cap.end == RequestEnd::kComplete);
    CHECK(at_cap.downloaded == 100000);
    const perf::ServerStats s = h.server->totals();
    CHECK(s.refused == 3);
    CHECK(s.responses == 1);
    CHECK(s.bytes_sent == 100000);
    h.run([&] { return h.server->active_streams() == 0; });
    CHECK(!c->closed);
}

// A raw client on the Connection API: streams that end before their 8 bytes (ignored, §2.3.1),
// resets, garbage; the server counts each and keeps serving.
TEST_CASE("perf: streams closed before 8 bytes are ignored; resets and garbage are counted") {
    INFO("seed 308");
    perf::ServerConfig cap;
    cap.max_response_size = 1 << 20;
    PerfSim h(308, PerfSim::fast_link(), cap);
    std::shared_ptr<Connection> conn;
    bool handshake = false;
    std::map<uint64_t, uint64_t> got;  // stream -> bytes read
    std::map<uint64_t, bool> fin, reset;
    Bytes buf(65536);
    std::function<void(Time)> script;
    h.sim.set_on_step(*h.client_endpoint, [&](Time now) {
        if (!conn) {
            ConnectOptions o;
            o.server_name = "server";
            conn =
                h.client_endpoint->connect(now, h.sim.client_path(*h.client_endpoint), o).value();
        }
        while (auto ev = conn->poll_event()) {
            if (std::holds_alternative<HandshakeCompleted>(*ev)) handshake = true;
            if (auto* r = std::get_if<StreamReadable>(&*ev)) {
                for (;;) {
                    bool f = false;
                    auto n = conn->read(r->stream_id, buf, &f);
                    if (!n) {
                        reset[r->stream_id] = true;
                        break;
                    }
                    got[r->stream_id] += *n;
                    if (f) fin[r->stream_id] = true;
                    if (f || *n == 0) break;
                }
            }
        }
        if (handshake && script) {
            auto s = std::move(script);
            script = nullptr;
            s(now);
        }
    });
    auto open = [&](bool bidi) { return conn->open_stream(bidi).value(); };
    const uint8_t three[3] = {0, 0, 0};
    uint64_t short_bidi = 0, short_uni = 0, empty_bidi = 0, reset_prefix = 0, reset_upload = 0;
    std::vector<uint64_t> garbage;
    SeededRandom rng(308);
    script = [&](Time) {
        short_bidi = open(true);
        REQUIRE(conn->write(short_bidi, ByteSpan(three, 3), true));
        short_uni = open(false);
        REQUIRE(conn->write(short_uni, ByteSpan(three, 3), true));
        empty_bidi = open(true);
        REQUIRE(conn->finish(empty_bidi));
        reset_prefix = open(true);
        REQUIRE(conn->write(reset_prefix, ByteSpan(three, 3), false));
        REQUIRE(conn->reset_stream(reset_prefix, 77));
        // A request whose upload is reset before its FIN (once the server has its prefix):
        // the server abandons the response.
        reset_upload = open(true);
        const auto p = perf::encode_request_prefix(5000);
        REQUIRE(conn->write(reset_upload, ByteSpan(p), false));
        REQUIRE(conn->write(reset_upload, ByteSpan(buf).first(20000), false));
        // Random bytes: their first 8 make a size far above the cap.
        for (int i = 0; i < 20; ++i) {
            Bytes junk(8 + rng.uniform(3000));
            rng.fill(junk);
            junk[0] |= 0x01;  // > 2^56: far above the cap
            const uint64_t id = open(i % 2 == 0);
            REQUIRE(conn->write(id, junk, true));
            garbage.push_back(id);
        }
    };
    h.run([&] { return h.server->totals().bytes_received >= 20000; });
    REQUIRE(conn->reset_stream(reset_upload, 78));
    h.sim.wake_at(h.sim.now());
    h.run([&] {
        const perf::ServerStats s = h.server->totals();
        return s.ignored == 3 && s.aborted == 2 && s.refused == 20;
    });
    h.run([&] { return fin[short_bidi] && fin[empty_bidi]; });
    // §2.3.1: the server closes its end of an ignored bidirectional stream, with no data.
    CHECK(got[short_bidi] == 0);
    CHECK(got[empty_bidi] == 0);
    const perf::ServerStats s = h.server->totals();
    CHECK(s.requests == 21);  // reset_upload and the garbage had 8 bytes
    CHECK(s.responses == 0);
    CHECK(s.bytes_sent == 0);
    // Refused bidirectional garbage is reset with kRefused.
    h.run([&] {
        for (size_t i = 0; i < garbage.size(); i += 2)
            if (!reset[garbage[i]]) return false;
        return true;
    });
    h.run([&] { return h.server->active_streams() == 0; });
    CHECK(!conn->is_closed());

    // And a real request on the same connection is still served.
    auto id = open(true);
    const auto p = perf::encode_request_prefix(4321);
    REQUIRE(conn->write(id, ByteSpan(p), true));
    h.run([&] { return fin[id]; });
    CHECK(got[id] == 4321);
}

TEST_CASE("perf: the client's connection closing ends every request in flight") {
    INFO("seed 309");
    PerfSim h(309);
    auto c = h.client();
    for (int i = 0; i < 5; ++i) c->queue.push_back({i % 2 == 0, 0, kUnlimited});
    h.run([&] { return c->client->stats().bytes_received > 500000; });
    c->conn->close(h.sim.now(), 0, "done");
    h.run([&] { return c->closed.has_value(); });
    CHECK(c->done.size() == 5);
    for (const auto& d : c->done) CHECK(d.end == RequestEnd::kConnectionClosed);
    h.run([&] { return h.server->conns[0]->closed().has_value(); });
    CHECK(h.server->active_streams() == 0);
}
