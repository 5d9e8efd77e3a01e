// quiver client: fetches URLs over one QUIC connection with hq-interop (INTEROP.md), every
// URL on its own stream at once. Exit codes follow curl's where curl has one.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cc_option.h"
#include "commands.h"
#include "conn_log.h"
#include "endpoint/endpoint.h"
#include "hq_client.h"
#include "hq_interop.h"
#include "keylog.h"
#include "qlog_option.h"
#include "reexec.h"
#include "session_file.h"
#include "url.h"
#include "uv/driver.h"
#include "uv_handles.h"

namespace quiver {
namespace {

enum Exit : int {
    kOk = 0,
    kFailure = 1,
    kUsage = 2,
    kCannotResolve = 6,
    kNoSharedVersion = 7,
    kClosedByPeer = 8,
    kFileRefused = 22,
    kWriteError = 23,
    kTimeout = 28,
    kTlsFailure = 35,
};

constexpr const char* kExitCodes =
    "Exit codes: 0 every file arrived whole; 1 other failure; 2 usage error; 6 cannot resolve\n"
    "the host; 7 no shared QUIC version; 8 connection closed by the peer (CONNECTION_CLOSE or\n"
    "stateless reset); 22 the server refused a file (stream reset: 0x10 not found, 0x11\n"
    "forbidden, 0x12 bad request); 23 cannot write the output; 28 timeout (--timeout, handshake\n"
    "or idle timeout); 35 TLS handshake failed (the alert is named).";

// BoringSSL offers ChaCha20-Poly1305 first when it believes the CPU has no AES instructions
// (INTEROP.md); it reads this once, at initialisation, hence the re-exec.
constexpr const char* kHideAesNi = "~0x200000200000000";

// After the last file, how long to wait for a session ticket that --session-file wants.
constexpr uint64_t kTicketLingerMs = 500;

struct ClientOptions {
    QlogOptions qlog;
    std::vector<std::string> urls;
    std::string alpn = kHqAlpn;
    std::string output, output_dir, session_file, cacert, keylog;
    bool zero_rtt = false, chacha20 = false, insecure = false, verbose = false;
    uint64_t key_update = 0;
    quic::CongestionControl cc = quic::CongestionControl::kCubic;
    double timeout = 0;
};

int fail(int code, const std::string& message) {
    std::fprintf(stderr, "quiver: %s\n", message.c_str());
    return code;
}

// The remote name of a path, as curl -O takes it: the last segment.
std::string remote_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    std::string name = path.substr(slash + 1);
    if (const size_t q = name.find('?'); q != std::string::npos) name.resize(q);
    return name;
}

// The outcome of a run, once the loop has stopped.
struct Outcome {
    bool timed_out = false;
    std::optional<quic::ConnectionClosed> closed;  // closed before we were done
};

int verdict(const ClientOptions& o, const HqClient& client, const Outcome& out) {
    if (client.all_complete() && !client.write_failed()) return kOk;
    if (out.timed_out) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "timeout after %g s", o.timeout);
        return fail(kTimeout, buf);
    }
    if (client.write_failed()) return fail(kWriteError, client.first_failure());
    if (out.closed) {
        using quic::CloseOrigin;
        const quic::ConnectionClosed& c = *out.closed;
        const std::string why = describe(c);
        switch (c.origin) {
            case CloseOrigin::kVersionMismatch:
                return fail(kNoSharedVersion, why);
            case CloseOrigin::kIdleTimeout:
            case CloseOrigin::kHandshakeTimeout:
                return fail(kTimeout, why);
            default:
                break;
        }
        if (c.error.space == quic::ErrorSpace::kTransport && !tls_alert_name(c.error.code).empty())
            return fail(kTlsFailure, "TLS handshake failed: " + why);
        if (c.origin == CloseOrigin::kPeer || c.origin == CloseOrigin::kStatelessReset)
            return fail(kClosedByPeer, why);
        return fail(kFailure, why);
    }
    if (!client.first_failure().empty()) return fail(kFileRefused, client.first_failure());
    return fail(kFailure, "the connection ended before every file arrived");
}

