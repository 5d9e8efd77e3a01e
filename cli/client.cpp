// quiver client: a curl-like fetch of URLs over one QUIC connection, HTTP/3 by default
// (--alpn hq-interop: the interop runner's HTTP/0.9, interop/README.md), every URL on its own
// stream at once. Options and exit codes follow curl's where curl has one.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "conn_log.h"
#include "fetch.h"
#include "hq_interop.h"
#include "keylog.h"
#include "qlog_option.h"
#include "quic/uv/transport.h"
#include "reexec.h"
#include "replay_record.h"
#include "session_file.h"
#include "transport_options.h"
#include "url.h"
#include "uv_handles.h"

namespace quiver {
namespace {

enum Exit : int {
    kOk = 0,
    kFailure = 1,
    kUsage = 2,
    kCannotResolve = 6,
    kCouldNotConnect = 7,  // curl: no connection (here: ICMP unreachable, no shared version)
    kClosedByPeer = 8,
    kFileRefused = 22,  // hq-interop: the server reset a stream; h3 with -f: a status >= 400
    kWriteError = 23,
    kReadError = 26,
    kTimeout = 28,
    kTlsFailure = 35,
    kHttp3Error = 95,  // a request stream was reset or its response was malformed
};

constexpr const char* kExitCodes =
    "Output: each body to stdout, in URL order, unless -o FILE (one per URL, in order; - is\n"
    "stdout), -O or --output-dir DIR (the remote name). --json writes one object per connection\n"
    "to stdout, or to stderr when a body goes to stdout.\n"
    "Exit codes: 0 every response arrived whole (any status, unless -f); 1 other failure;\n"
    "2 usage error; 6 cannot resolve the host; 7 cannot connect (ICMP port or host\n"
    "unreachable, or no shared QUIC version); 8 connection closed by the peer\n"
    "(CONNECTION_CLOSE or stateless reset); 22 h3 with -f: a status >= 400;\n"
    "hq-interop: the server refused a file (stream reset: 0x10 not found, 0x11 forbidden, 0x12\n"
    "bad request); 23 cannot write the output; 26 cannot read the -d @FILE body; 28 timeout\n"
    "(--timeout, handshake or idle timeout); 35 TLS handshake failed (the alert is named);\n"
    "95 HTTP/3 error: a request stream was reset or its response was malformed.";

// BoringSSL offers ChaCha20-Poly1305 first when it believes the CPU has no AES instructions
// (interop/README.md); it reads this once, at initialisation, hence the re-exec.
constexpr const char* kHideAesNi = "~0x200000200000000";

// After the last file, how long to wait for a session ticket that --session-file wants.
constexpr uint64_t kTicketLingerMs = 500;

struct ClientOptions {
    QlogOptions qlog;
    std::vector<std::string> urls;
    std::string alpn = kH3Alpn;
    std::vector<std::string> outputs;
    std::string output_dir, session_file, cacert, keylog;
    bool remote_name = false;
    bool zero_rtt = false, chacha20 = false, insecure = false, verbose = false;
    // curl's HTTP options (h3 only).
    std::vector<std::string> headers, data;
    std::string method, data_binary;
    bool head = false, include = false, silent = false, fail_on_error = false, json = false;
    uint64_t key_update = 0;
    std::string record;                  // --record FILE (h3)
    uint64_t record_max_body = 1 << 20;  // --record-max-body
    TransportOptions transport;
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
// How the run ended, once the loop has stopped.
struct Outcome {
    bool timed_out = false;
    std::optional<quic::Error> closed;  // the connection failed or closed before we were done
};

int verdict(const ClientOptions& o, const Fetch& f, const Outcome& out) {
    if (f.all_complete()) return kOk;
    if (out.timed_out) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "timeout after %g s", o.timeout);
        return fail(kTimeout, buf);
    }
    if (f.failure() == FetchFailure::kWrite) return fail(kWriteError, f.first_failure());
    if (out.closed) {
        using quic::ErrorKind;
        const quic::Error& e = *out.closed;
        const std::string why = describe(e);
        switch (e.kind) {
            case ErrorKind::kVersionNegotiation:
            case ErrorKind::kUnreachable:
                return fail(kCouldNotConnect, why);
            case ErrorKind::kIdleTimeout:
            case ErrorKind::kHandshakeTimeout:
            case ErrorKind::kDeadlineExceeded:
                return fail(kTimeout, why);
            default:
                break;
        }
        if (e.space == quic::ErrorSpace::kTransport && !quic::tls_alert_description(e.code).empty())
            return fail(kTlsFailure, "TLS handshake failed: " + why);
        if (e.remote) return fail(kClosedByPeer, why);
        return fail(kFailure, why);
    }
    switch (f.failure()) {
        case FetchFailure::kRefused:
            return fail(kFileRefused, f.first_failure());
        case FetchFailure::kStream:
            return fail(kHttp3Error, f.first_failure());
        case FetchFailure::kNone:
            return fail(kFailure, "the connection ended before every file arrived");
        default:
            return fail(kFailure, f.first_failure());
    }
}

// Where each URL's body goes: -o FILE (in order), else the remote name with -O or
// --output-dir, else stdout (""). Sets `error` when a remote name is missing.
std::vector<std::string> plan_outputs(const ClientOptions& o, const std::vector<Url>& urls,
                                      std::string& error) {
    std::vector<std::string> out;
    for (size_t i = 0; i < urls.size(); ++i) {
        std::string file;
        if (i < o.outputs.size()) {
            file = o.outputs[i] == "-" ? "" : o.outputs[i];
            if (!file.empty() && !o.output_dir.empty() && file.front() != '/')
                file = o.output_dir + "/" + file;
        } else if (o.remote_name || !o.output_dir.empty()) {
            const std::string name = remote_name(urls[i].path);
            if (name.empty() || name == "." || name == "..") {
                error = "no file name in " + urls[i].path + " for -O/--output-dir";
                return {};
            }
            file = (o.output_dir.empty() ? "" : o.output_dir + "/") + name;
        }
        out.push_back(std::move(file));
    }
    return out;
}

// The options of the HTTP/3 request: method, -H fields, body. Sets `error` for a bad -H.
RequestOptions request_options(const ClientOptions& o, std::string& error) {
    RequestOptions h;
    for (const std::string& line : o.headers) {
        const size_t colon = line.find(':');
        if (colon == std::string::npos || colon == 0) {
            error = "bad header '" + line + "' (want 'Name: value')";
            return h;
        }
        quic::h3::Field f;
        // RFC 9114 §4.2: field names are lower-case in HTTP/3.
        for (char c : line.substr(0, colon))
            f.name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = colon + 1;
        while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
        f.value = line.substr(v);
        h.headers.push_back(std::move(f));
    }
    if (!o.data_binary.empty() || !o.data.empty()) {
        h.has_body = true;
        if (!o.data_binary.empty()) {
            if (o.data_binary.front() == '@')
                h.body_file = o.data_binary.substr(1);
            else
                h.body = o.data_binary;
        } else if (o.data.size() == 1 && !o.data[0].empty() && o.data[0].front() == '@') {
            h.body_file = o.data[0].substr(1);  // sent as it is (curl -d strips newlines)
        } else {
            for (const std::string& d : o.data) h.body += (h.body.empty() ? "" : "&") + d;
        }
    }
    h.method = !o.method.empty() ? o.method : o.head ? "HEAD" : h.has_body ? "POST" : "GET";
    h.include_headers = o.include || o.head;
    h.fail_on_error = o.fail_on_error;
    return h;
}

double ms(int64_t ns) {
    return ns < 0 ? -1.0 : double(ns) / 1e6;
}

// --json: one object for the connection.
nlohmann::json stats_json(const quic::uv::Connection& conn, const Url& url, double elapsed_s,
                          const Fetch& f, const FetchProtocol& protocol, bool h3) {
    const quic::ConnectionStats st = conn.stats();
    const quic::ConnectionInfo info = conn.details().info;
    nlohmann::json j;
    j["server"] = url.host + ":" + std::to_string(url.port);
    j["alpn"] = info.alpn;
    char version[16];
    std::snprintf(version, sizeof version, "0x%08x", info.version);
    j["version"] = version;
    j["cipher"] = info.cipher;
    j["resumed"] = info.resumed;
    j["early_data_accepted"] = info.early_data_accepted;
    j["handshake_ms"] = ms(st.handshake_duration_ns);
    j["duration_ms"] = elapsed_s * 1e3;
    j["body_bytes"] = f.bytes_received();
    j["throughput_mbps"] = elapsed_s > 0 ? double(f.bytes_received()) * 8 / elapsed_s / 1e6 : 0.0;
    j["bytes_sent"] = st.bytes_sent;
    j["bytes_received"] = st.bytes_received;
    j["packets_sent"] = st.packets_sent;
    j["packets_received"] = st.packets_received;
    j["packets_lost"] = st.packets_lost;
    j["smoothed_rtt_ms"] = ms(st.smoothed_rtt_ns);
    j["min_rtt_ms"] = ms(st.min_rtt_ns);
    j["pto_count"] = st.pto_count;
    j["key_updates"] = st.key_updates;
    j["pmtu"] = st.pmtu;
    protocol.add_json(j);
    if (h3) {
        nlohmann::json requests = nlohmann::json::array();
        for (const FetchResult& r : f.results()) {
            nlohmann::json e = {{"url", r.url},
                                {"status", r.status},
                                {"bytes", r.bytes},
                                {"body_sent", r.body_sent},
                                {"ttfb_ms", ms(r.ttfb_ns)},
                                {"duration_ms", ms(r.duration_ns)},
                                {"complete", r.complete}};
            if (!r.error.empty()) e["error"] = r.error;
            requests.push_back(std::move(e));
        }
        j["requests"] = std::move(requests);
    }
    return j;
}

// The URLs, checked: one server for all (one connection).
std::optional<std::vector<Url>> parse_urls(const ClientOptions& o, std::string& error) {
    std::vector<Url> urls;
    for (const std::string& text : o.urls) {
        auto url = parse_url(text, error);
        if (!url) {
            error = "bad URL " + text + ": " + error;
            return std::nullopt;
        }
        if (!urls.empty() && (url->host != urls[0].host || url->port != urls[0].port)) {
            error = "all URLs must name the same server (one connection)";
            return std::nullopt;
        }
        urls.push_back(std::move(*url));
    }
    return urls;
}

std::vector<FetchRequest> fetch_requests(const ClientOptions& o, const std::vector<Url>& urls) {
    std::vector<FetchRequest> out;
    for (size_t i = 0; i < urls.size(); ++i) {
        const Url& u = urls[i];
        std::string authority = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
        if (u.port != 443) authority += ":" + std::to_string(u.port);
        out.push_back(FetchRequest{o.urls[i], authority, u.path});
    }
    return out;
}

quic::Result<std::shared_ptr<quic::TlsContext>> client_tls(const ClientOptions& o) {
    std::string error;
    quic::TlsConfig tls;
    tls.alpn = {o.alpn};
    tls.verification = o.insecure          ? quic::CertificateVerification::kNone
                       : !o.cacert.empty() ? quic::CertificateVerification::kCaFile
                                           : quic::CertificateVerification::kSystem;
    tls.ca_file = o.cacert;
    tls.enable_early_data = o.zero_rtt;
    tls.keylog = open_keylog(o.keylog, error);
    if (!error.empty()) return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument, error);
    auto context = quic::TlsContext::create(std::move(tls));
    if (!context.ok()) return context.error();
    return std::shared_ptr<quic::TlsContext>(std::move(context).value());
}

