// quiver client: a curl-like fetch of URLs over one QUIC connection, HTTP/3 by default
// (--alpn hq-interop: the interop runner's HTTP/0.9, INTEROP.md), every URL on its own stream
// at once. Options and exit codes follow curl's where curl has one.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cc_option.h"
#include "commands.h"
#include "conn_log.h"
#include "endpoint/endpoint.h"
#include "h3_client.h"
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
    "2 usage error; 6 cannot resolve the host; 7 no shared QUIC version; 8 connection closed by\n"
    "the peer (CONNECTION_CLOSE or stateless reset); 22 h3 with -f: a status >= 400;\n"
    "hq-interop: the server refused a file (stream reset: 0x10 not found, 0x11 forbidden, 0x12\n"
    "bad request); 23 cannot write the output; 26 cannot read the -d @FILE body; 28 timeout\n"
    "(--timeout, handshake or idle timeout); 35 TLS handshake failed (the alert is named);\n"
    "95 HTTP/3 error: a request stream was reset or its response was malformed.";

// BoringSSL offers ChaCha20-Poly1305 first when it believes the CPU has no AES instructions
// (INTEROP.md); it reads this once, at initialisation, hence the re-exec.
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

// How the requests went, whatever the protocol.
struct Progress {
    bool all_complete = false, write_failed = false, http_failed = false, stream_failed = false;
    std::string first_failure;
};

int verdict(const ClientOptions& o, const Progress& p, const Outcome& out) {
    if (p.all_complete && !p.write_failed && !p.http_failed) return kOk;
    if (out.timed_out) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "timeout after %g s", o.timeout);
        return fail(kTimeout, buf);
    }
    if (p.write_failed) return fail(kWriteError, p.first_failure);
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
    if (p.http_failed) return fail(kFileRefused, p.first_failure);
    if (p.stream_failed) return fail(kHttp3Error, p.first_failure);
    if (!p.first_failure.empty()) return fail(kFileRefused, p.first_failure);
    return fail(kFailure, "the connection ended before every file arrived");
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
H3ClientOptions h3_options(const ClientOptions& o, std::string& error) {
    H3ClientOptions h;
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
    h.verbose = o.verbose ? stderr : nullptr;
    return h;
}

double ms(int64_t ns) {
    return ns < 0 ? -1.0 : double(ns) / 1e6;
}