int run_client(const ClientOptions& o) {
    if (o.chacha20) reexec_with_env("OPENSSL_ia32cap", kHideAesNi);

    // One connection: every URL must name the same server.
    std::vector<Url> urls;
    for (const std::string& text : o.urls) {
        std::string error;
        auto url = parse_url(text, error);
        if (!url) return fail(kUsage, "bad URL " + text + ": " + error);
        if (!urls.empty() && (url->host != urls[0].host || url->port != urls[0].port))
            return fail(kUsage, "all URLs must name the same server (one connection)");
        urls.push_back(std::move(*url));
    }
    if (!o.output.empty() && urls.size() != 1) return fail(kUsage, "-o takes exactly one URL");
    std::vector<Download> downloads;
    for (const Url& u : urls) {
        Download d{u.path, o.output};
        if (!o.output_dir.empty()) {
            const std::string name = remote_name(u.path);
            if (name.empty() || name == "." || name == "..")
                return fail(kUsage, "no file name in " + u.path + " for --output-dir");
            d.output = o.output_dir + "/" + name;
        }
        downloads.push_back(std::move(d));
    }

    std::string error;
    auto remote = resolve(urls[0].host, urls[0].port, error);
    if (!remote) return fail(kCannotResolve, "cannot resolve " + urls[0].host + ": " + error);

    quic::TlsConfig tls;
    tls.alpn = {o.alpn};
    tls.verification = o.insecure          ? quic::CertificateVerification::kNone
                       : !o.cacert.empty() ? quic::CertificateVerification::kCaFile
                                           : quic::CertificateVerification::kSystem;
    tls.ca_file = o.cacert;
    tls.enable_early_data = o.zero_rtt;
    tls.keylog = open_keylog(o.keylog, error);
    if (!error.empty()) return fail(kFailure, error);
    auto tls_context = quic::TlsContext::create(std::move(tls));
    if (!tls_context.ok()) return fail(kFailure, tls_context.error().to_string());

    quic::EndpointConfig config;
    config.client_tls = std::move(tls_context).value();
    config.connection.congestion_control = o.cc;
    config.connection.enable_0rtt = o.zero_rtt;
    config.connection.key_update_interval_packets = o.key_update;
    if (std::string e = apply_qlog_options(o.qlog, config); !e.empty()) return fail(kFailure, e);

    auto socket = quic::uv::UdpSocket::bind_any();
    if (!socket.ok()) return fail(kFailure, socket.error().to_string());
    SessionData session;
    if (!o.session_file.empty()) session = load_session(o.session_file);

    std::FILE* log = o.verbose ? stderr : nullptr;
    Loop loop;
    quic::CryptoRandom random;
    quic::Endpoint endpoint(std::move(config), random);
    quic::uv::Driver driver(loop.get(), *socket, endpoint);
    const quic::Path path{socket->local_address(), *remote};
    if (log)
        std::fprintf(log, "quiver client: connecting to %s from %s%s (GSO %s, GRO %s)\n",
                     remote->to_string().c_str(), path.local.to_string().c_str(),
                     session.ticket.empty() ? "" : " with a session ticket",
                     socket->gso_enabled() ? "on" : "off", socket->gro_enabled() ? "on" : "off");
    auto connected =
        endpoint.connect(quic::uv::clock_now(), path,
                         quic::ConnectOptions{urls[0].host, session.ticket, session.token});
    if (!connected.ok()) return fail(kFailure, connected.error().to_string());
    std::shared_ptr<quic::Connection> conn = std::move(connected).value();
    HqClient client(conn, std::move(downloads), log);
    // 0-RTT: the requests go with the first flight when the ticket allows early data.
    if (o.zero_rtt) client.open_requests();

    Outcome outcome;
    bool closing = false, ticket_received = false;
    auto* stopper = new_handle<uv_check_t>();
    auto* deadline = new_handle<uv_timer_t>();
    auto* linger = new_handle<uv_timer_t>();
    uv_check_init(loop.get(), stopper);
    uv_timer_init(loop.get(), deadline);
    uv_timer_init(loop.get(), linger);

    // Ends the connection (CONNECTION_CLOSE, application code 0) and stops once it is sent.
    auto finish = [&](quic::Time now, const char* reason) {
        if (closing) return;
        closing = true;
        if (!conn->is_closed() && conn->state() != quic::ConnectionState::kDraining &&
            conn->state() != quic::ConnectionState::kClosing)
            conn->close(now, 0, reason);
        driver.wake();
    };
    auto save = [&] {
        if (!o.session_file.empty() && !save_session(o.session_file, session))
            std::fprintf(stderr, "quiver: warning: cannot write %s\n", o.session_file.c_str());
    };

    driver.on_activity = [&](quic::Time now) {
        while (auto event = conn->poll_event()) {
            if (log && !std::holds_alternative<quic::StreamReadable>(*event))
                std::fprintf(log, "quiver client: %s\n", describe(*event).c_str());
            if (std::holds_alternative<quic::HandshakeCompleted>(*event) && log)
                std::fprintf(log, "quiver client: %s\n", describe(conn->info()).c_str());
            if (auto* t = std::get_if<quic::SessionTicketReceived>(&*event)) {
                session.ticket = t->ticket;
                ticket_received = true;
                save();
            } else if (auto* k = std::get_if<quic::NewTokenReceived>(&*event)) {
                session.token = k->token;
                save();
            } else if (auto* c = std::get_if<quic::ConnectionClosed>(&*event)) {
                if (!closing) outcome.closed = *c;
            }
            client.on_event(*event);
        }
        if (outcome.closed) return finish(now, "");
        if (!client.finished()) return;
        if (o.session_file.empty() || ticket_received || !client.all_complete())
            return finish(now, "");
        if (!uv_is_active(reinterpret_cast<uv_handle_t*>(linger)))
            uv_timer_start(linger, run_data<uv_timer_t>, kTicketLingerMs, 0);
    };
    std::function<void()> linger_done = [&] { finish(quic::uv::clock_now(), ""); };
    linger->data = &linger_done;
    std::function<void()> timed_out = [&] {
        outcome.timed_out = true;
        finish(quic::uv::clock_now(), "timeout");
    };
    deadline->data = &timed_out;
    if (o.timeout > 0)
        uv_timer_start(deadline, run_data<uv_timer_t>, static_cast<uint64_t>(o.timeout * 1000), 0);
    // After each loop iteration: once closing and the CONNECTION_CLOSE is with the kernel, stop.
    std::function<void()> maybe_stop = [&] {
        if (closing && driver.drained()) uv_stop(loop.get());
    };
    stopper->data = &maybe_stop;
    uv_check_start(stopper, run_data<uv_check_t>);

    driver.wake();  // the first Initial
    uv_run(loop.get(), UV_RUN_DEFAULT);

    if (log) {
        const auto& s = socket->stats();
        std::fprintf(log, "quiver client: %s\n", describe(conn->stats()).c_str());
        std::fprintf(log,
                     "quiver client: socket: sent %llu datagrams in %llu calls (%llu GSO "
                     "batches), received %llu in %llu calls (%llu GRO batches)\n",
                     (unsigned long long)s.datagrams_sent, (unsigned long long)s.send_calls,
                     (unsigned long long)s.gso_batches, (unsigned long long)s.datagrams_received,
                     (unsigned long long)s.receive_calls, (unsigned long long)s.gro_batches);
    }
    driver.close();
    close_handle(stopper);
    close_handle(deadline);
    close_handle(linger);
    std::fflush(stdout);
    return verdict(o, client, outcome);
}

}  // namespace