// The loop's part of a run: the connection, the protocol, the timers, and the stop.
class ClientRun {
  public:
    ClientRun(const ClientOptions& o, Fetch& f, quic::uv::Transport& t, uv_loop_t* loop)
        : o_(o), fetch_(f), transport_(t), loop_(loop) {}

    void connect(const quic::SocketAddress& remote, const std::string& host) {
        started_ = quic::uv::clock_now();
        quic::uv::DialOptions d;
        d.server_name = host;
        fetch_.on_finished([this] { on_finished(); });
        if (o_.zero_rtt) {
            // 0-RTT: the requests go with the first flight when the ticket allows early data.
            auto c = transport_.dial_early(remote, d);
            if (!c.ok()) return closed(c.error());
            adopt(*c);
            conn_->on_handshake_completed([this] { handshake_done(); });
            return;
        }
        transport_.dial(remote, d, [this](quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
            if (!c.ok()) return closed(c.error());
            adopt(*c);
            handshake_done();
        });
    }
    void start_deadline() {
        if (o_.timeout <= 0) return;
        deadline_ = new_handle<uv_timer_t>();
        uv_timer_init(loop_, deadline_);
        deadline_->data = &on_deadline_;
        uv_timer_start(deadline_, run_data<uv_timer_t>, static_cast<uint64_t>(o_.timeout * 1000),
                       0);
    }
    // --migrate-after: after every loop iteration, look whether enough has arrived to move to a
    // new local port (RFC 9000 §9.2), and report the move once it happened.
    void watch_migration() {
        if (o_.transport.migrate_after == 0) return;
        migration_check_ = new_handle<uv_check_t>();
        uv_check_init(loop_, migration_check_);
        migration_check_->data = &on_migration_check_;
        uv_check_start(migration_check_, run_data<uv_check_t>);
    }
    ~ClientRun() {
        close_handle(deadline_);
        close_handle(linger_);
        close_handle(migration_check_);
    }

