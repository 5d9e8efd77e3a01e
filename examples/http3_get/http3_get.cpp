// A minimal HTTP/3 GET (RFC 9114): the status on stderr, the body on stdout.
//
//   http3_get https://HOST[:PORT]/PATH     (HOST: an IP address here; -k is implied: the
//                                           certificate is not verified)
#include <quic/http3/client.h>
#include <quic/quic.h>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) return std::fprintf(stderr, "usage: http3_get https://HOST:PORT/PATH\n"), 2;
    // A tiny URL split: https://HOST:PORT/PATH, HOST an IPv4 address or [IPv6].
    std::string url = argv[1];
    if (url.rfind("https://", 0) != 0) return std::fprintf(stderr, "not an https URL\n"), 2;
    const std::string rest = url.substr(8);
    const size_t slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    auto server = quic::SocketAddress::parse(
        authority.find(':') == std::string::npos ? authority + ":443" : authority);
    if (!server) return std::fprintf(stderr, "cannot parse %s\n", authority.c_str()), 2;

    quic::TlsConfig tls;
    tls.alpn = {"h3"};
    tls.verification = quic::CertificateVerification::kNone;
    quic::uv::TransportConfig config;
    config.endpoint.client_tls = quic::TlsContext::create(std::move(tls)).value();
    uv_loop_t* loop = uv_default_loop();
    auto transport =
        quic::uv::Transport::create(loop, *quic::SocketAddress::parse("[::]:0"), config).value();

    int status = 1;
    std::shared_ptr<quic::h3::Client> client;
    auto done = [&] { transport->close(0, "", [&] { uv_stop(loop); }); };
    transport->dial(*server, {}, [&](quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
        if (!c.ok()) {
            std::fprintf(stderr, "cannot connect: %s\n", c.error().to_string().c_str());
            return done();
        }
        client = quic::h3::Client::create(*c);
        quic::h3::Request request;
        request.authority = authority;
        request.path = path;
        auto exchange = client->request(request).value();
        exchange->on_response([](quic::h3::ClientStream&, const quic::h3::Response& r) {
            std::fprintf(stderr, "HTTP/3 %u\n", r.status);
        });
        exchange->on_body([](quic::h3::ClientStream& s) {
            uint8_t buf[16384];
            for (;;) {
                bool fin = false;
                auto n = s.read_body(buf, &fin);
                if (!n.ok() || *n == 0) return;
                std::fwrite(buf, 1, *n, stdout);
            }
        });
        exchange->on_complete([&](quic::h3::ClientStream&, const quic::Error* error) {
            if (error) std::fprintf(stderr, "failed: %s\n", error->to_string().c_str());
            status = error ? 1 : 0;
            done();
        });
    });
    uv_run(loop, UV_RUN_DEFAULT);
    client.reset();
    transport.reset();
    uv_run(loop, UV_RUN_DEFAULT);
    return status;
}
