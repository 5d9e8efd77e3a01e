// quiver server: serves a directory over HTTP/3 and hq-interop (INTEROP.md) on one UDP
// socket, dual-stack by default; each connection gets the protocol its ALPN chose. SIGINT/SIGTERM
// close every connection with an application CONNECTION_CLOSE (code 0, "server shutting down")
// before exiting 0.
#include <limits.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "conn_log.h"
#include "h3_serve.h"
#include "hq_interop.h"
#include "hq_serve.h"
#include "keylog.h"
#include "log.h"
#include "qlog_option.h"
#include "quic/http3/error.h"
#include "quic/uv/transport.h"
#include "server_certificate.h"
#include "transport_options.h"
#include "uv_handles.h"

namespace quiver {
namespace {

struct ServerOptions {
    QlogOptions qlog;
    std::string listen = "[::]:4433";
    std::string root = ".";
    std::string upload_dir;
    std::string cert, key, keylog;
    bool retry = false, zero_rtt = false, verbose = false;
    TransportOptions transport;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "quiver server: %s\n", message.c_str());
    return 1;
}

int run_server(const ServerOptions& o) {
    auto listen = quic::SocketAddress::parse(o.listen);
    if (!listen) return fail("bad --listen address " + o.listen + " (want ADDR:PORT, [::]:4433)");
    char root[PATH_MAX];
    if (!realpath(o.root.c_str(), root))
        return fail("cannot serve " + o.root + ": no such directory");
    std::string upload_dir;
    if (!o.upload_dir.empty()) {
        char real[PATH_MAX];
        if (!realpath(o.upload_dir.c_str(), real))
            return fail("cannot upload to " + o.upload_dir + ": no such directory");
        upload_dir = real;
    }
    if (o.cert.empty() != o.key.empty()) return fail("--cert and --key go together");
    raise_fd_limit();

    auto ck = server_certificate(o.cert, o.key, "quiver server");
    if (!ck.ok()) return fail(ck.error().to_string());
    std::string error;
    quic::TlsConfig tls;
    tls.is_server = true;
    tls.alpn = {kH3Alpn, kHqAlpn};
    tls.certificate = std::move(ck).value();
    tls.enable_early_data = o.zero_rtt;
    tls.keylog = open_keylog(o.keylog, error);
    if (!error.empty()) return fail(error);
    auto tls_context = quic::TlsContext::create(std::move(tls));
    if (!tls_context.ok()) return fail(tls_context.error().to_string());

    quic::uv::TransportConfig config;
    config.endpoint.server_tls = std::move(tls_context).value();
    config.endpoint.require_retry = o.retry;
    config.endpoint.connection.enable_0rtt = o.zero_rtt;
    apply_transport_options(o.transport, config.endpoint.connection);
    if (std::string e = apply_qlog_options(o.qlog, config.endpoint); !e.empty()) return fail(e);

    Loop loop;
    auto created = quic::uv::Transport::create(loop.get(), *listen, std::move(config));
    if (!created.ok()) return fail(created.error().to_string());
    quic::uv::Transport& transport = **created;
    std::fprintf(stderr, "quiver server: listening on %s (GSO %s, GRO %s), serving %s\n",
                 transport.local_address().to_string().c_str(),
                 transport.gso_enabled() ? "on" : "off", transport.gro_enabled() ? "on" : "off",
                 root);
    std::FILE* log = o.verbose ? stderr : nullptr;
    transport.on_error([](const quic::Error& e) {
        std::fprintf(stderr, "quiver server: %s\n", e.to_string().c_str());
    });

    // Each connection gets the protocol its ALPN chose (known once the handshake completed).
    quic::h3::Server h3(file_handler(root, upload_dir, Log(log, "quiver server: ")));
    h3.on_connection_closed([log](quic::uv::Connection& c, const quic::h3::SessionStats& q,
                                  const quic::Error& why) {
        Log l(log, "quiver server: " + c.details().remote.to_string() + ": ");
        l("%s; %s", describe(why).c_str(), describe(c.stats()).c_str());
        l("QPACK: encoded %llu sections (%llu with the dynamic table, %llu inserts), decoded %llu "
          "(%llu with the dynamic table, %llu blocked)",
          (unsigned long long)q.sections_encoded, (unsigned long long)q.sections_encoded_dynamic,
          (unsigned long long)q.encoder_insert_count, (unsigned long long)q.sections_decoded,
          (unsigned long long)q.sections_decoded_dynamic, (unsigned long long)q.sections_blocked);
    });
    auto listener = transport.listen();
    if (!listener.ok()) return fail(listener.error().to_string());
    (*listener)->on_connection([&](std::shared_ptr<quic::uv::Connection> c) {
        const quic::uv::ConnectionDetails d = c->details();
        Log l(log, "quiver server: " + d.remote.to_string() + ": ");
        l("new connection (%s)", d.info.alpn.c_str());
        l("%s", describe(d.info).c_str());
        if (d.info.alpn == kH3Alpn) return h3.serve(c);
        if (d.info.alpn == kHqAlpn) {
            c->on_closed([l, c](const quic::Error& why) {
                l("%s; %s", describe(why).c_str(), describe(c->stats()).c_str());
            });
            return serve_hq(c, root, l);
        }
        c->close(0, "no application protocol for ALPN " + d.info.alpn);
    });

    // SIGINT/SIGTERM through libuv (no global state): close every connection, stop once the
    // kernel has every CONNECTION_CLOSE.
    bool shutting_down = false;
    std::function<void()> shut_down = [&] {
        if (shutting_down) return;
        shutting_down = true;
        if (log) std::fprintf(log, "quiver server: shutting down\n");
        h3.close(quic::h3::to_underlying(quic::h3::H3Error::kNoError), "server shutting down");
        transport.close(0, "server shutting down", [&] { uv_stop(loop.get()); });
    };
    auto* sigint = new_handle<uv_signal_t>();
    auto* sigterm = new_handle<uv_signal_t>();
    for (auto [h, signum] : {std::pair{sigint, SIGINT}, std::pair{sigterm, SIGTERM}}) {
        uv_signal_init(loop.get(), h);
        h->data = &shut_down;
        uv_signal_start(h, run_data<uv_signal_t, int>, signum);
    }

    uv_run(loop.get(), UV_RUN_DEFAULT);

    if (log) {
        std::fprintf(log, "quiver server: %s\n", describe(transport.socket_stats()).c_str());
        const auto& e = transport.endpoint().stats();
        std::fprintf(
            log,
            "quiver server: endpoint: %llu datagrams received, %llu dropped, %llu version "
            "negotiations, %llu retries, %llu stateless resets, %llu refused\n",
            (unsigned long long)e.datagrams_received, (unsigned long long)e.datagrams_dropped,
            (unsigned long long)e.version_negotiations_sent, (unsigned long long)e.retries_sent,
            (unsigned long long)e.stateless_resets_sent, (unsigned long long)e.connections_refused);
    }
    close_handle(sigint);
    close_handle(sigterm);
    return 0;
}

}  // namespace

