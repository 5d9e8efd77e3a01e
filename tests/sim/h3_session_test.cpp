// HTTP/3 sessions (RFC 9114, RFC 9204) over simulated connections: a client and a server
// h3::Session exchanging requests, and a raw client writing hand-made bytes through the
// Connection API to provoke the server's connection and stream errors. A failure prints its
// seed (doctest INFO).
#include <doctest/doctest.h>
#include "qlog/reader.h"
#include "qlog/writer.h"
#include "quic/overloaded.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "http3/frame.h"
#include "http3/qpack_decoder.h"
#include "http3/qpack_encoder.h"
#include "http3/qpack_instructions.h"
#include "http3/stream_readers.h"
#include "http3/stream_types.h"
#include "http3/test_access.h"
#include "quic/http3/message.h"
#include "quic/http3/session.h"
#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::h3;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

// Body byte at an offset: the client checks every byte of every response.
uint8_t body_byte(uint64_t offset) {
    return static_cast<uint8_t>((offset * 131 + 7) ^ (offset >> 9));
}

std::string header(const std::vector<Field>& fields, const char* name) {
    const std::string* v = find_field(fields, name);
    return v ? *v : std::string();
}

ByteSpan as_bytes(const std::string& s) {
    return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// --- the server application ----------------------------------------------------------------
//
// /res/<n>: 200 with n body bytes and headers that repeat across responses (QPACK material);
// /echo: reads the request body, answers with its size; /trailers: reads body and trailers,
// answers with a body and trailers of its own. Every request is answered when complete.
struct ServerApp {
    struct Request {
        std::vector<Field> headers;
        std::string path;
        uint64_t body = 0;
        std::vector<Field> trailers;
        bool complete = false;
        // The response being sent.
        bool responding = false, responded = false;
        uint64_t to_send = 0, sent = 0;
        std::vector<Field> response_trailers;
    };
    struct Conn {
        std::unique_ptr<Session> session;
        std::map<uint64_t, Request> requests;
        std::vector<ConnectionClosed> closed;
        std::vector<StreamAborted> aborted;
        uint64_t responses_completed = 0;
    };

    Endpoint& endpoint;
    SessionConfig config;
    std::vector<std::unique_ptr<Conn>> conns;
    // Called on every request's headers (e.g. to start a shutdown).
    std::function<void(Conn&, uint64_t, Time)> on_headers;
    Bytes buf = Bytes(64 * 1024);

    void step(Time now) {
        while (auto c = endpoint.accept()) {
            auto conn = std::make_unique<Conn>();
            conn->session = std::make_unique<Session>(std::move(c), Perspective::kServer, config);
            REQUIRE(conn->session->start());
            conns.push_back(std::move(conn));
        }
        for (auto& c : conns)
            while (auto ev = c->session->poll_event(now)) handle(*c, *ev, now);
    }

    void handle(Conn& c, const SessionEvent& ev, Time now) {
        std::visit(Overloaded{
                       [&](const RequestHeaders& e) {
                           Request& r = c.requests[e.stream_id];
                           r.headers = e.fields;
                           r.path = header(e.fields, ":path");
                           if (on_headers) on_headers(c, e.stream_id, now);
                           if (r.path.starts_with("/res/")) respond(c, e.stream_id);
                       },
                       [&](const BodyReadable& e) { read(c, e.stream_id); },
                       [&](const Trailers& e) { c.requests[e.stream_id].trailers = e.fields; },
                       [&](const MessageComplete& e) {
                           Request& r = c.requests[e.stream_id];
                           r.complete = true;
                           if (!r.responded) respond(c, e.stream_id);
                       },
                       [&](const StreamWritable& e) {
                           auto it = c.requests.find(e.stream_id);
                           if (it != c.requests.end() && it->second.responding)
                               send_body(c, e.stream_id);
                       },
                       [&](const StreamAborted& e) { c.aborted.push_back(e); },
                       [&](const ConnectionClosed& e) { c.closed.push_back(e); },
                       [](const auto&) {},
                   },
                   ev);
    }

    void read(Conn& c, uint64_t id) {
        Request& r = c.requests[id];
        while (true) {
            bool fin = false;
            auto n = c.session->read_body(id, buf, &fin);
            if (!n || *n == 0) return;
            r.body += *n;
        }
    }

    void respond(Conn& c, uint64_t id) {
        Request& r = c.requests[id];
        r.responding = r.responded = true;
        std::vector<Field> h{{":status", "200"},
                             {"server", "quiver-h3-test"},
                             {"content-type", "application/octet-stream"},
                             {"cache-control", "public, max-age=3600"},
                             {"x-served-by", "simulated-server-with-a-long-repeated-name"}};
        if (r.path.starts_with("/res/")) {
            r.to_send = std::stoull(r.path.substr(5));
            h.push_back({"content-length", std::to_string(r.to_send)});
        } else if (r.path == "/echo") {
            h.push_back({"x-body-size", std::to_string(r.body)});
        } else if (r.path == "/trailers") {
            r.to_send = 1000;
            r.response_trailers = {{"x-request-trailers", std::to_string(r.trailers.size())},
                                   {"x-checksum", "response-checksum"}};
        }
        auto sent = c.session->send_response(id, h, r.to_send == 0 && r.response_trailers.empty());
        INFO((sent ? std::string() : sent.error().to_string()));
        REQUIRE(sent);
        if (r.to_send == 0 && r.response_trailers.empty()) return finished(c, id);
        send_body(c, id);
    }

    void send_body(Conn& c, uint64_t id) {
        Request& r = c.requests[id];
        while (r.sent < r.to_send) {
            const size_t n =
                static_cast<size_t>(std::min<uint64_t>(buf.size(), r.to_send - r.sent));
            for (size_t i = 0; i < n; ++i) buf[i] = body_byte(r.sent + i);
            const bool last = r.sent + n == r.to_send && r.response_trailers.empty();
            auto k = c.session->send_body(id, ByteSpan(buf).first(n), last);
            REQUIRE(k);
            r.sent += *k;
            if (*k < n) return;  // StreamWritable follows
        }
        if (!r.response_trailers.empty())
            REQUIRE(c.session->send_trailers(id, r.response_trailers));
        finished(c, id);
    }

    void finished(Conn& c, uint64_t id) {
        ++c.responses_completed;
        c.requests[id].responding = false;
    }
};

// --- the client application ----------------------------------------------------------------

struct ClientApp {
    struct Exchange {
        std::string path;
        unsigned status = 0;
        std::vector<Field> headers;
        uint64_t body = 0;
        bool body_ok = true;  // every byte matched body_byte (for /res/)
        std::string text;     // the first bytes, for small bodies
        std::vector<Field> trailers;
        bool complete = false;
        std::optional<StreamAborted> aborted;
        // The request body being uploaded.
        std::string upload;
        size_t uploaded = 0;
        std::vector<Field> upload_trailers;
        std::optional<Time> sent_at;
    };
    struct Request {
        std::string path, method = "GET";
        std::string body;
        std::vector<Field> trailers;
    };

    Endpoint& endpoint;
    Path path;
    ConnectOptions options;
    SessionConfig config;
    bool send_before_handshake = false;

    std::shared_ptr<Connection> conn;
    std::unique_ptr<Session> session;
    bool handshake_done = false;
    std::deque<Request> queue;
    std::map<uint64_t, Exchange> exchanges;
    std::vector<ConnectionClosed> closed;
    std::optional<uint64_t> goaway;
    std::vector<Error> refused;  // send_request errors (other than stream limits)
    Bytes ticket;
    std::optional<Time> connected_at;
    bool blocked = false;
    Bytes buf = Bytes(64 * 1024);

    ClientApp(Endpoint& e, Path p, SessionConfig c = {}) : endpoint(e), path(p), config(c) {
        options.server_name = "server";
    }

    size_t completed() const {
        size_t n = 0;
        for (const auto& [id, x] : exchanges) n += x.complete;
        return n;
    }

    void step(Time now) {
        if (!conn) {
            auto r = endpoint.connect(now, path, options);
            REQUIRE(r);
            conn = std::move(r).value();
            connected_at = now;
            session = std::make_unique<Session>(conn, Perspective::kClient, config);
            REQUIRE(session->start());
        }
        while (auto ev = session->poll_event(now)) handle(*ev, now);
        send_queued(now);
    }

    void send_queued(Time now) {
        if (!handshake_done && !send_before_handshake) return;
        while (!queue.empty() && !blocked && !session->closed()) {
            const Request& q = queue.front();
            std::vector<Field> h{{":method", q.method},
                                 {":scheme", "https"},
                                 {":authority", "server"},
                                 {":path", q.path},
                                 {"user-agent", "quiver-h3-test/1.0 (simulated client)"},
                                 {"accept", "*/*"}};
            if (!q.body.empty()) h.push_back({"content-length", std::to_string(q.body.size())});
            const bool end = q.body.empty() && q.trailers.empty();
            auto id = session->send_request(h, end);
            if (!id) {
                if (id.error().is_transport(TransportErrorCode::kStreamLimitError)) {
                    blocked = true;
                    return;
                }
                refused.push_back(id.error());
                queue.pop_front();
                continue;
            }
            Exchange& x = exchanges[*id];
            x.path = q.path;
            x.upload = q.body;
            x.upload_trailers = q.trailers;
            x.sent_at = now;
            queue.pop_front();
            if (!end) upload(*id);
        }
    }

    void upload(uint64_t id) {
        Exchange& x = exchanges[id];
        if (x.uploaded < x.upload.size()) {
            const bool last = x.upload_trailers.empty();
            auto n = session->send_body(id, as_bytes(x.upload).subspan(x.uploaded), last);
            REQUIRE(n);
            x.uploaded += *n;
            if (x.uploaded < x.upload.size()) return;
            if (last) return;
        } else if (x.upload.empty() && x.uploaded == 0 && x.upload_trailers.empty()) {
            return;
        }
        if (!x.upload_trailers.empty()) {
            REQUIRE(session->send_trailers(id, x.upload_trailers));
            x.upload_trailers.clear();
        }
    }

    void handle(const SessionEvent& ev, Time) {
        std::visit(Overloaded{
                       [&](const HandshakeCompleted&) { handshake_done = true; },
                       [&](const StreamsAvailable& e) {
                           if (e.bidirectional) blocked = false;
                       },
                       [&](const ResponseHeaders& e) {
                           Exchange& x = exchanges[e.stream_id];
                           x.status = e.status;
                           x.headers = e.fields;
                       },
                       [&](const BodyReadable& e) { read(e.stream_id); },
                       [&](const Trailers& e) { exchanges[e.stream_id].trailers = e.fields; },
                       [&](const MessageComplete& e) { exchanges[e.stream_id].complete = true; },
                       [&](const StreamAborted& e) { exchanges[e.stream_id].aborted = e; },
                       [&](const StreamWritable& e) {
                           if (exchanges.count(e.stream_id)) upload(e.stream_id);
                       },
                       [&](const GoAwayReceived& e) { goaway = e.id; },
                       [&](const SessionTicketReceived& e) { ticket = e.ticket; },
                       [&](const ConnectionClosed& e) { closed.push_back(e); },
                       [](const auto&) {},
                   },
                   ev);
    }

    void read(uint64_t id) {
        Exchange& x = exchanges[id];
        while (true) {
            bool fin = false;
            auto n = session->read_body(id, buf, &fin);
            if (!n || *n == 0) return;
            for (size_t i = 0; i < *n; ++i)
                if (buf[i] != body_byte(x.body + i)) x.body_ok = false;
            if (x.text.size() < 256)
                x.text.append(reinterpret_cast<const char*>(buf.data()),
                              std::min<size_t>(*n, 256 - x.text.size()));
            x.body += *n;
        }
    }
};

struct H3Sim {
    Simulation sim;
    SimTls tls;
    Endpoint* server_endpoint = nullptr;
    Endpoint* client_endpoint = nullptr;
    std::unique_ptr<ServerApp> server;

    explicit H3Sim(uint64_t seed, SessionConfig server_config = {}, LinkConfig link = {},
                   bool zero_rtt = false, std::string qlog_dir = {})
        : sim(seed, link, link) {
        auto made = make_sim_tls({"h3"});
        REQUIRE(made);
        tls = *made;
        EndpointConfig sc, cc;
        sc.server_tls = tls.server;
        cc.client_tls = tls.client;
        sc.connection.enable_0rtt = cc.connection.enable_0rtt = zero_rtt;
        if (!qlog_dir.empty())
            sc.tracer_factory = cc.tracer_factory = [qlog_dir](Role role, const ConnectionId& id) {
                return qlog::make_file_tracer(qlog_dir, role, id);
            };
        server_endpoint = &sim.add_server(sc);
        client_endpoint = &sim.add_client(cc);
        server = std::make_unique<ServerApp>(ServerApp{*server_endpoint, server_config, {}, {}});
        sim.set_on_step(*server_endpoint, [this](Time t) {
            server->step(t);
            // The sessions' own deadlines (request headers, shutdown linger).
            for (auto& c : server->conns)
                if (auto d = c->session->next_timeout(); d && *d > t) sim.wake_at(*d);
        });
    }

    std::unique_ptr<ClientApp> client(SessionConfig config = {}) {
        auto c = std::make_unique<ClientApp>(*client_endpoint, sim.client_path(*client_endpoint),
                                             config);
        ClientApp* raw = c.get();
        sim.set_on_step(*client_endpoint, [raw](Time t) { raw->step(t); });
        return c;
    }
};

}  // namespace