    Outcome outcome;
    std::shared_ptr<quic::uv::Connection> conn_;
    std::unique_ptr<FetchProtocol> protocol_;
    quic::Time started_{};

  private:
    void adopt(std::shared_ptr<quic::uv::Connection> c) {
        conn_ = std::move(c);
        if (fetch_.recorder())
            fetch_.recorder()->start(quic::uv::clock_now(), conn_->details().info);
        conn_->on_closed([this](const quic::Error& e) { closed(e); });
        const bool h3 = o_.alpn == kH3Alpn;
        protocol_ = h3 ? make_h3_fetch(fetch_, conn_) : make_hq_fetch(fetch_, conn_);
        protocol_->start();
    }
    void handshake_done() {
        const quic::ConnectionStats st = conn_->stats();
        fetch_.vlog("* handshake completed in %.1f ms: %s", double(st.handshake_duration_ns) / 1e6,
                    describe(conn_->details().info).c_str());
    }
    // The connection ended (or could not be made): whatever did not arrive has failed.
    void closed(const quic::Error& e) {
        if (!closing_) outcome.closed = e;
        finish("");
    }
    void on_finished() {
        // --session-file wants the server's ticket: wait for it a little after the last file.
        auto* store = dynamic_cast<FileSessionStore*>(transport_.config().sessions.get());
        if (!store || store->ticket_received() || !fetch_.all_complete()) return finish("");
        linger_ = new_handle<uv_timer_t>();
        uv_timer_init(loop_, linger_);
        linger_->data = &on_linger_;
        uv_timer_start(linger_, run_data<uv_timer_t>, kTicketLingerMs, 0);
        store_ = store;
    }
    // Ends the connection (CONNECTION_CLOSE, application code 0) and stops once it is sent.
    void finish(const char* reason) {
        if (closing_) return;
        closing_ = true;
        transport_.close(0, reason, [this] { uv_stop(loop_); });
    }

