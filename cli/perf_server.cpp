// quiver perf server: the perf protocol's server (quic/perf.h, ALPN "perf") on one UDP socket.
// Every --interval seconds in which something happened it prints a line of totals
// (connections, streams, bytes), and on SIGINT/SIGTERM a summary; --json prints both as
// newline-delimited JSON on stdout.
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "conn_log.h"
#include "keylog.h"
#include "perf_report.h"
#include "qlog_option.h"
#include "quic/perf.h"
#include "quic/uv/clock.h"
#include "quic/uv/transport.h"
#include "server_certificate.h"
#include "size_option.h"
#include "transport_options.h"
#include "uv_handles.h"

namespace quiver {
namespace {

struct PerfServerOptions {
    std::string listen = "[::]:4433";
    std::string cert, key, keylog;
    std::string max_response = "unlimited";
    double interval = 1;
    bool quiet = false, json = false, verbose = false, zero_rtt = false;
    TransportOptions transport;
    QlogOptions qlog;
};

int fail(const std::string& message, int code = 1) {
    std::fprintf(stderr, "quiver perf server: %s\n", message.c_str());
    return code;
}

// Everything the server counts: the perf sessions' counters and the connections'.
struct ServerTotals {
    quic::perf::ServerStats perf;
    uint64_t connections = 0;        // accepted (handshake completed)
    uint64_t zero_rtt_accepted = 0;  // of those, the ones whose 0-RTT data we accepted
    uint64_t closed = 0;
    uint64_t packets_sent = 0, packets_lost = 0;
};

class PerfServer {
  public:
    PerfServer(quic::uv::Transport& transport, quic::perf::ServerConfig config, bool verbose)
        : transport_(transport), config_(config), verbose_(verbose) {}

    // A new connection (its handshake is complete): its events go to a perf::Server.
    void serve(std::shared_ptr<quic::uv::Connection> c) {
        ++totals_.connections;
        if (c->details().info.early_data_accepted) ++totals_.zero_rtt_accepted;
        auto served = std::make_unique<Served>(c, config_);
        Served* raw = served.get();
        served_[raw] = std::move(served);
        if (verbose_)
            std::fprintf(stderr, "quiver perf server: %s: new connection (%s)\n",
                         c->details().remote.to_string().c_str(),
                         describe(c->details().info).c_str());
        c->take_events([raw](quic::Time now) { raw->server.process(now); });
        // The close is seen from inside process(): forget the session from the loop, later.
        c->on_closed([this, raw](const quic::Error& why) {
            if (verbose_)
                std::fprintf(stderr, "quiver perf server: %s: %s\n",
                             raw->conn->details().remote.to_string().c_str(),
                             describe(why).c_str());
            transport_.post([this, raw] { retire(raw); });
        });
        raw->server.process(quic::uv::clock_now());  // events queued before we took them
    }

    ServerTotals totals() const {
        ServerTotals t = totals_;
        for (const auto& [raw, s] : served_) {
            t.perf += s->server.stats();
            const quic::ConnectionStats st = s->conn->stats();
            t.packets_sent += st.packets_sent;
            t.packets_lost += st.packets_lost;
        }
        return t;
    }
    size_t open() const { return served_.size(); }

  private:
    struct Served {
        Served(std::shared_ptr<quic::uv::Connection> c, quic::perf::ServerConfig config)
            : conn(std::move(c)),
              server(std::shared_ptr<quic::Connection>(conn, &conn->core()), config) {}
        std::shared_ptr<quic::uv::Connection> conn;
        quic::perf::Server server;
    };

    void retire(Served* raw) {
        auto it = served_.find(raw);
        if (it == served_.end()) return;
        totals_.perf += raw->server.stats();
        const quic::ConnectionStats st = raw->conn->stats();
        totals_.packets_sent += st.packets_sent;
        totals_.packets_lost += st.packets_lost;
        ++totals_.closed;
        raw->conn->take_events(nullptr);
        served_.erase(it);
    }