Command register_server(CLI::App& app) {
    auto o = std::make_shared<ServerOptions>();
    CLI::App* sub =
        app.add_subcommand("server", "Serve a directory over HTTP/3 and hq-interop (by ALPN)");
    sub->footer(
        "ALPN h3: GET/HEAD serve files (a directory: index.html or a listing), POST/PUT take a\n"
        "body (stored under --upload-dir), other methods get 405; a path leaving --root gets 403,\n"
        "a missing file 404. /.well-known/quiver/echo answers with the request's header fields.\n"
        "ALPN hq-interop: a missing file resets its stream with 0x10, a path leaving --root with\n"
        "0x11, a malformed request with 0x12.\n"
        "Exit codes: 0 after SIGINT/SIGTERM, 1 failure, 2 usage error.");
    sub->add_option("--listen", o->listen,
                    "ADDR:PORT to listen on (default [::]:4433, dual-stack)");
    sub->add_option("--root", o->root, "Directory to serve (default .)")
        ->check(CLI::ExistingDirectory);
    sub->add_option("--upload-dir", o->upload_dir,
                    "HTTP/3 POST/PUT bodies are stored under DIR at the request path (default: "
                    "counted and dropped)")
        ->check(CLI::ExistingDirectory);
    sub->add_option("--cert", o->cert, "Certificate chain (PEM); default: self-signed, in memory")
        ->check(CLI::ExistingFile);
    sub->add_option("--key", o->key, "Private key (PEM) for --cert")->check(CLI::ExistingFile);
    sub->add_flag("--retry", o->retry, "Answer every new client with a Retry (address validation)");
    sub->add_flag("--0rtt", o->zero_rtt, "Accept 0-RTT data on resumed connections");
    add_transport_options(sub, o->transport);
    sub->add_option("--keylog", o->keylog, "Append TLS secrets to FILE (default: $SSLKEYLOGFILE)");
    sub->add_flag("-v,--verbose", o->verbose, "Connection events on stderr");
    add_qlog_options(sub, o->qlog);
    return Command{sub, [o] { return run_server(*o); }};
}

}  // namespace quiver