// --json: one object for the connection.
nlohmann::json stats_json(const quic::Connection& conn, const Url& url, double elapsed_s,
                          uint64_t body_bytes, const H3Client* h3) {
    const quic::ConnectionStats st = conn.stats();
    const quic::ConnectionInfo& info = conn.info();
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
    j["body_bytes"] = body_bytes;
    j["throughput_mbps"] = elapsed_s > 0 ? double(body_bytes) * 8 / elapsed_s / 1e6 : 0.0;
    j["bytes_sent"] = st.bytes_sent;
    j["bytes_received"] = st.bytes_received;
    j["packets_sent"] = st.packets_sent;
    j["packets_received"] = st.packets_received;
    j["packets_lost"] = st.packets_lost;
    j["smoothed_rtt_ms"] = ms(st.smoothed_rtt_ns);
    j["min_rtt_ms"] = ms(st.min_rtt_ns);
    j["pto_count"] = st.pto_count;
    j["key_updates"] = st.key_updates;
    if (h3) {
        const quic::h3::SessionStats q = h3->stats();
        j["qpack"] = {{"sections_encoded", q.sections_encoded},
                      {"sections_encoded_dynamic", q.sections_encoded_dynamic},
                      {"encoder_inserts", q.encoder_insert_count},
                      {"sections_decoded", q.sections_decoded},
                      {"sections_decoded_dynamic", q.sections_decoded_dynamic},
                      {"sections_blocked", q.sections_blocked},
                      {"decoder_inserts", q.decoder_insert_count}};
        nlohmann::json requests = nlohmann::json::array();
        for (const H3Result& r : h3->results()) {
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
    if (o.outputs.size() > urls.size()) return fail(kUsage, "more -o files than URLs");
    std::string error;
    const std::vector<std::string> outputs = plan_outputs(o, urls, error);
    if (!error.empty()) return fail(kUsage, error);
    const bool h3 = o.alpn == kH3Alpn;
    const bool body_to_stdout =
        std::any_of(outputs.begin(), outputs.end(), [](const auto& f) { return f.empty(); });
    H3ClientOptions h3o;
    std::vector<Download> downloads;
    std::vector<H3Request> requests;
    if (h3) {
        h3o = h3_options(o, error);
        if (!error.empty()) return fail(kUsage, error);
        h3o.progress = !o.silent && !o.verbose && !body_to_stdout && isatty(STDERR_FILENO);
        for (size_t i = 0; i < urls.size(); ++i) {
            const Url& u = urls[i];
            std::string authority =
                u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
            if (u.port != 443) authority += ":" + std::to_string(u.port);
            requests.push_back(H3Request{o.urls[i], authority, u.path, outputs[i]});
        }
    } else {
        if (!o.headers.empty() || !o.data.empty() || !o.data_binary.empty() || !o.method.empty() ||
            o.head || o.include || o.fail_on_error)
            return fail(kUsage, "-H, -X, -d, --data-binary, -I, -i and -f need --alpn h3");
        for (size_t i = 0; i < urls.size(); ++i) downloads.push_back({urls[i].path, outputs[i]});
    }

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
    QlogSession qlog;  // outlives the endpoint: its traces are written when it ends
    if (std::string e = apply_qlog_options(o.qlog, config, qlog); !e.empty())
        return fail(kFailure, e);

    auto socket = quic::uv::UdpSocket::bind_any();
    if (!socket.ok()) return fail(kFailure, socket.error().to_string());
    SessionData session;
    if (!o.session_file.empty()) session = load_session(o.session_file);

    std::FILE* log = o.verbose && !h3 ? stderr : nullptr;
    Loop loop;
    quic::CryptoRandom random;
    quic::Endpoint endpoint(std::move(config), random);
    quic::uv::Driver driver(loop.get(), *socket, endpoint);
    const quic::Path path{socket->local_address(), *remote};
    if (o.verbose)
        std::fprintf(stderr, "%s connecting to %s from %s%s (GSO %s, GRO %s)\n",
                     h3 ? "*" : "quiver client:", remote->to_string().c_str(),
                     path.local.to_string().c_str(),
                     session.ticket.empty() ? "" : " with a session ticket",
                     socket->gso_enabled() ? "on" : "off", socket->gro_enabled() ? "on" : "off");
    auto connected =
        endpoint.connect(quic::uv::clock_now(), path,
                         quic::ConnectOptions{urls[0].host, session.ticket, session.token});
    if (!connected.ok()) return fail(kFailure, connected.error().to_string());
    std::shared_ptr<quic::Connection> conn = std::move(connected).value();
    const quic::Time started = quic::uv::clock_now();
    std::unique_ptr<HqClient> hq;
    std::unique_ptr<H3Client> h3c;
    // 0-RTT: the requests go with the first flight when the ticket allows early data.
    if (h3) {
        h3c = std::make_unique<H3Client>(conn, std::move(requests), std::move(h3o));
        if (std::string e = h3c->start(started, o.zero_rtt); !e.empty()) return fail(kReadError, e);
    } else {
        hq = std::make_unique<HqClient>(conn, std::move(downloads), log);
        if (o.zero_rtt) hq->open_requests();
    }
    auto progress = [&] {
        Progress p;
        if (h3c) {
            p = {h3c->all_complete(), h3c->write_failed(), h3c->http_failed(), h3c->stream_failed(),
                 h3c->first_failure()};
        } else {
            p = {hq->all_complete(), hq->write_failed(), false, false, hq->first_failure()};
        }
        return p;
    };

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

    // The events both protocols pass on from the connection.
    auto common = [&](const auto& event) {
        if (auto* t = std::get_if<quic::SessionTicketReceived>(&event)) {
            session.ticket = t->ticket;
            ticket_received = true;
            save();
        } else if (auto* k = std::get_if<quic::NewTokenReceived>(&event)) {
            session.token = k->token;
            save();
        } else if (auto* c = std::get_if<quic::ConnectionClosed>(&event)) {
            if (!closing) outcome.closed = *c;
        }
    };
    driver.on_activity = [&](quic::Time now) {
        if (h3c) {
            while (auto event = h3c->poll_event(now)) common(*event);
        } else {
            while (auto event = conn->poll_event()) {
                if (log && !std::holds_alternative<quic::StreamReadable>(*event))
                    std::fprintf(log, "quiver client: %s\n", describe(*event).c_str());
                if (std::holds_alternative<quic::HandshakeCompleted>(*event) && log)
                    std::fprintf(log, "quiver client: %s\n", describe(conn->info()).c_str());
                common(*event);
                hq->on_event(*event);
            }
        }
        if (outcome.closed) return finish(now, "");
        const bool finished = h3c ? h3c->finished() : hq->finished();
        const bool all_complete = h3c ? h3c->all_complete() : hq->all_complete();
        if (!finished) return;
        if (o.session_file.empty() || ticket_received || !all_complete) return finish(now, "");
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

    const double elapsed = std::chrono::duration<double>(quic::uv::clock_now() - started).count();
    if (h3c) h3c->end_progress();
    if (o.verbose && h3c) {
        std::fprintf(stderr, "* %s\n", describe(conn->stats()).c_str());
        const quic::h3::SessionStats q = h3c->stats();
        std::fprintf(
            stderr,
            "* QPACK: encoded %llu sections (%llu with the dynamic table), decoded %llu "
            "(%llu with the dynamic table, %llu blocked)\n",
            (unsigned long long)q.sections_encoded, (unsigned long long)q.sections_encoded_dynamic,
            (unsigned long long)q.sections_decoded, (unsigned long long)q.sections_decoded_dynamic,
            (unsigned long long)q.sections_blocked);
    }
    if (o.json) {
        const uint64_t body = h3c ? h3c->bytes_received() : hq->bytes_received();
        const std::string text = stats_json(*conn, urls[0], elapsed, body, h3c.get()).dump();
        std::fprintf(body_to_stdout ? stderr : stdout, "%s\n", text.c_str());
    }
    if (log) {
        std::fprintf(log, "quiver client: %s\n", describe(conn->stats()).c_str());
        std::fprintf(log, "quiver client: socket: %s\n", describe(socket->stats()).c_str());
    }
    driver.close();
    close_handle(stopper);
    close_handle(deadline);
    close_handle(linger);
    std::fflush(stdout);
    return verdict(o, progress(), outcome);
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
    add_cc_option(sub, o->cc);
    sub->add_option("--timeout", o->timeout, "Give up after SECONDS in all (default: none)")
        ->check(CLI::NonNegativeNumber);
    sub->add_flag("-v,--verbose", o->verbose,
                  "Handshake, version, ALPN, cipher, request (> ) and response (< ) headers and "
                  "statistics on stderr");
    add_qlog_options(sub, o->qlog);
    return Command{sub, [o] { return run_client(*o); }};
}

}  // namespace quiver
