// The public HTTP/3 API (quic/http3/client.h, server.h) on loopback, public headers only: a
// handler answers GETs and echoes POST bodies; the client checks statuses, fields and bodies.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "quic/http3/client.h"
#include "quic/http3/server.h"
#include "quic/quic.h"

using namespace quic;

namespace {

std::shared_ptr<TlsContext> tls(bool server) {
    TlsConfig c;
    c.is_server = server;
    c.alpn = {"h3"};
    if (server) c.certificate = make_self_signed(KeyType::kEcdsaP256, {"localhost"}).value();
    c.verification = CertificateVerification::kNone;
    return TlsContext::create(std::move(c)).value();
}

// The handler: GET /hello -> "hello"; POST -> the body back, with its length in a field;
// anything else -> 404.
void handle(std::shared_ptr<h3::ServerStream> s) {
    if (s->method() == "GET" && s->path() == "/hello") {
        (void)s->respond(200, {{"content-type", "text/plain"}});
        const std::string body = "hello";
        (void)s->write_body({reinterpret_cast<const uint8_t*>(body.data()), body.size()}, true);
        return;
    }
    if (s->method() == "POST") {
        auto received = std::make_shared<std::string>();
        s->on_body([received](h3::ServerStream& st) {
            uint8_t buf[4096];
            for (;;) {
                bool fin = false;
                auto n = st.read_body(buf, &fin);
                if (!n.ok()) return;
                received->append(reinterpret_cast<char*>(buf), *n);
                if (fin) {
                    CHECK(st.respond(200, {{"x-received", std::to_string(received->size())}}).ok());
                    // Send it back as flow control allows: each call takes what fits.
                    auto sent = std::make_shared<size_t>(0);
                    auto pump = [received, sent](h3::ServerStream& out) {
                        while (*sent < received->size()) {
                            auto w = out.write_body(
                                {reinterpret_cast<const uint8_t*>(received->data()) + *sent,
                                 received->size() - *sent},
                                true);
                            if (!w.ok() || *w == 0) return;
                            *sent += *w;
                        }
                    };
                    st.on_writable(pump);
                    pump(st);
                    return;
                }
                if (*n == 0) return;
            }
        });
        return;
    }
    (void)s->respond(404, {}, true);
}

struct Exchange {
    unsigned status = 0;
    std::string body, received_field;
    bool complete = false;
    std::optional<Error> error;
};

void track(std::shared_ptr<h3::ClientStream> s, Exchange& x, int& remaining, uv_loop_t* loop) {
    s->on_response([&x](h3::ClientStream&, const h3::Response& r) {
        x.status = r.status;
        for (const auto& f : r.fields)
            if (f.name == "x-received") x.received_field = f.value;
    });
    s->on_body([&x](h3::ClientStream& st) {
        uint8_t buf[4096];
        for (;;) {
            bool fin = false;
            auto n = st.read_body(buf, &fin);
            if (!n.ok() || (*n == 0 && !fin)) return;
            x.body.append(reinterpret_cast<char*>(buf), *n);
            if (fin) return;
        }
    });
    s->on_complete([&x, &remaining, loop](h3::ClientStream&, const Error* e) {
        x.complete = !e;
        if (e) x.error = *e;
        if (--remaining == 0) uv_stop(loop);
    });
}

// `early`: the server takes connections before their handshake completes (0-RTT ready).
void exchange(bool early) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv::TransportConfig sc;
    sc.endpoint.server_tls = tls(true);
    auto server = uv::Transport::create(&loop, *SocketAddress::parse("127.0.0.1:0"), sc).value();
    auto listener = server->listen().value();
    auto h3server = std::make_unique<h3::Server>(handle);
    listener->on_connection([&](std::shared_ptr<uv::Connection> c) { h3server->serve(c); }, early);
    uv::TransportConfig cc;
    cc.endpoint.client_tls = tls(false);
    auto client = uv::Transport::create(&loop, *SocketAddress::parse("127.0.0.1:0"), cc).value();

    Exchange get, post, missing;
    int remaining = 3;
    std::shared_ptr<h3::Client> h3client;
    std::string upload(200 * 1000, 'u');
    std::shared_ptr<h3::ClientStream> post_stream;
    size_t upload_offset = 0;
    client->dial(
        server->local_address(), {"localhost"}, [&](Result<std::shared_ptr<uv::Connection>> c) {
            REQUIRE(c.ok());
            h3client = h3::Client::create(*c);
            track(h3client->request({"GET", "https", "localhost", "/hello", {}}).value(), get,
                  remaining, &loop);
            track(h3client->request({"GET", "https", "localhost", "/nope", {}}).value(), missing,
                  remaining, &loop);
            post_stream =
                h3client->request({"POST", "https", "localhost", "/echo", {}}, false).value();
            track(post_stream, post, remaining, &loop);
            auto pump = [&](h3::ClientStream& s) {
                while (upload_offset < upload.size()) {
                    auto n = s.write_body(
                        {reinterpret_cast<const uint8_t*>(upload.data()) + upload_offset,
                         upload.size() - upload_offset},
                        true);
                    REQUIRE(n.ok());
                    if (*n == 0) return;
                    upload_offset += *n;
                }
            };
            post_stream->on_writable(pump);
            pump(*post_stream);
        });
    uv_timer_t watchdog;
    uv_timer_init(&loop, &watchdog);
    uv_timer_start(
        &watchdog, [](uv_timer_t* t) { uv_stop(t->loop); }, 10'000, 0);
    uv_run(&loop, UV_RUN_DEFAULT);

    CHECK(get.complete);
    CHECK(get.status == 200);
    CHECK(get.body == "hello");
    CHECK(missing.complete);
    CHECK(missing.status == 404);
    if (post.error) MESSAGE(post.error->to_string());
    CHECK(post.complete);
    CHECK(post.status == 200);
    CHECK(post.received_field == std::to_string(upload.size()));
    CHECK(post.body.size() == upload.size());
    CHECK((post.body == upload));  // parenthesised: doctest does not print 200 KB

    h3client.reset();
    post_stream.reset();
    client.reset();
    h3server.reset();
    server.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    // Every handle the API opened is closed once its objects are gone (UV_EBUSY otherwise).
    CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace

TEST_CASE("HTTP/3 API: GET, POST with a 200 KB body, and a 404 on one connection") {
    exchange(false);
}

TEST_CASE("HTTP/3 API: the same with connections taken before their handshake completes") {
    exchange(true);
}