    quic::uv::Transport& transport_;
    quic::perf::ServerConfig config_;
    bool verbose_;
    ServerTotals totals_;  // of the connections that ended
    std::map<Served*, std::unique_ptr<Served>> served_;
};

nlohmann::json totals_json(const ServerTotals& t) {
    const quic::perf::ServerStats& p = t.perf;
    return {{"connections", t.connections},
            {"handshakes", t.connections},
            {"zero_rtt_accepted", t.zero_rtt_accepted},
            {"connections_closed", t.closed},
            {"streams", p.streams},
            {"requests", p.requests},
            {"responses", p.responses},
            {"responses_stopped", p.responses_stopped},
            {"bytes_received", p.bytes_received},
            {"bytes_sent", p.bytes_sent},
            {"ignored", p.ignored},
            {"refused", p.refused},
            {"aborted", p.aborted},
            {"packets_sent", t.packets_sent},
            {"packets_lost", t.packets_lost}};
}

// The interval line (or object): the totals, and the rates since the last one.
void print_interval(const PerfServerOptions& o, double t, double s, const ServerTotals& now,
                    const ServerTotals& before, size_t open) {
    const uint64_t in = now.perf.bytes_received - before.perf.bytes_received;
    const uint64_t out = now.perf.bytes_sent - before.perf.bytes_sent;
    if (o.json) {
        nlohmann::json j = totals_json(now);
        j["type"] = "interval";
        j["t_s"] = t;
        j["connections_open"] = open;
        j["received_mbps"] = double(in) * 8 / 1e6 / s;
        j["sent_mbps"] = double(out) * 8 / 1e6 / s;
        std::printf("%s\n", j.dump().c_str());
        std::fflush(stdout);
    }
    if (o.quiet) return;
    std::FILE* f = o.json ? stderr : stdout;
    std::fprintf(f,
                 "[%7.1f s] connections %zu open, %llu in all; streams %llu, responses %llu; "
                 "in %s (%.2f Mbit/s), out %s (%.2f Mbit/s)\n",
                 t, open, static_cast<unsigned long long>(now.connections),
                 static_cast<unsigned long long>(now.perf.streams),
                 static_cast<unsigned long long>(now.perf.responses),
                 format_bytes(now.perf.bytes_received).c_str(), double(in) * 8 / 1e6 / s,
                 format_bytes(now.perf.bytes_sent).c_str(), double(out) * 8 / 1e6 / s);
    std::fflush(f);
}

void print_summary(const PerfServerOptions& o, double t, const ServerTotals& tot) {
    double user = 0, system = 0;
    cpu_seconds(user, system);
    if (o.json) {
        nlohmann::json j = totals_json(tot);
        j["type"] = "summary";
        j["duration_s"] = t;
        j["cpu_s"] = user + system;
        j["cpu_user_s"] = user;
        j["cpu_system_s"] = system;
        std::printf("%s\n", j.dump().c_str());
        std::fflush(stdout);
    }
    if (o.json && o.quiet) return;
    std::FILE* f = o.json ? stderr : stdout;
    const quic::perf::ServerStats& p = tot.perf;
    std::fprintf(f, "quiver perf server: %.1f s\n", t);
    std::fprintf(f, "  connections %llu (0-RTT accepted on %llu)\n",
                 static_cast<unsigned long long>(tot.connections),
                 static_cast<unsigned long long>(tot.zero_rtt_accepted));
    std::fprintf(
        f,
        "  streams     %llu: %llu requests, %llu responses, %llu stopped, %llu ignored "
        "(closed before 8 bytes), %llu refused, %llu aborted\n",
        static_cast<unsigned long long>(p.streams), static_cast<unsigned long long>(p.requests),
        static_cast<unsigned long long>(p.responses),
        static_cast<unsigned long long>(p.responses_stopped),
        static_cast<unsigned long long>(p.ignored), static_cast<unsigned long long>(p.refused),
        static_cast<unsigned long long>(p.aborted));
    std::fprintf(f, "  bytes       received %s, sent %s\n", format_bytes(p.bytes_received).c_str(),
                 format_bytes(p.bytes_sent).c_str());
    std::fprintf(f, "  packets     sent %llu, lost %llu\n",
                 static_cast<unsigned long long>(tot.packets_sent),
                 static_cast<unsigned long long>(tot.packets_lost));
    std::fprintf(f, "  CPU         %.2f s (user %.2f, system %.2f)\n", user + system, user, system);
    std::fflush(f);
}

int run_perf_server(const PerfServerOptions& o) {
    auto listen = quic::SocketAddress::parse(o.listen);
    if (!listen) return fail("bad --listen address " + o.listen + " (want ADDR:PORT)", 2);
    if (o.cert.empty() != o.key.empty()) return fail("--cert and --key go together", 2);
    auto cap = parse_size(o.max_response, true);
    if (!cap) return fail("bad --max-response " + o.max_response, 2);
    raise_fd_limit();

    auto ck = server_certificate(o.cert, o.key, "quiver perf server");
    if (!ck.ok()) return fail(ck.error().to_string());
    std::string error;
    quic::TlsConfig tls;
    tls.is_server = true;
    tls.alpn = {quic::perf::kAlpn};
    tls.certificate = std::move(ck).value();
    tls.enable_early_data = o.zero_rtt;
    tls.keylog = open_keylog(o.keylog, error);
    if (!error.empty()) return fail(error);
    auto tls_context = quic::TlsContext::create(std::move(tls));
    if (!tls_context.ok()) return fail(tls_context.error().to_string());

    QlogSession qlog;  // outlives the transport: its traces are written when it ends
    quic::uv::TransportConfig config;
    config.endpoint.server_tls = std::move(tls_context).value();
    apply_transport_options(o.transport, config.endpoint.connection);
    // 0-RTT (RFC 9001 §4.6): the requests that came early are served once the handshake
    // completes, as `quiver server --0rtt` does.
    config.endpoint.connection.enable_0rtt = o.zero_rtt;
    if (std::string e = apply_qlog_options(o.qlog, config.endpoint, qlog); !e.empty())
        return fail(e);

    Loop loop;
    auto created = quic::uv::Transport::create(loop.get(), *listen, std::move(config));
    if (!created.ok()) return fail(created.error().to_string());
    quic::uv::Transport& transport = **created;
    std::fprintf(stderr, "quiver perf server: listening on %s (GSO %s, GRO %s)\n",
                 transport.local_address().to_string().c_str(),
                 transport.gso_enabled() ? "on" : "off", transport.gro_enabled() ? "on" : "off");
    transport.on_error([](const quic::Error& e) {
        std::fprintf(stderr, "quiver perf server: %s\n", e.to_string().c_str());
    });

    quic::perf::ServerConfig server_config;
    server_config.max_response_size = *cap;
    PerfServer server(transport, server_config, o.verbose);
    auto listener = transport.listen();
    if (!listener.ok()) return fail(listener.error().to_string());
    (*listener)->on_connection([&](std::shared_ptr<quic::uv::Connection> c) {
        if (c->details().info.alpn != quic::perf::kAlpn)
            return c->close(0, "no application protocol for ALPN " + c->details().info.alpn);
        server.serve(std::move(c));
    });

    const quic::Time start = quic::uv::clock_now();
    auto since = [&](quic::Time t) { return std::chrono::duration<double>(t - start).count(); };
    ServerTotals last;
    quic::Time last_time = start;
    std::function<void()> on_tick = [&] {
        const quic::Time now = quic::uv::clock_now();
        const ServerTotals t = server.totals();
        // Only when something happened: an idle server stays quiet.
        if (t.connections != last.connections || t.perf.streams != last.perf.streams ||
            t.perf.bytes_received != last.perf.bytes_received ||
            t.perf.bytes_sent != last.perf.bytes_sent || server.open() > 0)
            print_interval(o, since(now), std::chrono::duration<double>(now - last_time).count(), t,
                           last, server.open());
        last = t;
        last_time = now;
    };
    uv_timer_t* ticker = nullptr;
    if (o.interval > 0) {
        const auto ms = static_cast<uint64_t>(o.interval * 1000);
        ticker = start_timer(loop.get(), on_tick, ms, ms);
    }

    bool shutting_down = false;
    std::function<void()> shut_down = [&] {
        if (shutting_down) return;
        shutting_down = true;
        print_summary(o, since(quic::uv::clock_now()), server.totals());
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
    close_handle(ticker);
    close_handle(sigint);
    close_handle(sigterm);
    return 0;
}

}  // namespace

std::function<int()> register_perf_server(CLI::App* perf) {
    auto o = std::make_shared<PerfServerOptions>();
    CLI::App* sub = perf->add_subcommand(
        "server", "Serve the perf protocol (draft-banks-quic-performance, ALPN perf)");
    sub->footer(
        "Answers each stream with the number of bytes its first 8 bytes ask for (2^64-1: until\n"
        "the client sends STOP_SENDING), after draining what the client uploads. Exit codes: 0\n"
        "after SIGINT/SIGTERM (the summary is printed then), 1 failure, 2 usage error.");
    sub->add_option("--listen", o->listen, "ADDR:PORT to listen on (default [::]:4433)");
    sub->add_option("--cert", o->cert, "Certificate chain (PEM); default: self-signed, in memory")
        ->check(CLI::ExistingFile);
    sub->add_option("--key", o->key, "Private key (PEM) for --cert")->check(CLI::ExistingFile);
    sub->add_option("--max-response", o->max_response,
                    "Refuse requests for more than SIZE bytes (default unlimited)");
    sub->add_option("--interval", o->interval,
                    "Seconds between lines of totals (default 1; 0: none)")
        ->check(CLI::Range(0.0, 3600.0));
    sub->add_flag("-q,--quiet", o->quiet, "No interval lines (the summary stays)");
    sub->add_flag("--json", o->json, "Newline-delimited JSON on stdout (the text goes to stderr)");
    sub->add_flag("-v,--verbose", o->verbose, "A line per connection on stderr");
    sub->add_flag("--0rtt", o->zero_rtt, "Accept 0-RTT requests on resumed connections");
    sub->add_option("--keylog", o->keylog, "Append TLS secrets to FILE (default: $SSLKEYLOGFILE)");
    add_transport_options(sub, o->transport);
    add_qlog_options(sub, o->qlog);
    return [o] { return run_perf_server(*o); };
}

}  // namespace quiver