    const ClientOptions& o_;
    Fetch& fetch_;
    quic::uv::Transport& transport_;
    uv_loop_t* loop_;
    bool closing_ = false;
    FileSessionStore* store_ = nullptr;
    uv_timer_t* deadline_ = nullptr;
    uv_timer_t* linger_ = nullptr;
    std::function<void()> on_deadline_ = [this] {
        outcome.timed_out = true;
        finish("timeout");
    };
    std::function<void()> on_linger_ = [this] { finish(""); };
    uv_check_t* migration_check_ = nullptr;
    bool migration_started_ = false;
    uint64_t migrations_before_ = 0, failures_before_ = 0;  // a preferred address moves too
    std::function<void()> on_migration_check_ = [this] { check_migration(); };
    void check_migration() {
        if (!conn_ || conn_->is_closed()) return;
        const quic::ConnectionStats st = conn_->stats();
        if (!migration_started_ && st.stream_bytes_received >= o_.transport.migrate_after) {
            migration_started_ = true;
            migrations_before_ = st.path_migrations;
            failures_before_ = st.path_validation_failures;
            auto local = conn_->migrate();
            if (!local.ok()) {
                fetch_.vlog("* migration not started: %s", local.error().to_string().c_str());
                uv_check_stop(migration_check_);
                return;
            }
            fetch_.vlog("* migrating after %llu bytes: probing from %s",
                        static_cast<unsigned long long>(st.stream_bytes_received),
                        local->to_string().c_str());
            return;
        }
        if (migration_started_ && (st.path_migrations > migrations_before_ ||
                                   st.path_validation_failures > failures_before_)) {
            const quic::uv::ConnectionDetails d = conn_->details();
            if (st.path_migrations > migrations_before_)
                fetch_.vlog("* migrated: now %s -> %s", d.local.to_string().c_str(),
                            d.remote.to_string().c_str());
            else
                fetch_.vlog("* migration failed: the new path was not validated; staying on %s",
                            d.local.to_string().c_str());
            uv_check_stop(migration_check_);
        }
    }
};