TEST_CASE("h3 session: many resources over one connection use the QPACK dynamic table") {
    SeededRandom grease_client(11), grease_server(12);
    SessionConfig server_config;
    server_config.grease = &grease_server;
    H3Sim h(201, server_config);
    INFO("seed 201");
    SessionConfig client_config;
    client_config.grease = &grease_client;
    auto client = h.client(client_config);
    // A page, a stylesheet, then the rest: the first exchange crosses the SETTINGS (no dynamic
    // table yet, RFC 9204 §3.2.3), the second inserts the repeated fields, and once those
    // inserts are acknowledged every later section can reference them without risking a
    // blocked stream (§2.1.2).
    const size_t kCount = 60;
    for (size_t i = 0; i < 2; ++i) {
        client->queue.push_back({"/res/" + std::to_string(100 + i)});
        h.sim.wake_at(h.sim.now());
        RunResult r0 = h.sim.run_until([&] { return client->completed() == i + 1; }, 30s);
        REQUIRE(r0.done());
    }
    for (size_t i = 2; i < kCount; ++i)
        client->queue.push_back({"/res/" + std::to_string(100 + 997 * i % 20000)});
    h.sim.wake_at(h.sim.now());
    RunResult r = h.sim.run_until([&] { return client->completed() == kCount; }, 30s);
    INFO(r.message);
    REQUIRE(r.done());
    for (const auto& entry : client->exchanges) {
        const ClientApp::Exchange& x = entry.second;
        CAPTURE(x.path);
        CHECK(x.status == 200);
        CHECK(x.body == std::stoull(x.path.substr(5)));
        CHECK(x.body_ok);
        CHECK(header(x.headers, "server") == "quiver-h3-test");
        CHECK_FALSE(x.aborted);
    }
    REQUIRE(h.server->conns.size() == 1);
    const SessionStats server_stats = h.server->conns[0]->session->stats();
    const SessionStats client_stats = client->session->stats();
    // The server's repeated response headers went into its dynamic table and later responses
    // referenced them; the client's decoder saw the same.
    CHECK(server_stats.encoder_insert_count > 0);
    CHECK(server_stats.sections_encoded_dynamic >= kCount - 2);
    CHECK(client_stats.decoder_insert_count == server_stats.encoder_insert_count);
    CHECK(client_stats.sections_decoded_dynamic == server_stats.sections_encoded_dynamic);
    // And the other way for the client's user-agent.
    CHECK(client_stats.encoder_insert_count > 0);
    CHECK(client_stats.sections_encoded_dynamic >= kCount - 2);
    CHECK(server_stats.requests_received == kCount);
    CHECK(client_stats.responses_received == kCount);
    MESSAGE("QPACK: server inserted "
            << server_stats.encoder_insert_count << ", " << server_stats.sections_encoded_dynamic
            << "/" << server_stats.sections_encoded << " sections dynamic; client blocked "
            << client_stats.sections_blocked);
    CHECK(h.server->conns[0]->closed.empty());
    CHECK(client->closed.empty());
}

