// quiver server: serves a directory over HTTP/3 and hq-interop (INTEROP.md) on one UDP
// socket, dual-stack by default; each connection gets the protocol its ALPN chose. SIGINT/SIGTERM
// close every connection with an application CONNECTION_CLOSE (code 0, "server shutting down")
// before exiting 0.
#include <limits.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cc_option.h"
#include "commands.h"
#include "conn_log.h"
#include "endpoint/endpoint.h"
#include "h3_server.h"
#include "hq_interop.h"
#include "hq_server.h"
#include "keylog.h"
#include "qlog_option.h"
#include "uv/driver.h"
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
    quic::CongestionControl cc = quic::CongestionControl::kCubic;
    double max_idle_timeout = 30;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "quiver server: %s\n", message.c_str());
    return 1;
}

// --cert/--key, or a self-signed certificate for this host, whose fingerprint is printed so
// that a client can pin it.
quic::Result<quic::CertifiedKey> certificate(const ServerOptions& o) {
    if (!o.cert.empty()) return quic::load_certified_key(o.cert, o.key);
    std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
    char host[HOST_NAME_MAX + 1] = "";
    if (gethostname(host, sizeof host) == 0 && *host && std::string(host) != "localhost")
        names.push_back(host);
    auto ck = quic::make_self_signed(quic::KeyType::kEcdsaP256, names);
    if (ck.ok())
        std::fprintf(stderr, "quiver server: self-signed certificate, SHA-256 %s\n",
                     quic::certificate_fingerprint(*ck->chain[0]).c_str());
    return ck;
}

// One file descriptor per file being sent: allow as many as the hard limit permits.
void raise_fd_limit() {
    rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &r);
    }
}

// One accepted connection. The ALPN is known once the handshake completes; until then its
// events wait in the connection (0-RTT requests included) for the handler the ALPN picks.
class ServerConnection {
  public:
    ServerConnection(std::shared_ptr<quic::Connection> c, const std::string& root,
                     const std::string& upload_dir, std::FILE* log)
        : conn_(std::move(c)), root_(root), upload_dir_(upload_dir), log_(log) {}

    void on_activity(quic::Time now) {
        if (!hq_ && !h3_) {
            const std::string& alpn = conn_->info().alpn;
            if (alpn == kH3Alpn)
                h3_ = std::make_unique<H3ServerSession>(conn_, root_, upload_dir_, log_);
            else if (alpn == kHqAlpn)
                hq_ = std::make_unique<HqServerSession>(conn_, root_, log_);
            else if (!alpn.empty())
                conn_->close(now, 0, "no application protocol for ALPN " + alpn);
        }
        if (h3_) h3_->on_activity(now);
        if (hq_) hq_->on_activity();
    }
    void close(quic::Time now) {
        if (conn_->is_closed()) return;
        if (h3_)
            h3_->close(now);
        else
            conn_->close(now, 0, "server shutting down");
    }
    bool closed() const { return conn_->is_closed(); }

  private:
    std::shared_ptr<quic::Connection> conn_;
    std::string root_, upload_dir_;
    std::FILE* log_;
    std::unique_ptr<HqServerSession> hq_;
    std::unique_ptr<H3ServerSession> h3_;
};

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

    auto ck = certificate(o);
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

    quic::EndpointConfig config;
    config.server_tls = std::move(tls_context).value();
    config.require_retry = o.retry;
    config.connection.enable_0rtt = o.zero_rtt;
    config.connection.congestion_control = o.cc;
    config.connection.max_idle_timeout = std::chrono::duration_cast<quic::Duration>(
        std::chrono::duration<double>(o.max_idle_timeout));
    QlogSession qlog;  // outlives the endpoint: its traces are written when it ends
    if (std::string e = apply_qlog_options(o.qlog, config, qlog); !e.empty()) return fail(e);

    auto socket = quic::uv::UdpSocket::bind(*listen);
    if (!socket.ok()) return fail(socket.error().to_string());
    std::fprintf(stderr, "quiver server: listening on %s (GSO %s, GRO %s), serving %s\n",
                 socket->local_address().to_string().c_str(), socket->gso_enabled() ? "on" : "off",
                 socket->gro_enabled() ? "on" : "off", root);

    std::FILE* log = o.verbose ? stderr : nullptr;
    Loop loop;
    quic::CryptoRandom random;
    quic::Endpoint endpoint(std::move(config), random);
    quic::uv::Driver driver(loop.get(), *socket, endpoint);
    driver.on_error = [](const quic::Error& e) {
        std::fprintf(stderr, "quiver server: %s\n", e.to_string().c_str());
    };
    std::vector<std::unique_ptr<ServerConnection>> sessions;
    bool shutting_down = false;

    auto close_all = [&](quic::Time now) {
        for (auto& s : sessions) s->close(now);
    };
    driver.on_activity = [&](quic::Time now) {
        while (auto c = endpoint.accept())
            sessions.push_back(
                std::make_unique<ServerConnection>(std::move(c), root, upload_dir, log));
        for (auto& s : sessions) s->on_activity(now);
        std::erase_if(sessions, [](const auto& s) { return s->closed(); });
        if (shutting_down) close_all(now);  // connections that arrived meanwhile
    };

    // SIGINT/SIGTERM through libuv (no global state): close, flush, and stop once the kernel
    // has every CONNECTION_CLOSE.
    std::function<void()> shut_down = [&] {
        if (shutting_down) return;
        shutting_down = true;
        if (log) std::fprintf(log, "quiver server: shutting down\n");
        driver.on_activity(quic::uv::clock_now());
        driver.wake();
    };
    auto* sigint = new_handle<uv_signal_t>();
    auto* sigterm = new_handle<uv_signal_t>();
    auto* stopper = new_handle<uv_check_t>();
    for (auto [h, signum] : {std::pair{sigint, SIGINT}, std::pair{sigterm, SIGTERM}}) {
        uv_signal_init(loop.get(), h);
        h->data = &shut_down;
        uv_signal_start(h, run_data<uv_signal_t, int>, signum);
    }
    std::function<void()> maybe_stop = [&] {
        if (shutting_down && driver.drained()) uv_stop(loop.get());
    };
    uv_check_init(loop.get(), stopper);
    stopper->data = &maybe_stop;
    uv_check_start(stopper, run_data<uv_check_t>);

    uv_run(loop.get(), UV_RUN_DEFAULT);

    if (log) {
        std::fprintf(log, "quiver server: %s\n", describe(driver.socket().stats()).c_str());
        const auto& e = endpoint.stats();
        std::fprintf(
            log,
            "quiver server: endpoint: %llu datagrams received, %llu dropped, %llu version "
            "negotiations, %llu retries, %llu stateless resets, %llu refused\n",
            (unsigned long long)e.datagrams_received, (unsigned long long)e.datagrams_dropped,
            (unsigned long long)e.version_negotiations_sent, (unsigned long long)e.retries_sent,
            (unsigned long long)e.stateless_resets_sent, (unsigned long long)e.connections_refused);
    }
    driver.close();
    close_handle(sigint);
    close_handle(sigterm);
    close_handle(stopper);
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
    add_cc_option(sub, o->cc);
    sub->add_option("--max-idle-timeout", o->max_idle_timeout,
                    "Idle timeout we advertise, in seconds (default 30, 0 = none)")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--keylog", o->keylog, "Append TLS secrets to FILE (default: $SSLKEYLOGFILE)");
    sub->add_flag("-v,--verbose", o->verbose, "Connection events on stderr");
    add_qlog_options(sub, o->qlog);
    return Command{sub, [o] { return run_server(*o); }};
}

}  // namespace quiver