// The transport's configuration: TLS with the one ALPN, the transport and qlog options, 0-RTT,
// key updates, and the session file as the session store.
quic::Result<quic::uv::TransportConfig> client_config(const ClientOptions& o, QlogSession& qlog) {
    auto tls = client_tls(o);
    if (!tls.ok()) return tls.error();
    quic::uv::TransportConfig config;
    config.endpoint.client_tls = *tls;
    apply_transport_options(o.transport, config.endpoint.connection);
    config.endpoint.connection.enable_0rtt = o.zero_rtt;
    config.endpoint.connection.key_update_interval_packets = o.key_update;
    if (std::string e = apply_qlog_options(o.qlog, config.endpoint, qlog); !e.empty())
        return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument, e);
    if (!o.session_file.empty())
        config.sessions = std::make_shared<FileSessionStore>(o.session_file);
    return config;
}

// -v statistics and --json, once the loop has stopped.
void report(const ClientOptions& o, const ClientRun& run, quic::uv::Transport& t, const Url& url,
            const Fetch& fetch, bool body_to_stdout) {
    if (!run.conn_) return;
    if (o.verbose) {
        std::fprintf(stderr, "* %s\n", describe(run.conn_->stats()).c_str());
        if (std::string line = run.protocol_->summary(); !line.empty())
            std::fprintf(stderr, "* %s\n", line.c_str());
        std::fprintf(stderr, "* socket: %s\n", describe(t.socket_stats()).c_str());
    }
    if (o.json) {
        const double elapsed =
            std::chrono::duration<double>(quic::uv::clock_now() - run.started_).count();
        const std::string text =
            stats_json(*run.conn_, url, elapsed, fetch, *run.protocol_, o.alpn == kH3Alpn).dump();
        std::fprintf(body_to_stdout ? stderr : stdout, "%s\n", text.c_str());
    }
}

// The requests' options, checked against the protocol: hq-interop has GET only.
std::optional<RequestOptions> checked_request_options(const ClientOptions& o, std::string& error) {
    if (o.alpn == kH3Alpn) {
        RequestOptions ro = request_options(o, error);
        if (!error.empty()) return std::nullopt;
        return ro;
    }
    if (!o.headers.empty() || !o.data.empty() || !o.data_binary.empty() || !o.method.empty() ||
        o.head || o.include || o.fail_on_error || !o.record.empty()) {
        error = "-H, -X, -d, --data-binary, -I, -i, -f and --record need --alpn h3";
        return std::nullopt;
    }
    return RequestOptions{};
}

int run_client(const ClientOptions& o) {
    if (o.chacha20) reexec_with_env("OPENSSL_ia32cap", kHideAesNi);
    std::string error;
    auto urls = parse_urls(o, error);
    if (!urls) return fail(kUsage, error);
    if (o.outputs.size() > urls->size()) return fail(kUsage, "more -o files than URLs");
    const std::vector<std::string> outputs = plan_outputs(o, *urls, error);
    auto ro = checked_request_options(o, error);
    if (!error.empty()) return fail(kUsage, error);
    const bool body_to_stdout =
        std::any_of(outputs.begin(), outputs.end(), [](const auto& f) { return f.empty(); });
    const bool progress =
        o.alpn == kH3Alpn && !o.silent && !o.verbose && !body_to_stdout && isatty(STDERR_FILENO);
    Fetch fetch(fetch_requests(o, *urls), outputs, *ro, progress, o.verbose ? stderr : nullptr);
    if (std::string e = fetch.open_body(); !e.empty()) return fail(kReadError, e);
    std::unique_ptr<replay::Recorder> recorder;
    if (!o.record.empty()) {
        std::string title = "quiver client";
        for (const std::string& u : o.urls) title += " " + u;
        recorder = replay::Recorder::open(o.record, o.record_max_body, title, error);
        if (!recorder) return fail(kWriteError, error);
        fetch.set_recorder(recorder.get());
    }

    auto remote = resolve((*urls)[0].host, (*urls)[0].port, error);
    if (!remote) return fail(kCannotResolve, "cannot resolve " + (*urls)[0].host + ": " + error);
    QlogSession qlog;  // outlives the transport: its traces are written when it ends
    auto config = client_config(o, qlog);
    if (!config.ok())
        return fail(kFailure, config.error().reason.empty() ? config.error().to_string()
                                                            : config.error().reason);
    if (recorder) {
        // The recording takes the versions, ALPN and transport parameters from the core's
        // trace events; --qlog-dir's trace, if any, still gets them all.
        quic::EndpointConfig& e = config->endpoint;
        recorder->offer({(*urls)[0].host, {o.alpn}, e.connection.versions});
        e.tracer_factory = [inner = e.tracer_factory, rec = recorder.get()](
                               quic::Role role, const quic::ConnectionId& odcid) {
            return rec->tracer(inner ? inner(role, odcid) : nullptr);
        };
    }
    const auto* store = static_cast<FileSessionStore*>(config->sessions.get());
    const bool has_ticket = store && store->has_ticket();
    Loop loop;
    auto transport = quic::uv::Transport::create(loop.get(), local_wildcard_for(*remote),
                                                 std::move(config).value());
    if (!transport.ok()) return fail(kFailure, transport.error().to_string());
    quic::uv::Transport& t = **transport;
    fetch.vlog("* connecting to %s from %s%s (GSO %s, GRO %s)", remote->to_string().c_str(),
               t.local_address().to_string().c_str(), has_ticket ? " with a session ticket" : "",
               t.gso_enabled() ? "on" : "off", t.gro_enabled() ? "on" : "off");
    ClientRun run(o, fetch, t, loop.get());
    run.connect(*remote, (*urls)[0].host);
    run.start_deadline();
    run.watch_migration();
    uv_run(loop.get(), UV_RUN_DEFAULT);
    fetch.end_progress();
    report(o, run, t, (*urls)[0], fetch, body_to_stdout);
    std::fflush(stdout);
    return verdict(o, fetch, run.outcome);
}

}  // namespace