TEST_CASE("h3 session: POST with a body, the response echoes its size") {
    H3Sim h(202);
    INFO("seed 202");
    auto client = h.client();
    std::string body(300'000, 'p');
    client->queue.push_back({"/echo", "POST", body, {}});
    RunResult r = h.sim.run_until([&] { return client->completed() == 1; }, 30s);
    INFO(r.message);
    REQUIRE(r.done());
    const auto& x = client->exchanges.begin()->second;
    CHECK(x.status == 200);
    CHECK(header(x.headers, "x-body-size") == "300000");
    REQUIRE(h.server->conns.size() == 1);
    CHECK(h.server->conns[0]->requests.begin()->second.body == 300'000);
}

TEST_CASE("h3 session: trailers in both directions") {
    H3Sim h(203);
    INFO("seed 203");
    auto client = h.client();
    client->queue.push_back({"/trailers",
                             "POST",
                             std::string(5000, 't'),
                             {{"x-upload-checksum", "abc"}, {"x-more", "1"}}});
    RunResult r = h.sim.run_until([&] { return client->completed() == 1; }, 30s);
    INFO(r.message);
    REQUIRE(r.done());
    const auto& x = client->exchanges.begin()->second;
    CHECK(x.status == 200);
    CHECK(x.body == 1000);
    REQUIRE(x.trailers.size() == 2);
    CHECK(header(x.trailers, "x-request-trailers") == "2");
    CHECK(header(x.trailers, "x-checksum") == "response-checksum");
    const auto& req = h.server->conns[0]->requests.begin()->second;
    CHECK(req.body == 5000);
    CHECK(header(req.trailers, "x-upload-checksum") == "abc");
}

TEST_CASE("h3 session: 10 MiB response over 10 Mbit/s") {
    H3Sim h(204);
    INFO("seed 204");
    auto client = h.client();
    client->queue.push_back({"/res/" + std::to_string(10 << 20)});
    RunResult r = h.sim.run_until([&] { return client->completed() == 1; }, 60s);
    INFO(r.message);
    REQUIRE(r.done());
    const auto& x = client->exchanges.begin()->second;
    CHECK(x.body == (10u << 20));
    CHECK(x.body_ok);
    const double ideal = (10.0 * (1 << 20) * 8) / 10e6;
    const double took = std::chrono::duration<double>(h.sim.now() - Time{}).count();
    INFO("took " << took << " s, ideal " << ideal << " s");
    CHECK(took < ideal * 1.3);
}

TEST_CASE("h3 session: GOAWAY: requests in flight complete, later ones are refused") {
    H3Sim h(205);
    INFO("seed 205");
    auto client = h.client();
    // Two large requests; when the server sees the second, it starts a graceful shutdown.
    client->queue.push_back({"/res/300000"});
    client->queue.push_back({"/res/200000"});
    h.server->on_headers = [&](ServerApp::Conn& c, uint64_t id, Time now) {
        if (id == 4) REQUIRE(c.session->shutdown(now));
    };
    // A third request leaves 10 ms later, before the GOAWAY can arrive: the server rejects it.
    bool third_sent = false;
    RunResult r0 = h.sim.run_until([&] { return client->exchanges.size() == 2; }, 5s);
    REQUIRE(r0.done());
    h.sim.set_on_step(*h.client_endpoint, [&](Time t) {
        if (!third_sent && t >= *client->exchanges.begin()->second.sent_at + 10ms) {
            third_sent = true;
            client->queue.push_back({"/res/1000"});
        }
        client->step(t);
    });
    h.sim.wake_at(*client->exchanges.begin()->second.sent_at + 10ms);
    RunResult r = h.sim.run_until([&] { return !client->closed.empty(); }, 30s);
    INFO(r.message);
    REQUIRE(r.done());
    REQUIRE(client->goaway);
    CHECK(*client->goaway == 8);
    REQUIRE(client->exchanges.size() == 3);
    CHECK(client->exchanges[0].complete);
    CHECK(client->exchanges[0].body == 300000);
    CHECK(client->exchanges[4].complete);
    CHECK(client->exchanges[4].body == 200000);
    // Stream 8 crossed the GOAWAY: rejected (by the server, or locally on GOAWAY).
    REQUIRE(client->exchanges[8].aborted);
    CHECK(client->exchanges[8].aborted->error_code == to_underlying(H3Error::kRequestRejected));
    CHECK_FALSE(client->exchanges[8].complete);
    // New requests after GOAWAY fail locally.
    auto late = client->session->send_request(
        {{":method", "GET"}, {":scheme", "https"}, {":authority", "server"}, {":path", "/x"}},
        true);
    CHECK_FALSE(late);
    // The graceful close is H3_NO_ERROR on both sides.
    CHECK(client->closed[0].error.code == to_underlying(H3Error::kNoError));
    (void)h.sim.run_for(1s);
    REQUIRE(!h.server->conns[0]->closed.empty());
    CHECK(h.server->conns[0]->closed[0].error.code == to_underlying(H3Error::kNoError));
}

TEST_CASE("h3 session: 0-RTT request carrying an HTTP/3 GET") {
    H3Sim h(206, {}, {}, /*zero_rtt=*/true);
    INFO("seed 206");
    auto first = h.client();
    first->queue.push_back({"/res/1000"});
    RunResult r1 =
        h.sim.run_until([&] { return first->completed() == 1 && !first->ticket.empty(); }, 10s);
    REQUIRE(r1.done());
    Bytes ticket = first->ticket;
    first->session->close(h.sim.now());
    (void)h.sim.run_for(500ms);

    auto second = h.client();
    second->options.resumption_ticket = ticket;
    second->send_before_handshake = true;
    second->queue.push_back({"/res/2000"});
    RunResult r2 = h.sim.run_until([&] { return second->completed() == 1; }, 10s);
    INFO(r2.message);
    REQUIRE(r2.done());
    const auto& x = second->exchanges.begin()->second;
    CHECK(x.status == 200);
    CHECK(x.body == 2000);
    CHECK(x.body_ok);
    // Sent at once, before the handshake: in 0-RTT, and accepted.
    REQUIRE(second->connected_at);
    CHECK(*x.sent_at == *second->connected_at);
    CHECK(second->conn->info().early_data_accepted);
    // The response came back within about one round trip (30 ms plus serialisation).
    CHECK(h.sim.now() - *second->connected_at < 60ms);
}

// --- raw peers: hand-written bytes through the Connection API ---------------------------------

namespace {

// A client connection without a session: writes what a test gives it, records what happens.
struct RawClient {
    Endpoint& endpoint;
    Path path;
    std::shared_ptr<Connection> conn;
    bool handshake_done = false;
    std::vector<ConnectionClosed> closed;
    std::map<uint64_t, uint64_t> resets;  // stream -> RESET_STREAM code
    std::map<uint64_t, uint64_t> stop_sending;
    std::map<uint64_t, Bytes> data;
    std::set<uint64_t> fins;
    std::function<void(RawClient&)> on_handshake;
    Bytes buf = Bytes(64 * 1024);

    void step(Time now) {
        if (!conn) {
            auto r = endpoint.connect(now, path, ConnectOptions{"server", {}, {}});
            REQUIRE(r);
            conn = std::move(r).value();
        }
        while (auto ev = conn->poll_event()) {
            std::visit(
                Overloaded{
                    [&](const HandshakeCompleted&) {
                        handshake_done = true;
                        if (on_handshake) on_handshake(*this);
                    },
                    [&](const StreamReadable& e) {
                        while (true) {
                            bool fin = false;
                            auto n = conn->read(e.stream_id, buf, &fin);
                            if (!n) break;
                            auto& d = data[e.stream_id];
                            d.insert(d.end(), buf.begin(), buf.begin() + *n);
                            if (fin) fins.insert(e.stream_id);
                            if (*n == 0 || fin) break;
                        }
                    },
                    [&](const StreamResetReceived& e) { resets[e.stream_id] = e.error_code; },
                    [&](const StopSendingReceived& e) { stop_sending[e.stream_id] = e.error_code; },
                    [&](const ConnectionClosed& e) { closed.push_back(e); },
                    [](const auto&) {},
                },
                *ev);
        }
    }

    uint64_t open_uni(const Bytes& bytes, bool fin = false) {
        auto id = conn->open_stream(false);
        REQUIRE(id);
        auto n = conn->write(*id, bytes, fin);
        REQUIRE(n);
        REQUIRE(*n == bytes.size());
        return *id;
    }
    uint64_t open_bidi(const Bytes& bytes, bool fin = true) {
        auto id = conn->open_stream(true);
        REQUIRE(id);
        auto n = conn->write(*id, bytes, fin);
        REQUIRE(n);
        REQUIRE(*n == bytes.size());
        return *id;
    }
};

Bytes control_stream_with_settings() {
    Bytes b{0x00};
    encode_settings_frame(b, Settings{}, nullptr);
    return b;
}

// A HEADERS frame for fields, encoded without the dynamic table (the server's decoder allows
// one, but a capacity-0 encoder never uses it).
Bytes headers_frame(uint64_t stream_id, const std::vector<Field>& fields) {
    QpackEncoder enc;
    Bytes section = enc.encode_field_section(stream_id, fields);
    Bytes frame;
    encode_frame_header(frame, to_underlying(h3::FrameType::kHeaders), section.size());
    frame.insert(frame.end(), section.begin(), section.end());
    return frame;
}

std::vector<Field> good_request(const std::string& path) {
    return {{":method", "GET"}, {":scheme", "https"}, {":authority", "server"}, {":path", path}};
}

// The response header section on a raw stream's bytes (the server's encoder sees a client
// that allowed no dynamic table).
std::optional<std::vector<Field>> response_headers(uint64_t id, const Bytes& bytes) {
    RequestStreamReader reader(Perspective::kClient);
    auto events = reader.feed(bytes);
    if (!events) return std::nullopt;
    QpackDecoder dec({});
    for (auto& e : *events)
        if (auto* h = std::get_if<HeaderSection>(&e)) {
            auto d = dec.decode(id, h->encoded_field_section);
            if (!d || d->status != DecodedFieldSection::Status::kDecoded) return std::nullopt;
            return d->fields;
        }
    return std::nullopt;
}

struct RawSim {
    H3Sim h;
    std::unique_ptr<RawClient> raw;

    explicit RawSim(uint64_t seed) : h(seed) {
        raw = std::make_unique<RawClient>(
            RawClient{*h.client_endpoint, h.sim.client_path(*h.client_endpoint)});
        RawClient* r = raw.get();
        h.sim.set_on_step(*h.client_endpoint, [r](Time t) { r->step(t); });
    }

    // Runs until the raw client sees the connection close; returns the code it carries.
    std::optional<uint64_t> run_until_closed() {
        RunResult r = h.sim.run_until([&] { return !raw->closed.empty(); }, 10s);
        INFO(r.message);
        if (raw->closed.empty()) return std::nullopt;
        CHECK(raw->closed[0].origin == CloseOrigin::kPeer);
        CHECK(raw->closed[0].error.space == ErrorSpace::kApplication);
        return raw->closed[0].error.code;
    }
};

}  // namespace

TEST_CASE("h3 session: connection errors on the peer's raw streams close with the exact code") {
    struct Case {
        const char* name;
        std::function<void(RawClient&)> act;
        H3Error expected;
    };
    const std::vector<Case> cases{
        {"a second control stream",
         [](RawClient& c) {
             c.open_uni(control_stream_with_settings());
             c.open_uni(control_stream_with_settings());
         },
         H3Error::kStreamCreationError},
        {"a second QPACK encoder stream",
         [](RawClient& c) {
             c.open_uni(control_stream_with_settings());
             c.open_uni(Bytes{0x02});
             c.open_uni(Bytes{0x02});
         },
         H3Error::kStreamCreationError},
        {"a push stream from a client",
         [](RawClient& c) {
             c.open_uni(control_stream_with_settings());
             c.open_uni(Bytes{0x01, 0x00});
         },
         H3Error::kStreamCreationError},
        {"DATA on the control stream",
         [](RawClient& c) {
             Bytes b = control_stream_with_settings();
             encode_frame_header(b, to_underlying(h3::FrameType::kData), 2);
             b.push_back('h');
             b.push_back('i');
             c.open_uni(b);
         },
         H3Error::kFrameUnexpected},
        {"a control stream without SETTINGS first",
         [](RawClient& c) {
             Bytes b{0x00};
             encode_frame(b, GoawayFrame{0});
             c.open_uni(b);
         },
         H3Error::kMissingSettings},
        {"the control stream closed",
         [](RawClient& c) { c.open_uni(control_stream_with_settings(), /*fin=*/true); },
         H3Error::kClosedCriticalStream},
        {"the QPACK decoder stream closed",
         [](RawClient& c) {
             c.open_uni(control_stream_with_settings());
             c.open_uni(Bytes{0x03}, /*fin=*/true);
         },
         H3Error::kClosedCriticalStream},
        {"a header block referencing a nonexistent dynamic entry",
         [](RawClient& c) {
             c.open_uni(control_stream_with_settings());
             // Required Insert Count 0, Base 0, then an indexed field line with a dynamic
             // (T=0) relative index 0: an entry below Base 0 that cannot exist (RFC 9204
             // §4.5.2).
             Bytes section{0x00, 0x00, 0x80};
             Bytes frame;
             encode_frame_header(frame, to_underlying(h3::FrameType::kHeaders), section.size());
             frame.insert(frame.end(), section.begin(), section.end());
             c.open_bidi(frame);
         },
         H3Error::kQpackDecompressionFailed},
        {"DATA before HEADERS on a request stream",
         [](RawClient& c) {
             Bytes frame;
             encode_frame_header(frame, to_underlying(h3::FrameType::kData), 1);
             frame.push_back('x');
             c.open_bidi(frame);
         },
         H3Error::kFrameUnexpected},
    };
    uint64_t seed = 300;
    for (const Case& k : cases) {
        CAPTURE(k.name);
        INFO("seed " << seed);
        RawSim s(seed++);
        s.raw->on_handshake = k.act;
        auto code = s.run_until_closed();
        REQUIRE(code);
        CHECK(h3_error_name(*code) == h3_error_name(to_underlying(k.expected)));
        // The server's own report is the same local close.
        REQUIRE(s.h.server->conns.size() == 1);
        REQUIRE(!s.h.server->conns[0]->closed.empty());
        CHECK(s.h.server->conns[0]->closed[0].origin == CloseOrigin::kLocal);
        CHECK(s.h.server->conns[0]->closed[0].error.code == to_underlying(k.expected));
    }
}

TEST_CASE("h3 session: unknown and reserved stream types are stopped, not fatal") {
    RawSim s(320);
    INFO("seed 320");
    uint64_t unknown = 0, reserved = 0, request = 0;
    s.raw->on_handshake = [&](RawClient& c) {
        c.open_uni(control_stream_with_settings());
        unknown = c.open_uni(Bytes{0x14, 'a', 'b'});
        reserved = c.open_uni(Bytes{0x21, 'c'});  // 0x1f * 0 + 0x21 (§6.2.3)
        request = c.open_bidi(headers_frame(0, good_request("/res/10")));
    };
    RunResult r = s.h.sim.run_until([&] { return s.raw->fins.count(request) > 0; }, 10s);
    INFO(r.message);
    REQUIRE(r.done());
    CHECK(s.raw->stop_sending[unknown] == to_underlying(H3Error::kStreamCreationError));
    CHECK(s.raw->stop_sending[reserved] == to_underlying(H3Error::kStreamCreationError));
    auto h = response_headers(request, s.raw->data[request]);
    REQUIRE(h);
    CHECK(header(*h, ":status") == "200");
    CHECK(s.raw->closed.empty());
}

TEST_CASE("h3 session: a malformed request is H3_MESSAGE_ERROR on its stream only") {
    RawSim s(321);
    INFO("seed 321");
    uint64_t bad = 0, bad2 = 0, bad3 = 0, good = 0;
    s.raw->on_handshake = [&](RawClient& c) {
        c.open_uni(control_stream_with_settings());
        auto upper = good_request("/res/10");
        upper.push_back({"X-Upper", "1"});  // §4.2: uppercase names are malformed
        bad = c.open_bidi(headers_frame(0, upper));
        auto conn_specific = good_request("/res/10");
        conn_specific.push_back({"connection", "keep-alive"});  // §4.2
        bad2 = c.open_bidi(headers_frame(4, conn_specific));
        // :path missing (§4.3.1).
        bad3 = c.open_bidi(
            headers_frame(8, {{":method", "GET"}, {":scheme", "https"}, {":authority", "server"}}));
        good = c.open_bidi(headers_frame(12, good_request("/res/10")));
    };
    RunResult r = s.h.sim.run_until(
        [&] { return s.raw->fins.count(good) > 0 && s.raw->resets.size() >= 3; }, 10s);
    INFO(r.message);
    REQUIRE(r.done());
    CHECK(s.raw->resets[bad] == to_underlying(H3Error::kMessageError));
    CHECK(s.raw->resets[bad2] == to_underlying(H3Error::kMessageError));
    CHECK(s.raw->resets[bad3] == to_underlying(H3Error::kMessageError));
    CHECK(s.raw->resets.count(good) == 0);
    auto h = response_headers(good, s.raw->data[good]);
    REQUIRE(h);
    CHECK(header(*h, ":status") == "200");
    CHECK(s.raw->closed.empty());
    // The application never saw the malformed requests.
    CHECK(s.h.server->conns[0]->session->stats().requests_received == 1);
}

TEST_CASE("h3 session: Content-Length that disagrees with DATA is H3_MESSAGE_ERROR") {
    RawSim s(322);
    INFO("seed 322");
    uint64_t id = 0;
    s.raw->on_handshake = [&](RawClient& c) {
        c.open_uni(control_stream_with_settings());
        auto h = good_request("/echo");
        h[0].value = "POST";
        h.push_back({"content-length", "10"});
        Bytes b = headers_frame(0, h);
        encode_frame_header(b, to_underlying(h3::FrameType::kData), 4);
        for (char ch : std::string("abcd")) b.push_back(static_cast<uint8_t>(ch));
        id = c.open_bidi(b);
    };
    RunResult r = s.h.sim.run_until([&] { return s.raw->resets.count(id) > 0; }, 10s);
    INFO(r.message);
    REQUIRE(r.done());
    CHECK(s.raw->resets[id] == to_underlying(H3Error::kMessageError));
    CHECK(s.raw->closed.empty());
    // The server application had seen the request, so it heard about the abort.
    REQUIRE(!s.h.server->conns[0]->aborted.empty());
    CHECK(s.h.server->conns[0]->aborted[0].error_code == to_underlying(H3Error::kMessageError));
}

TEST_CASE("h3 session: a decompression bomb is answered with 431, the connection lives on") {
    RawSim s(323);
    INFO("seed 323");
    uint64_t bomb = 0, after = 0;
    s.raw->on_handshake = [&](RawClient& c) {
        c.open_uni(control_stream_with_settings());
        // One 3 KB entry in the server's decoder table (its capacity is 4096 by default)...
        Bytes enc{0x02};
        encode_encoder_instruction(enc, SetDynamicTableCapacity{4096});
        encode_encoder_instruction(enc, InsertWithLiteralName{"x-bomb", std::string(3000, 'b')});
        c.open_uni(enc);
        // ...referenced 1000 times by a 1 KB section: 3 MB decoded against a 64 KiB limit.
        Bytes section;
        encode_field_section_prefix(section, 1, 1, max_entries(4096));
        for (int i = 0; i < 1000; ++i) encode_field_line(section, IndexedFieldLine{false, 0});
        Bytes frame;
        encode_frame_header(frame, to_underlying(h3::FrameType::kHeaders), section.size());
        frame.insert(frame.end(), section.begin(), section.end());
        bomb = c.open_bidi(frame);
        after = c.open_bidi(headers_frame(4, good_request("/res/10")));
    };
    RunResult r = s.h.sim.run_until(
        [&] { return s.raw->fins.count(bomb) > 0 && s.raw->fins.count(after) > 0; }, 10s);
    INFO(r.message);
    REQUIRE(r.done());
    auto h = response_headers(bomb, s.raw->data[bomb]);
    REQUIRE(h);
    CHECK(header(*h, ":status") == "431");
    auto h2 = response_headers(after, s.raw->data[after]);
    REQUIRE(h2);
    CHECK(header(*h2, ":status") == "200");
    CHECK(s.raw->closed.empty());
    CHECK(s.h.server->conns[0]->session->stats().requests_received == 1);
}

TEST_CASE("h3 session: a server-initiated bidirectional stream is H3_STREAM_CREATION_ERROR") {
    H3Sim h(324);
    INFO("seed 324");
    // Replace the server application with a raw one that opens a bidirectional stream.
    std::shared_ptr<Connection> server_conn;
    std::vector<ConnectionClosed> server_closed;
    h.sim.set_on_step(*h.server_endpoint, [&](Time) {
        if (!server_conn) server_conn = h.server_endpoint->accept();
        if (!server_conn) return;
        while (auto ev = server_conn->poll_event()) {
            if (std::holds_alternative<HandshakeCompleted>(*ev)) {
                auto id = server_conn->open_stream(true);
                REQUIRE(id);
                REQUIRE(server_conn->write(*id, Bytes{0x00, 0x00}, false));
            }
            if (auto* c = std::get_if<ConnectionClosed>(&*ev)) server_closed.push_back(*c);
        }
    });
    auto client = h.client();
    RunResult r = h.sim.run_until([&] { return !server_closed.empty(); }, 10s);
    INFO(r.message);
    REQUIRE(r.done());
    CHECK(server_closed[0].origin == CloseOrigin::kPeer);
    CHECK(server_closed[0].error.code == to_underlying(H3Error::kStreamCreationError));
    REQUIRE(!client->closed.empty());
    CHECK(client->closed[0].origin == CloseOrigin::kLocal);
}

TEST_CASE("h3 session: qlog traces carry the HTTP/3 events (frames, settings, stream types)") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("quiver-h3-qlog-" + std::to_string(getpid()));
    fs::remove_all(dir);
    {
        H3Sim h(230, {}, {}, false, dir.string());
        auto client = h.client();
        for (int i = 0; i < 3; ++i) client->queue.push_back({"/res/" + std::to_string(1000 + i)});
        h.sim.wake_at(h.sim.now());
        REQUIRE(h.sim.run_until([&] { return client->completed() == 3; }, 30s).done());
        client->session->close(h.sim.now());
        (void)h.sim.run_for(1s);
    }
    size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        ++files;
        auto traces = qlog::read_file(entry.path());
        REQUIRE(traces.ok());
        REQUIRE(traces->size() == 1);
        std::map<std::string, size_t> count;
        std::set<std::string> types_created, types_parsed, stream_types;
        for (const qlog::Event& e : (*traces)[0].events) {
            if (e.name.rfind("http3:", 0) != 0) continue;
            ++count[e.name];
            if (e.name == "http3:stream_type_set") {
                CHECK(e.data.contains("stream_id"));
                REQUIRE(e.data.contains("stream_type"));
                stream_types.insert(e.data["stream_type"].get<std::string>());
                continue;
            }
            // H3 events draft §4.4, §4.5: stream_id and frame are required.
            REQUIRE(e.data.contains("stream_id"));
            REQUIRE(e.data.contains("frame"));
            const std::string type = e.data["frame"]["frame_type"];
            if (type == "headers") CHECK(e.data["frame"]["headers"].size() >= 1);
            if (type == "settings") CHECK(e.data["frame"]["settings"].size() >= 3);
            (e.name == "http3:frame_created" ? types_created : types_parsed).insert(type);
        }
        CAPTURE(entry.path().filename().string());
        CHECK(stream_types.count("control") == 1);
        CHECK(stream_types.count("qpack_encode") == 1);
        CHECK(stream_types.count("qpack_decode") == 1);
        CHECK(types_created.count("settings") == 1);
        CHECK(types_created.count("headers") == 1);
        CHECK(types_parsed.count("settings") == 1);
        CHECK(types_parsed.count("headers") == 1);
    }
    CHECK(files == 2);
    fs::remove_all(dir);
}