Command register_client(CLI::App& app) {
    auto o = std::make_shared<ClientOptions>();
    CLI::App* sub = app.add_subcommand("client", "Fetch URLs over hq-interop (one connection)");
    sub->footer(kExitCodes);
    sub->add_option("url", o->urls, "https://host[:port]/path (all on the same server)")
        ->required();
    sub->add_option("--alpn", o->alpn, "Application protocol (default hq-interop)")
        ->check(CLI::IsMember({std::string(kHqAlpn)}));
    auto* out = sub->add_option("-o,--output", o->output, "Write the one URL's body to FILE");
    sub->add_option("--output-dir", o->output_dir,
                    "Save each file under its remote name in DIR (else stdout)")
        ->check(CLI::ExistingDirectory)
        ->excludes(out);
    sub->add_option("--session-file", o->session_file,
                    "Resume with the ticket in FILE when it exists; store the new ticket there");
    sub->add_flag("--0rtt", o->zero_rtt, "Send the requests in 0-RTT when a ticket allows it");
    sub->add_option("--key-update", o->key_update,
                    "Start a key update every N packets (RFC 9001 §6)");
    sub->add_flag("--chacha20", o->chacha20,
                  "Offer TLS_CHACHA20_POLY1305_SHA256 first (re-executes quiver with "
                  "OPENSSL_ia32cap set)");
    sub->add_flag("-k,--insecure", o->insecure, "Do not verify the server's certificate");
    sub->add_option("--cacert", o->cacert, "Verify the server with the CAs in FILE (PEM)")
        ->check(CLI::ExistingFile);
    sub->add_option("--keylog", o->keylog, "Append TLS secrets to FILE (default: $SSLKEYLOGFILE)");
    add_cc_option(sub, o->cc);
    sub->add_option("--timeout", o->timeout, "Give up after SECONDS in all (default: none)")
        ->check(CLI::NonNegativeNumber);
    sub->add_flag("-v,--verbose", o->verbose, "Connection events and statistics on stderr");
    add_qlog_options(sub, o->qlog);
    return Command{sub, [o] { return run_client(*o); }};
}

}  // namespace quiver
