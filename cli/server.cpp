// quiver server: serves a directory over HTTP/3 and hq-interop (interop/README.md) on one UDP
// socket, dual-stack by default; each connection gets the protocol its ALPN chose. SIGINT/SIGTERM
// close every connection with an application CONNECTION_CLOSE (code 0, "server shutting down")
// before exiting 0.
#include <limits.h>

#include <algorithm>
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
#include "quic/random.h"
#include "quic/uv/transport.h"
#include "server_certificate.h"
#include "server_workers.h"
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
    std::string retry = "auto";
    bool zero_rtt = false, verbose = false;
    unsigned workers = 1;
    TransportOptions transport;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "quiver server: %s\n", message.c_str());
    return 1;
}

// The transport's configuration: TLS (h3 and hq-interop by ALPN), address validation, 0-RTT,
// the transport and qlog options.
quic::Result<quic::uv::TransportConfig> server_config(const ServerOptions& o, QlogSession& qlog) {
    auto ck = server_certificate(o.cert, o.key, "quiver server");
    if (!ck.ok()) return ck.error();
    std::string error;
    quic::TlsConfig tls;
    tls.is_server = true;
    tls.alpn = {kH3Alpn, kHqAlpn};
    tls.certificate = std::move(ck).value();
    tls.enable_early_data = o.zero_rtt;
    tls.keylog = open_keylog(o.keylog, error);
    if (!error.empty()) return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument, error);
    auto tls_context = quic::TlsContext::create(std::move(tls));
    if (!tls_context.ok()) return tls_context.error();
    quic::uv::TransportConfig config;
    config.endpoint.server_tls = std::move(tls_context).value();
    config.endpoint.retry = o.retry == "always"  ? quic::RetryPolicy::kAlways
                            : o.retry == "never" ? quic::RetryPolicy::kNever
                                                 : quic::RetryPolicy::kAutomatic;
    config.endpoint.connection.enable_0rtt = o.zero_rtt;
    apply_transport_options(o.transport, config.endpoint.connection);
    // The unvalidated handshake timeout follows the handshake timeout (the interop runner's
    // handshakeloss and handshakecorruption give 180 s): EndpointConfig's default.
    config.additional_addresses = o.transport.preferred_addresses;  // listen there too
    if (std::string e = apply_qlog_options(o.qlog, config.endpoint, qlog); !e.empty())
        return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument, e);
    return config;
}

// What the server does with each connection: the protocol its ALPN chose (known once the
// handshake completed), files from the root either way.
class FileService final : public ConnectionService {
  public:
    FileService(std::string root, std::string upload_dir, std::FILE* log)
        : root_(std::make_shared<const ServedRoot>(std::move(root))),
          log_(log),
          h3_(file_handler(root_, std::move(upload_dir), Log(log, "quiver server: "))) {
        h3_.on_connection_closed([log](quic::uv::Connection& c, const quic::h3::SessionStats& q,
                                       const quic::Error& why) {
            Log l(log, "quiver server: " + c.details().remote.to_string() + ": ");
            l("%s; %s", describe(why).c_str(), describe(c.stats()).c_str());
            l("QPACK: encoded %llu sections (%llu with the dynamic table, %llu inserts), decoded "
              "%llu (%llu with the dynamic table, %llu blocked)",
              (unsigned long long)q.sections_encoded,
              (unsigned long long)q.sections_encoded_dynamic,
              (unsigned long long)q.encoder_insert_count, (unsigned long long)q.sections_decoded,
              (unsigned long long)q.sections_decoded_dynamic,
              (unsigned long long)q.sections_blocked);
        });
    }

    void serve(const std::shared_ptr<quic::uv::Connection>& c) override {
        const quic::uv::ConnectionDetails d = c->details();
        Log l(log_, "quiver server: " + d.remote.to_string() + ": ");
        l("new connection (%s)", d.info.alpn.c_str());
        l("%s", describe(d.info).c_str());
        if (d.info.alpn == kH3Alpn) return h3_.serve(c);
        if (d.info.alpn == kHqAlpn) {
            c->on_closed([l, c](const quic::Error& why) {
                l("%s; %s", describe(why).c_str(), describe(c->stats()).c_str());
            });
            return serve_hq(c, root_, l);
        }
        c->close(0, "no application protocol for ALPN " + d.info.alpn);
    }
    // SIGINT/SIGTERM: H3_NO_ERROR for h3 connections, then the transport closes the others.
    void close() override {
        h3_.close(quic::h3::to_underlying(quic::h3::H3Error::kNoError), "server shutting down");
    }

  private:
    std::shared_ptr<const ServedRoot> root_;
    std::FILE* log_;
    quic::h3::Server h3_;
};