// --- rapid reset (checklist H3 block): requests opened and reset in a loop --------------------

namespace {

// A raw client that, once its handshake is done, opens requests and resets each at once, up to
// `total` of them (as many per step as the server's stream limit allows).
struct RapidResetter {
    RawSim s;
    size_t total;
    size_t reset = 0;

    RapidResetter(uint64_t seed, size_t n) : s(seed), total(n) {
        RawClient* r = s.raw.get();
        s.raw->on_handshake = [](RawClient& c) { c.open_uni(control_stream_with_settings()); };
        s.h.sim.set_on_step(*s.h.client_endpoint, [this, r](Time t) {
            r->step(t);
            if (!r->handshake_done || !r->closed.empty()) return;
            while (reset < total) {
                auto id = r->conn->open_stream(true);
                if (!id) break;
                (void)r->conn->write(*id, headers_frame(*id, good_request("/")), false);
                REQUIRE(r->conn->reset_stream(*id, to_underlying(H3Error::kRequestCancelled)));
                ++reset;
            }
        });
    }
};

}  // namespace

TEST_CASE(
    "h3 session: rapid reset: a client resetting requests in a loop is closed with "
    "H3_EXCESSIVE_LOAD") {
    RapidResetter r(330, 100'000);
    auto code = r.s.run_until_closed();
    REQUIRE(code);
    CHECK(h3_error_name(*code) == h3_error_name(to_underlying(H3Error::kExcessiveLoad)));
    MESSAGE("closed after " << r.reset << " resets");
    CHECK(r.reset < 10 * h3::kMaxRapidResets);
}

TEST_CASE("h3 session: rapid reset: a client cancelling a hundred requests stays connected") {
    RapidResetter r(331, h3::kMaxRapidResets / 2);
    RunResult run = r.s.h.sim.run_for(3s);
    INFO(run.message);
    CHECK(r.reset == h3::kMaxRapidResets / 2);
    CHECK(r.s.raw->closed.empty());
}

TEST_CASE(
    "h3 session: slowloris (checklist 26): requests whose headers come a byte a second, or "
    "stop, are rejected at request_header_timeout; a complete request is answered") {
    RawSim s(326);
    INFO("seed 326");
    constexpr size_t kSlow = 20;
    struct Slow {
        uint64_t id = 0;
        Bytes frame;
        size_t sent = 0;
        bool dribbles = true;  // else: one byte, then nothing
    };
    std::vector<Slow> slow;
    std::optional<Time> opened_at, next_byte;
    s.raw->on_handshake = [&](RawClient& c) {
        c.open_uni(control_stream_with_settings());
        for (size_t i = 0; i <= kSlow; ++i) {
            Slow w;
            w.frame = headers_frame(4 * i, good_request("/res/10"));
            w.id = c.open_bidi(Bytes(w.frame.begin(), w.frame.begin() + 1), false);
            w.sent = 1;
            w.dribbles = i < kSlow;
            slow.push_back(std::move(w));
        }
    };
    std::optional<uint64_t> good;
    RawClient* raw = s.raw.get();
    Simulation& sim = s.h.sim;
    sim.set_on_step(*s.h.client_endpoint, [&, raw](Time t) {
        raw->step(t);
        if (!raw->handshake_done || slow.empty()) return;
        if (!opened_at) opened_at = next_byte = t;
        // One more byte of each dribbling request every second (a 40-byte HEADERS frame takes
        // far longer than the timeout).
        if (t >= *next_byte) {
            for (Slow& w : slow)
                if (w.dribbles && w.sent < w.frame.size() && !raw->stop_sending.count(w.id) &&
                    raw->conn->write(w.id, ByteSpan(w.frame.data() + w.sent, 1), false))
                    ++w.sent;
            *next_byte += 1s;
        }
        sim.wake_at(*next_byte);
        // After the timeout, a well-behaved request on the same connection.
        if (!good && t >= *opened_at + 12s)
            good = raw->open_bidi(headers_frame(4 * (kSlow + 1), good_request("/res/10")));
    });
    RunResult r = sim.run_until([&] { return good && raw->fins.count(*good) > 0; }, 30s);
    INFO(r.message);
    REQUIRE(r.done());
    REQUIRE(slow.size() == kSlow + 1);
    for (const Slow& w : slow) {
        INFO("stream " << w.id);
        CHECK(raw->stop_sending[w.id] == to_underlying(H3Error::kRequestRejected));
        CHECK(w.sent < w.frame.size());  // none of them finished its headers
    }
    auto h = response_headers(*good, raw->data[*good]);
    REQUIRE(h);
    CHECK(header(*h, ":status") == "200");
    CHECK(raw->closed.empty());
    const SessionStats st = s.h.server->conns[0]->session->stats();
    CHECK(st.requests_timed_out == kSlow + 1);
    CHECK(st.requests_received == 1);
    CHECK(s.h.server->conns[0]->session->active_streams() <= 1);
}

TEST_CASE(
    "h3 session: behind one stalled request, 600 quick ones leave the header-deadline queue "
    "bounded (kMinHeaderDeadlineCompaction), and the stalled one is still rejected in time") {
    RawSim s(328);
    INFO("seed 328");
    std::optional<uint64_t> stalled;
    std::vector<uint64_t> quick;
    size_t max_queued = 0;
    s.raw->on_handshake = [&](RawClient& c) {
        c.open_uni(control_stream_with_settings());
        const Bytes frame = headers_frame(0, good_request("/res/10"));
        stalled = c.open_bidi(Bytes(frame.begin(), frame.begin() + 1), false);
    };
    RawClient* raw = s.raw.get();
    H3Sim& h = s.h;
    h.sim.set_on_step(*h.client_endpoint, [&, raw](Time t) {
        raw->step(t);
        if (!raw->handshake_done) return;
        // 20 requests in flight at a time, each answered at once, 600 in all.
        size_t in_flight = 0;
        for (uint64_t id : quick) in_flight += raw->fins.count(id) ? 0 : 1;
        while (in_flight < 20 && quick.size() < 600) {
            quick.push_back(
                raw->open_bidi(headers_frame(4 * (quick.size() + 1), good_request("/res/10"))));
            ++in_flight;
        }
        if (!h.server->conns.empty() && h.server->conns[0]->session)
            max_queued = std::max(max_queued, h3::SessionTestAccess::header_deadlines_queued(
                                                  *h.server->conns[0]->session));
    });
    RunResult r = h.sim.run_until(
        [&] {
            return quick.size() == 600 && raw->fins.count(quick.back()) &&
                   raw->stop_sending.count(*stalled);
        },
        20s);
    INFO(r.message);
    REQUIRE(r.done());
    for (uint64_t id : quick) CHECK(raw->fins.count(id) == 1);
    CHECK(raw->stop_sending[*stalled] == to_underlying(H3Error::kRequestRejected));
    // Without compaction every request's entry would wait behind the stalled one: 601.
    MESSAGE("largest header-deadline queue: " << max_queued);
    CHECK(max_queued <= 2 * h3::kMinHeaderDeadlineCompaction);
    CHECK(h.server->conns[0]->session->stats().requests_timed_out == 1);
}

TEST_CASE("h3 session: request_header_timeout 0 keeps an incomplete request (no limit)") {
    SessionConfig config;
    config.request_header_timeout = Duration::zero();
    H3Sim h(327, config);
    RawClient raw{*h.client_endpoint, h.sim.client_path(*h.client_endpoint)};
    h.sim.set_on_step(*h.client_endpoint, [&](Time t) { raw.step(t); });
    uint64_t id = 0;
    raw.on_handshake = [&](RawClient& c) {
        c.open_uni(control_stream_with_settings());
        const Bytes frame = headers_frame(0, good_request("/res/10"));
        id = c.open_bidi(Bytes(frame.begin(), frame.begin() + 3), false);
    };
    REQUIRE(h.sim.run_until([&] { return raw.handshake_done; }, 5s).done());
    REQUIRE(h.sim.run_for(20s).status != RunResult::Status::kError);
    CHECK(raw.stop_sending.count(id) == 0);
    REQUIRE_FALSE(h.server->conns.empty());
    CHECK(h.server->conns[0]->session->stats().requests_timed_out == 0);
}
