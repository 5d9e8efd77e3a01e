// The public libuv API (quic/uv/*.h) on loopback, used as an embedder would: only public
// headers. A server and a client Transport on one loop; each test runs the loop until its
// scenario says it is done (or a watchdog stops it and the test fails).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "quic/quic.h"
#include "quic/uv/transport.h"

using namespace quic;
using quic::uv::Transport;

namespace {

constexpr const char* kAlpn = "quiver-test";

Bytes bytes_of(const std::string& s) {
    return Bytes(s.begin(), s.end());
}

std::shared_ptr<TlsContext> tls(bool server) {
    TlsConfig c;
    c.is_server = server;
    c.alpn = {kAlpn};
    c.enable_early_data = true;
    if (server) c.certificate = make_self_signed(KeyType::kEcdsaP256, {"localhost"}).value();
    c.verification = CertificateVerification::kNone;
    return TlsContext::create(std::move(c)).value();
}

// A loop with a server and a client transport, and a watchdog.
struct Fixture {
    uv_loop_t loop;
    std::unique_ptr<Transport> server, client;
    std::shared_ptr<uv::Listener> listener;
    uv_timer_t watchdog;
    bool timed_out = false;

    explicit Fixture(ConnectionConfig server_config = {}, ConnectionConfig client_config = {},
                     std::vector<SocketAddress> server_more_addresses = {}) {
        uv_loop_init(&loop);
        uv::TransportConfig sc;
        sc.endpoint.server_tls = tls(true);
        sc.endpoint.connection = server_config;
        sc.additional_addresses = std::move(server_more_addresses);
        server = Transport::create(&loop, *SocketAddress::parse("127.0.0.1:0"), sc).value();
        listener = server->listen().value();
        uv::TransportConfig cc;
        cc.endpoint.client_tls = tls(false);
        cc.endpoint.connection = client_config;
        cc.sessions = std::make_shared<uv::MemorySessionStore>();
        client = Transport::create(&loop, *SocketAddress::parse("127.0.0.1:0"), cc).value();
        uv_timer_init(&loop, &watchdog);
        watchdog.data = this;
    }
    ~Fixture() {
        server.reset();
        client.reset();
        uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    const SocketAddress& server_address() { return server->local_address(); }
    // Runs until stop() or 10 s.
    void run() {
        uv_timer_start(
            &watchdog,
            [](uv_timer_t* t) {
                static_cast<Fixture*>(t->data)->timed_out = true;
                uv_stop(t->loop);
            },
            10'000, 0);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_timer_stop(&watchdog);
    }
    void stop() { uv_stop(&loop); }
    // Runs `fn` after `ms` milliseconds.
    void after(uint64_t ms, std::function<void()> fn) {
        struct Later {
            uv_timer_t timer;
            std::function<void()> fn;
        };
        auto* l = new Later{{}, std::move(fn)};
        uv_timer_init(&loop, &l->timer);
        l->timer.data = l;
        uv_timer_start(
            &l->timer,
            [](uv_timer_t* t) {
                auto* me = static_cast<Later*>(t->data);
                me->fn();
                uv_close(reinterpret_cast<uv_handle_t*>(t),
                         [](uv_handle_t* h) { delete static_cast<Later*>(h->data); });
            },
            ms, 0);
    }
};

// Reads everything a stream has into `into`; calls `done` at FIN.
void read_all(uv::Stream& s, std::string& into, const std::function<void()>& done) {
    uint8_t buf[4096];
    for (;;) {
        bool fin = false;
        auto n = s.read(buf, &fin);
        if (!n.ok()) return;
        into.append(reinterpret_cast<char*>(buf), *n);
        if (fin) return done();
        if (*n == 0) return;
    }
}

// Every bidirectional stream of `c` is sent back as it arrives (the echo server of examples/).
void echo_streams(const std::shared_ptr<uv::Connection>& c) {
    c->on_stream([](std::shared_ptr<uv::Stream> s) {
        s->on_readable([](uv::Stream& st) {
            uint8_t buf[4096];
            for (;;) {
                bool fin = false;
                auto n = st.read(buf, &fin);
                if (!n.ok()) return;
                if (*n || fin) (void)st.write_all({buf, *n}, fin);
                if (fin || *n == 0) return;
            }
        });
    });
}

void serve_echo(Fixture& f) {
    f.listener->on_connection([](std::shared_ptr<uv::Connection> c) { echo_streams(c); });
}

// A UDP port on 127.0.0.1 nobody uses right now (bound and released).
uint16_t free_udp_port() {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

// Echoes `size` bytes on a new stream of `conn`; `done` runs with what came back.
void echo(uv::Connection& conn, size_t size, std::shared_ptr<std::string> into,
          std::function<void()> done) {
    std::string sent(size, 'x');
    for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>('a' + i % 26);
    auto stream = conn.open_stream().value();
    // The callback gets the stream; capturing it would keep it alive forever (a cycle).
    stream->on_readable([into, done](uv::Stream& st) { read_all(st, *into, done); });
    REQUIRE(stream->write_all(bytes_of(sent), true).ok());
}

}  // namespace

TEST_CASE("uv API: a server's preferred address on a second socket; the client moves there") {
    // RFC 9000 §9.6: the server listens on two sockets and offers the second as its
    // preferred address; the client moves there once the handshake is confirmed, and the
    // echo goes on from that socket.
    const SocketAddress preferred = *SocketAddress::from_ip("127.0.0.1", free_udp_port());
    ConnectionConfig sc;
    sc.preferred_address_ipv4 = preferred;
    Fixture f(sc, {}, {preferred});
    REQUIRE(f.server->local_addresses().size() == 2);
    CHECK(f.server->local_addresses()[1] == preferred);
    serve_echo(f);
    std::shared_ptr<uv::Connection> conn;
    auto echoed = std::make_shared<std::string>();
    std::function<void()> again;  // outlives the loop
    f.client->dial(
        f.server_address(), {"localhost"}, [&](Result<std::shared_ptr<uv::Connection>> c) {
            REQUIRE(c.ok());
            conn = *c;
            // Some data first (the move happens once HANDSHAKE_DONE arrived), then more, until
            // the client is on the new path.
            again = [&] {
                if (conn->stats().path_migrations == 0 && echoed->size() < (8u << 20)) {
                    echo(*conn, 64 * 1024, echoed, [&] { f.after(1, again); });
                    return;
                }
                echo(*conn, 256 * 1024, std::make_shared<std::string>(), [&] { f.stop(); });
            };
            again();
        });
    f.run();
    CHECK_FALSE(f.timed_out);
    REQUIRE(conn);
    CHECK(conn->stats().path_migrations == 1);
    CHECK(conn->details().remote == preferred);
}

TEST_CASE("uv API: Connection::migrate moves a client to a new local port (RFC 9000 §9.2)") {
    Fixture f;
    std::shared_ptr<uv::Connection> server_side;
    f.listener->on_connection([&](std::shared_ptr<uv::Connection> c) {
        server_side = c;
        echo_streams(c);
    });
    std::shared_ptr<uv::Connection> conn;
    SocketAddress new_local;
    auto echoed = std::make_shared<std::string>();
    std::function<void()> wait;  // outlives the loop
    f.client->dial(f.server_address(), {"localhost"},
                   [&](Result<std::shared_ptr<uv::Connection>> c) {
                       REQUIRE(c.ok());
                       conn = *c;
                       // Once the handshake is confirmed (an echo round trip), probe from a new
                       // port, then echo again until the move happened.
                       echo(*conn, 1024, echoed, [&] {
                           auto local = conn->migrate();
                           REQUIRE(local.ok());
                           new_local = *local;
                           wait = [&] {
                               if (conn->stats().path_migrations == 0) return f.after(5, wait);
                               echo(*conn, 256 * 1024, echoed, [&] { f.stop(); });
                           };
                           wait();
                       });
                   });
    f.run();
    CHECK_FALSE(f.timed_out);
    REQUIRE(conn);
    CHECK(f.client->local_addresses().size() == 2);
    CHECK(conn->details().local == new_local);
    CHECK(conn->stats().path_migrations == 1);
    REQUIRE(server_side);
    CHECK(server_side->details().remote.port() == new_local.port());
    CHECK(echoed->size() == 1024 + 256 * 1024);
}

TEST_CASE("uv API: echo over a bidirectional stream, 1 MB") {
    Fixture f;
    serve_echo(f);
    std::string sent(1 << 20, 'x');
    for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>('a' + i % 26);
    std::string echoed;
    std::shared_ptr<uv::Connection> conn;
    std::shared_ptr<uv::Stream> stream;
    f.client->dial(
        f.server_address(), {"localhost"}, [&](Result<std::shared_ptr<uv::Connection>> c) {
            REQUIRE(c.ok());
            conn = *c;
            CHECK(conn->details().info.alpn == kAlpn);
            CHECK(conn->details().handshake_complete);
            stream = conn->open_stream().value();
            stream->on_readable([&](uv::Stream& s) { read_all(s, echoed, [&] { f.stop(); }); });
            REQUIRE(stream->write_all(bytes_of(sent), true).ok());
        });
    f.run();
    CHECK_FALSE(f.timed_out);
    CHECK(echoed == sent);
}

TEST_CASE("uv API: unidirectional streams and datagrams both ways") {
    ConnectionConfig dgram;
    dgram.max_datagram_frame_size = 1200;
    Fixture f(dgram, dgram);
    std::string uni_at_server, datagram_at_client;
    f.listener->on_connection([&](std::shared_ptr<uv::Connection> c) {
        c->on_uni_stream([&, c](std::shared_ptr<uv::Stream> s) {
            CHECK_FALSE(s->can_write());
            s->on_readable([&, c](uv::Stream& st) {
                read_all(st, uni_at_server, [&, c] { (void)c->send_datagram(bytes_of("pong")); });
            });
        });
    });
    std::shared_ptr<uv::Connection> conn;
    f.client->dial(f.server_address(), {}, [&](Result<std::shared_ptr<uv::Connection>> c) {
        REQUIRE(c.ok());
        conn = *c;
        CHECK(conn->details().info.datagrams_supported);
        conn->on_datagram([&](ByteSpan d) {
            datagram_at_client.assign(d.begin(), d.end());
            f.stop();
        });
        auto s = conn->open_uni_stream().value();
        CHECK_FALSE(s->can_read());
        uint8_t buf[4];
        bool fin;
        CHECK(s->read(buf, &fin).error().kind == ErrorKind::kInvalidArgument);
        REQUIRE(s->write_all(bytes_of("ping"), true).ok());
    });
    f.run();
    CHECK(uni_at_server == "ping");
    CHECK(datagram_at_client == "pong");
}

TEST_CASE("uv API: a refused port fails the dial at once with kUnreachable (ICMP)") {
    Fixture f;
    // A port with nothing bound: take one, then close it.
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    auto closed_port = SocketAddress::ipv4({127, 0, 0, 1}, ntohs(a.sin_port));
    std::optional<Error> failure;
    f.client->dial(closed_port, {}, [&](Result<std::shared_ptr<uv::Connection>> c) {
        REQUIRE_FALSE(c.ok());
        failure = c.error();
        f.stop();
    });
    f.run();
    REQUIRE(failure);
    CHECK(failure->kind == ErrorKind::kUnreachable);
    CHECK(failure->to_string().find("refused") != std::string::npos);
}

TEST_CASE(
    "uv API: a dial timeout fails with kDeadlineExceeded; a silent peer, the handshake "
    "timeout with kHandshakeTimeout") {
    ConnectionConfig quick;
    quick.handshake_timeout = std::chrono::milliseconds(300);
    Fixture f({}, quick);
    // A socket that reads nothing: no ICMP, no answer.
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    auto silent = SocketAddress::ipv4({127, 0, 0, 1}, ntohs(a.sin_port));
    std::vector<ErrorKind> kinds;
    uv::DialOptions with_deadline;
    with_deadline.timeout = std::chrono::milliseconds(100);
    auto record = [&](Result<std::shared_ptr<uv::Connection>> c) {
        REQUIRE_FALSE(c.ok());
        kinds.push_back(c.error().kind);
        if (kinds.size() == 2) f.stop();
    };
    f.client->dial(silent, with_deadline, record);
    f.client->dial(silent, {}, record);
    f.run();
    ::close(fd);
    REQUIRE(kinds.size() == 2);
    CHECK(kinds[0] == ErrorKind::kDeadlineExceeded);
    CHECK(kinds[1] == ErrorKind::kHandshakeTimeout);
}

TEST_CASE("uv API: read deadline, peer reset and STOP_SENDING carry kinds and codes") {
    Fixture f;
    std::optional<Error> deadline_error, reset_error, stop_error;
    // Server: the first stream is reset by it with 0x42; the second is stopped with 0x43.
    f.listener->on_connection([&](std::shared_ptr<uv::Connection> c) {
        c->on_stream([&](std::shared_ptr<uv::Stream> s) {
            if (s->id() == 0) s->cancel_write(0x42);
            if (s->id() == 4) s->cancel_read(0x43);
        });
    });
    std::shared_ptr<uv::Connection> conn;
    std::shared_ptr<uv::Stream> a, b, c3;
    f.client->dial(f.server_address(), {}, [&](Result<std::shared_ptr<uv::Connection>> c) {
        conn = c.value();
        a = conn->open_stream().value();
        b = conn->open_stream().value();
        c3 = conn->open_stream().value();
        (void)a->write(bytes_of("a"));
        (void)b->write(bytes_of("b"));
        a->on_readable([&](uv::Stream& s) {
            uint8_t buf[8];
            bool fin;
            auto n = s.read(buf, &fin);
            if (!n.ok()) reset_error = n.error();
        });
        b->on_writable([&](uv::Stream& s) {
            auto n = s.write(bytes_of("more"));
            if (!n.ok()) stop_error = n.error();
        });
        // Nothing ever arrives on the third: its read deadline passes.
        c3->set_read_deadline(uv::clock_now() + std::chrono::milliseconds(50));
        c3->on_readable([&](uv::Stream& s) {
            uint8_t buf[8];
            bool fin;
            auto n = s.read(buf, &fin);
            if (!n.ok()) deadline_error = n.error();
        });
    });
    f.after(500, [&] { f.stop(); });
    f.run();
    REQUIRE(reset_error);
    CHECK(reset_error->kind == ErrorKind::kStreamReset);
    CHECK(reset_error->code == 0x42);
    CHECK(reset_error->remote);
    REQUIRE(stop_error);
    CHECK(stop_error->kind == ErrorKind::kStreamStopped);
    CHECK(stop_error->code == 0x43);
    REQUIRE(deadline_error);
    CHECK(deadline_error->kind == ErrorKind::kDeadlineExceeded);
    CHECK(deadline_error->is_timeout());
}

TEST_CASE("uv API: open_stream_when_allowed waits for MAX_STREAMS") {
    ConnectionConfig one_stream;
    one_stream.max_incoming_streams = 1;
    Fixture f(one_stream, {});
    serve_echo(f);
    std::string first, second;
    std::shared_ptr<uv::Connection> conn;
    std::shared_ptr<uv::Stream> s1, s2;
    f.client->dial(f.server_address(), {}, [&](Result<std::shared_ptr<uv::Connection>> c) {
        conn = c.value();
        s1 = conn->open_stream().value();
        CHECK(conn->open_stream().error().kind == ErrorKind::kWouldBlock);
        conn->open_stream_when_allowed([&](Result<std::shared_ptr<uv::Stream>> s) {
            REQUIRE(s.ok());
            CHECK(!first.empty());  // only after the first stream was done
            s2 = *s;
            s2->on_readable([&](uv::Stream& st) { read_all(st, second, [&] { f.stop(); }); });
            REQUIRE(s2->write_all(bytes_of("two"), true).ok());
        });
        s1->on_readable([&](uv::Stream& st) { read_all(st, first, [] {}); });
        REQUIRE(s1->write_all(bytes_of("one"), true).ok());
    });
    f.run();
    CHECK_FALSE(f.timed_out);
    CHECK(first == "one");
    CHECK(second == "two");
}

TEST_CASE("uv API: close with an application code reaches the peer; the second dial resumes") {
    Fixture f;
    std::optional<Error> server_saw;
    int accepted = 0;
    f.listener->on_connection([&](std::shared_ptr<uv::Connection> c) {
        // The server's handshake completes after the client's: stop at the second accept.
        if (++accepted == 2) f.stop();
        c->on_closed([&](const Error& e) { server_saw = e; });
    });
    std::shared_ptr<uv::Connection> first, second;
    f.client->dial(
        f.server_address(), {"localhost"}, [&](Result<std::shared_ptr<uv::Connection>> c) {
            first = c.value();
            CHECK_FALSE(first->details().info.resumed);
            // Wait for the ticket, then close and dial again.
            f.after(100, [&] {
                first->close(0x77, "bye");
                f.client->dial(
                    f.server_address(), {"localhost"},
                    [&](Result<std::shared_ptr<uv::Connection>> c2) { second = c2.value(); });
            });
        });
    f.run();
    REQUIRE(second);
    CHECK(second->details().info.resumed);
    CHECK(accepted == 2);
    REQUIRE(server_saw);
    CHECK(server_saw->kind == ErrorKind::kProtocol);
    CHECK(server_saw->space == ErrorSpace::kApplication);
    CHECK(server_saw->code == 0x77);
    CHECK(server_saw->remote);
}

// The transport dispatches only the connections something happened to (docs/architecture.md,
// "Dispatch"): with 40 connections open and idle, a stream on one of them is still delivered
// (both ends), one closed by the application is forgotten on both ends while the others stay,
// and a take_events handler on another runs when the peer sends to it.
TEST_CASE(
    "uv API: among 40 idle connections, activity on one is delivered and a closed one "
    "is forgotten") {
    constexpr size_t kConnections = 40;
    Fixture f;
    std::vector<std::shared_ptr<uv::Connection>> accepted, clients;
    f.listener->on_connection([&](std::shared_ptr<uv::Connection> c) {
        accepted.push_back(c);
        echo_streams(c);
    });
    // The clients share one socket: the original DCID tells the ends of a connection apart.
    auto peer_of = [&](uv::Connection& client) {
        for (const auto& s : accepted)
            if (s->core().original_dcid() == client.core().original_dcid()) return s;
        return std::shared_ptr<uv::Connection>();
    };
    auto echoed = std::make_shared<std::string>();
    std::string manual_saw;
    bool closed_forgotten = false;
    std::function<void()> wait_for_forget;
    // 3: the server writes on a uni stream to client 31, whose events a handler takes.
    auto manual_step = [&] {
        uv::Connection* target = clients[31].get();  // not held by its own handler
        target->take_events([&, target](Time) {
            while (auto ev = target->core().poll_event()) {
                if (auto* r = std::get_if<StreamReadable>(&*ev)) {
                    uint8_t buf[64];
                    bool fin = false;
                    auto n = target->core().read(r->stream_id, buf, &fin);
                    if (n.ok()) manual_saw.append(reinterpret_cast<char*>(buf), *n);
                    if (fin) f.stop();
                }
            }
        });
        auto s = peer_of(*target)->open_uni_stream().value();
        REQUIRE(s->write_all(bytes_of("to 31"), true).ok());
    };
    // 2: client 7 closes; both transports forget it (polled, from outside any callback).
    wait_for_forget = [&] {
        if (f.client->connection_count() == kConnections - 1 &&
            f.server->connection_count() == kConnections - 1) {
            closed_forgotten = true;
            return manual_step();
        }
        f.after(20, wait_for_forget);
    };
    // 1: once all are up, an echo on client 23.
    auto echo_step = [&] {
        echo(*clients[23], 3000, echoed, [&] {
            f.after(1, [&] {
                clients[7]->close(0, "done");
                wait_for_forget();
            });
        });
    };
    for (size_t i = 0; i < kConnections; ++i)
        f.client->dial(f.server_address(), {"localhost"},
                       [&](Result<std::shared_ptr<uv::Connection>> c) {
                           REQUIRE(c.ok());
                           clients.push_back(*c);
                           if (clients.size() == kConnections) f.after(50, echo_step);
                       });
    f.run();
    CHECK_FALSE(f.timed_out);
    REQUIRE(clients.size() == kConnections);
    CHECK(echoed->size() == 3000);
    CHECK(closed_forgotten);
    CHECK(manual_saw == "to 31");
    for (size_t i = 0; i < kConnections; ++i) {
        INFO("connection " << i);
        CHECK(clients[i]->is_closed() == (i == 7));
    }
    CHECK(accepted.size() == kConnections);
}