Command register_client(CLI::App& app) {
    auto o = std::make_shared<ClientOptions>();
    CLI::App* sub = app.add_subcommand(
        "client", "Fetch URLs over HTTP/3 (or hq-interop), curl-like, on one connection");
    sub->footer(kExitCodes);
    sub->add_option("url", o->urls, "https://host[:port]/path (all on the same server; port 443)")
        ->required();
    sub->add_option("--alpn", o->alpn, "Application protocol: h3 (default) or hq-interop")
        ->check(CLI::IsMember({std::string(kH3Alpn), std::string(kHqAlpn)}));
    sub->add_option("-o,--output", o->outputs,
                    "Write the body to FILE (repeat: one per URL, in order; - is stdout)")
        ->allow_extra_args(false);
    sub->add_flag("-O,--remote-name", o->remote_name,
                  "Write each body to a file named like the URL's last path segment");
    sub->add_option("--output-dir", o->output_dir,
                    "Directory for -o and -O files; alone, implies -O")
        ->check(CLI::ExistingDirectory);
    sub->add_option("-H,--header", o->headers,
                    "Extra request field 'Name: value' (repeatable; names are sent lower-case; "
                    "'Name:' removes a default field)")
        ->allow_extra_args(false);
    sub->add_option("-X,--request", o->method, "Request method (default GET, or POST with -d)");
    sub->add_option("-d,--data", o->data,
                    "Request body (POST); @FILE sends FILE's bytes; several -d are joined by &")
        ->allow_extra_args(false);
    sub->add_option("--data-binary", o->data_binary, "Request body as it is; @FILE reads FILE");
    sub->add_flag("-I,--head", o->head, "HEAD request; show the status line and header fields");
    sub->add_flag("-i,--include", o->include,
                  "Write the status line and header fields before the body");
    sub->add_flag("-f,--fail", o->fail_on_error,
                  "Fail (exit 22) on HTTP status >= 400, without writing the body");
    sub->add_flag("-s,--silent", o->silent, "No progress bar");
    sub->add_flag("--json", o->json,
                  "Print connection statistics as one JSON object (stdout, or stderr when a "
                  "body goes to stdout)");
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
    sub->add_option("--record", o->record,
                    "Write the connection's parameters and the requests as sent (fields, body, "
                    "FIN, resets, times) and the response statuses to FILE, a qlog that quiver "
                    "replay performs again (docs/replay.md)");
    sub->add_option("--record-max-body", o->record_max_body,
                    "Request body bytes --record keeps per request; beyond, it notes how many "
                    "were left out (default 1048576)");
    add_transport_options(sub, o->transport);
    add_client_transport_options(sub, o->transport);
    sub->add_option("--timeout", o->timeout, "Give up after SECONDS in all (default: none)")
        ->check(CLI::NonNegativeNumber);
    sub->add_flag("-v,--verbose", o->verbose,
                  "Handshake, version, ALPN, cipher, request (> ) and response (< ) headers and "
                  "statistics on stderr");
    add_qlog_options(sub, o->qlog);
    return Command{sub, [o] { return run_client(*o); }};
}

}  // namespace quiver