void report(ServerWorkers& workers, std::FILE* log) {
    if (!log) return;
    for (unsigned i = 0; i < workers.size(); ++i) {
        quic::uv::Transport& t = workers.transport(i);
        const std::string who = workers.size() == 1
                                    ? "quiver server: "
                                    : "quiver server: worker " + std::to_string(i) + ": ";
        if (workers.size() > 1)
            std::fprintf(log, "%s%llu connections\n", who.c_str(),
                         (unsigned long long)workers.connections(i));
        std::fprintf(log, "%s%s\n", who.c_str(), describe(t.socket_stats()).c_str());
        const auto& e = t.endpoint().stats();
        std::fprintf(
            log,
            "%sendpoint: %llu datagrams received, %llu dropped, %llu version negotiations, %llu "
            "retries, %llu stateless resets, %llu refused, %llu undecryptable Initials, %llu "
            "handshakes abandoned, %llu replies rate-limited\n",
            who.c_str(), (unsigned long long)e.datagrams_received,
            (unsigned long long)e.datagrams_dropped,
            (unsigned long long)e.version_negotiations_sent, (unsigned long long)e.retries_sent,
            (unsigned long long)e.stateless_resets_sent, (unsigned long long)e.connections_refused,
            (unsigned long long)e.initials_undecryptable,
            (unsigned long long)e.handshakes_abandoned, (unsigned long long)e.replies_rate_limited);
    }
}

// The realpath of a directory the options name, or "" with `error` set.
std::string real_directory(const std::string& dir, const char* what, std::string& error) {
    char real[PATH_MAX];
    if (realpath(dir.c_str(), real)) return real;
    error = std::string("cannot ") + what + " " + dir + ": no such directory";
    return "";
}

int run_server(const ServerOptions& o) {
    auto listen = quic::SocketAddress::parse(o.listen);
    if (!listen) return fail("bad --listen address " + o.listen + " (want ADDR:PORT, [::]:4433)");
    std::string error;
    const std::string root = real_directory(o.root, "serve", error);
    const std::string upload_dir =
        o.upload_dir.empty() ? "" : real_directory(o.upload_dir, "upload to", error);
    if (!error.empty()) return fail(error);
    if (o.cert.empty() != o.key.empty()) return fail("--cert and --key go together");
    raise_fd_limit();
    QlogSession qlog;  // outlives the transport: its traces are written when it ends
    auto config = server_config(o, qlog);
    if (!config.ok())
        return fail(config.error().reason.empty() ? config.error().to_string()
                                                  : config.error().reason);

    // Workers must recognise each other's tokens and stateless resets: one key for all.
    config->endpoint.static_key.resize(32);
    quic::CryptoRandom().fill(config->endpoint.static_key);
    std::FILE* log = o.verbose ? stderr : nullptr;
    auto workers = ServerWorkers::create(*listen, *config, o.workers, [&](unsigned) {
        return std::make_unique<FileService>(root, upload_dir, log);
    });
    if (!workers.ok()) return fail(workers.error().to_string());
    quic::uv::Transport& first = (*workers)->transport(0);
    std::fprintf(stderr, "quiver server: listening on %s (GSO %s, GRO %s), serving %s%s\n",
                 first.local_address().to_string().c_str(), first.gso_enabled() ? "on" : "off",
                 first.gro_enabled() ? "on" : "off", root.c_str(),
                 o.workers > 1 ? (" with " + std::to_string(o.workers) + " workers").c_str() : "");
    for (const quic::SocketAddress& a : o.transport.preferred_addresses)
        std::fprintf(stderr, "quiver server: preferred address %s (RFC 9000 §9.6)\n",
                     a.to_string().c_str());
    for (unsigned i = 0; i < (*workers)->size(); ++i)
        (*workers)->transport(i).on_error([](const quic::Error& e) {
            std::fprintf(stderr, "quiver server: %s\n", e.to_string().c_str());
        });
    (*workers)->run(log);
    report(**workers, log);
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
    sub->add_option("--retry", o->retry,
                    "When new clients must first answer a Retry (address validation): auto "
                    "(default: while many handshakes are in progress), always (also plain "
                    "--retry), never")
        ->expected(0, 1)
        ->default_str("always")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    sub->add_flag("--0rtt", o->zero_rtt, "Accept 0-RTT data on resumed connections");
    sub->add_option("--workers", o->workers,
                    "Event loops, each on its own thread and socket on the one port "
                    "(SO_REUSEPORT; each packet steered by connection ID to the worker that "
                    "owns its connection); default 1")
        ->check(CLI::Range(1, 64));
    add_transport_options(sub, o->transport);
    add_server_transport_options(sub, o->transport);
    sub->add_option("--keylog", o->keylog, "Append TLS secrets to FILE (default: $SSLKEYLOGFILE)");
    sub->add_flag("-v,--verbose", o->verbose, "Connection events on stderr");
    add_qlog_options(sub, o->qlog);
    return Command{sub, [o] { return run_server(*o); }};
}

}  // namespace quiver
