// The echo client: opens a stream, sends a message, reads it back, checks it and closes.
//
//   echo_client ADDR:PORT [MESSAGE]
//
// Exit 0 when the echo matched. It does not verify the server's certificate (the example
// server's is self-signed): real clients use CertificateVerification::kSystem or kCaFile.
#include <quic/quic.h>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc < 2) return std::fprintf(stderr, "usage: echo_client ADDR:PORT [MESSAGE]\n"), 2;
    auto server = quic::SocketAddress::parse(argv[1]);
    if (!server) return std::fprintf(stderr, "bad address %s\n", argv[1]), 2;
    const std::string message = argc > 2 ? argv[2] : "hello, QUIC";

    quic::TlsConfig tls;
    tls.alpn = {"quic-echo-example"};
    tls.verification = quic::CertificateVerification::kNone;
    quic::uv::TransportConfig config;
    config.endpoint.client_tls = quic::TlsContext::create(std::move(tls)).value();

    uv_loop_t* loop = uv_default_loop();
    auto transport =
        quic::uv::Transport::create(loop, *quic::SocketAddress::parse("0.0.0.0:0"), config).value();
    std::string echoed;
    int status = 1;
    std::shared_ptr<quic::uv::Connection> connection;
    quic::uv::DialOptions options;
    options.server_name = "localhost";
    options.timeout = std::chrono::seconds(5);
    transport->dial(*server, options, [&](quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
        if (!c.ok()) {
            std::fprintf(stderr, "cannot connect: %s\n", c.error().to_string().c_str());
            return uv_stop(loop);
        }
        connection = *c;
        auto stream = connection->open_stream().value();
        stream->on_readable([&](quic::uv::Stream& s) {
            uint8_t buf[4096];
            for (;;) {
                bool fin = false;
                auto n = s.read(buf, &fin);
                if (!n.ok()) return uv_stop(loop);
                echoed.append(reinterpret_cast<char*>(buf), *n);
                if (fin) {
                    status = echoed == message ? 0 : 1;
                    std::printf("echoed: %s\n", echoed.c_str());
                    return transport->close(0, "bye", [&] { uv_stop(loop); });
                }
                if (*n == 0) return;
            }
        });
        (void)stream->write_all({reinterpret_cast<const uint8_t*>(message.data()), message.size()},
                                true);
    });
    uv_run(loop, UV_RUN_DEFAULT);
    transport.reset();
    uv_run(loop, UV_RUN_DEFAULT);
    return status;
}
