// Datagrams (RFC 9221): one program, two roles. The server answers every datagram with the
// same bytes; the client sends COUNT pings, one after each pong, and prints the round trips.
//
//   datagram_ping server ADDR:PORT
//   datagram_ping client ADDR:PORT [COUNT]
#include <quic/quic.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr const char* kAlpn = "quic-datagram-example";

quic::uv::TransportConfig config(bool server) {
    quic::TlsConfig tls;
    tls.is_server = server;
    tls.alpn = {kAlpn};
    if (server)
        tls.certificate = quic::make_self_signed(quic::KeyType::kEcdsaP256, {"localhost"}).value();
    tls.verification = quic::CertificateVerification::kNone;
    quic::uv::TransportConfig c;
    (server ? c.endpoint.server_tls : c.endpoint.client_tls) =
        quic::TlsContext::create(std::move(tls)).value();
    c.endpoint.connection.max_datagram_frame_size = 1200;  // both sides must allow datagrams
    return c;
}

int serve(uv_loop_t* loop, const quic::SocketAddress& address) {
    auto transport = quic::uv::Transport::create(loop, address, config(true)).value();
    auto listener = transport->listen().value();
    std::printf("listening on %s\n", transport->local_address().to_string().c_str());
    std::fflush(stdout);
    listener->on_connection([&](std::shared_ptr<quic::uv::Connection> c) {
        quic::uv::Connection* raw = c.get();
        c->on_datagram([raw](quic::ByteSpan d) { (void)raw->send_datagram(d); });
        c->on_closed([&](const quic::Error&) {
            transport->close(0, "", [loop] { uv_stop(loop); });  // one client, then exit
        });
    });
    uv_run(loop, UV_RUN_DEFAULT);
    transport.reset();
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}

int ping(uv_loop_t* loop, const quic::SocketAddress& server, int count) {
    auto transport =
        quic::uv::Transport::create(loop, *quic::SocketAddress::parse("0.0.0.0:0"), config(false))
            .value();
    int received = 0;
    quic::Time sent{};
    std::shared_ptr<quic::uv::Connection> conn;
    auto send_next = [&] {
        const std::string payload = "ping " + std::to_string(received);
        sent = quic::uv::clock_now();
        (void)conn->send_datagram(
            {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()});
    };
    transport->dial(server, {}, [&](quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
        if (!c.ok()) {
            std::fprintf(stderr, "cannot connect: %s\n", c.error().to_string().c_str());
            return uv_stop(loop);
        }
        conn = *c;
        conn->on_datagram([&](quic::ByteSpan d) {
            const double us =
                std::chrono::duration<double, std::micro>(quic::uv::clock_now() - sent).count();
            std::printf("%.*s: %.0f us\n", static_cast<int>(d.size()),
                        reinterpret_cast<const char*>(d.data()), us);
            if (++received == count) return transport->close(0, "", [loop] { uv_stop(loop); });
            send_next();
        });
        send_next();
    });
    uv_run(loop, UV_RUN_DEFAULT);
    transport.reset();
    uv_run(loop, UV_RUN_DEFAULT);
    return received == count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3)
        return std::fprintf(stderr, "usage: datagram_ping server|client ADDR:PORT [COUNT]\n"), 2;
    auto address = quic::SocketAddress::parse(argv[2]);
    if (!address) return std::fprintf(stderr, "bad address %s\n", argv[2]), 2;
    uv_loop_t* loop = uv_default_loop();
    if (std::strcmp(argv[1], "server") == 0) return serve(loop, *address);
    return ping(loop, *address, argc > 3 ? std::atoi(argv[3]) : 5);
}
