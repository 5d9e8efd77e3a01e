// An echo server, as quic-go's example has: every bidirectional stream a client opens is sent
// back as it arrives. Built against the installed library (find_package(quic)).
//
//   echo_server [ADDR:PORT]        (default 127.0.0.1:4242; prints the port it listens on)
//
// Stops after one connection closes when ECHO_ONCE is set (for the example's test).
#include <quic/quic.h>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    const char* listen = argc > 1 ? argv[1] : "127.0.0.1:4242";
    auto address = quic::SocketAddress::parse(listen);
    if (!address) return std::fprintf(stderr, "bad address %s\n", listen), 2;

    // TLS: a self-signed certificate made in memory, and the ALPN both sides agree on.
    quic::TlsConfig tls;
    tls.is_server = true;
    tls.alpn = {"quic-echo-example"};
    tls.certificate = quic::make_self_signed(quic::KeyType::kEcdsaP256, {"localhost"}).value();
    quic::uv::TransportConfig config;
    config.endpoint.server_tls = quic::TlsContext::create(std::move(tls)).value();

    uv_loop_t* loop = uv_default_loop();
    auto transport = quic::uv::Transport::create(loop, *address, config);
    if (!transport.ok())
        return std::fprintf(stderr, "%s\n", transport.error().to_string().c_str()), 1;
    auto listener = (*transport)->listen().value();
    std::printf("listening on %s\n", (*transport)->local_address().to_string().c_str());
    std::fflush(stdout);

    const bool once = std::getenv("ECHO_ONCE") != nullptr;
    listener->on_connection([&](std::shared_ptr<quic::uv::Connection> connection) {
        connection->on_stream([](std::shared_ptr<quic::uv::Stream> stream) {
            // Whatever can be read is written back; the FIN follows the last byte.
            stream->on_readable([](quic::uv::Stream& s) {
                uint8_t buf[4096];
                for (;;) {
                    bool fin = false;
                    auto n = s.read(buf, &fin);
                    if (!n.ok()) return;
                    if (*n || fin) (void)s.write_all({buf, *n}, fin);
                    if (fin || *n == 0) return;
                }
            });
        });
        connection->on_closed([&](const quic::Error& why) {
            std::printf("connection closed: %s\n", why.to_string().c_str());
            if (once) (*transport)->close(0, "done", [loop] { uv_stop(loop); });
        });
    });
    uv_run(loop, UV_RUN_DEFAULT);
    transport->reset();
    uv_run(loop, UV_RUN_DEFAULT);  // lets libuv release the transport's handles
    return 0;
}
