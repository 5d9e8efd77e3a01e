// quiver perf client HOST:PORT: load on a perf server (draft-banks-quic-performance, ALPN
// perf) in one of five modes (bulk, --rps, --rate, --hps, --scenario; see perf_load.h and
// perf_hps.h), with a line per interval and a summary, as text or NDJSON (perf_report.h).
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "conn_log.h"
#include "perf_connection.h"
#include "perf_hps.h"
#include "perf_load.h"
#include "perf_report.h"
#include "perf_scenario.h"
#include "quic/http3/error.h"
#include "quic/uv/clock.h"
#include "size_option.h"
#include "url.h"
#include "uv_handles.h"

namespace quiver {
namespace {

struct ClientOptions {
    PerfClientOptions common;
    std::string target;
    // bulk
    std::string download, upload;
    size_t streams = 1;
    bool uni = false;
    // rps, rate
    bool rps = false;
    double rate = 0;
    std::string request_size = "0", response_size = "0";
    uint64_t count = 0;
    // hps
    bool hps = false, resume = false;
    std::string alpn = quic::perf::kAlpn;
    // scenario
    std::string scenario;
    // hold
    double hold = 0;
};

int fail(const std::string& message, int code = 1) {
    std::fprintf(stderr, "quiver perf client: %s\n", message.c_str());
    return code;
}

// The mode and what it asks for, from the options; `error` says what is wrong with them.
std::optional<LoadSpec> load_spec(ClientOptions& o, std::string& mode, std::string& error) {
    const int modes =
        int(o.rps) + int(o.rate > 0) + int(o.hps) + int(!o.scenario.empty()) + int(o.hold > 0);
    if (modes > 1) {
        error = "--rps, --rate, --hps, --scenario and --hold are different modes: choose one";
        return std::nullopt;
    }
    const bool sized = !o.download.empty() || !o.upload.empty();
    if (modes == 1 && sized) {
        error =
            "--download and --upload are for the bulk mode (use --request-size and "
            "--response-size)";
        return std::nullopt;
    }
    if (o.alpn != quic::perf::kAlpn && !o.hps) {
        error = "--alpn other than perf is only for --hps (no request is made there)";
        return std::nullopt;
    }
    if (o.resume && !o.hps) {
        error = "--resume is for --hps";
        return std::nullopt;
    }
    if (o.hps && o.common.zero_rtt && (!o.resume || o.alpn != quic::perf::kAlpn)) {
        error = "--hps --0rtt needs --resume (0-RTT rides on a resumed session) and ALPN perf";
        return std::nullopt;
    }
    LoadSpec spec;
    spec.count = o.count;
    spec.streams = o.streams;
    if (o.hold > 0) {
        if (o.count || o.common.duration > 0) {
            error = "--hold is the run's length: no --count or --duration";
            return std::nullopt;
        }
        mode = "hold";
        spec.kind = LoadKind::kHold;
        o.common.duration = o.hold;
        o.common.keep_alive = true;
        return spec;
    }
    auto request = parse_size(o.request_size), response = parse_size(o.response_size);
    if (!request || !response) {
        error = "bad --request-size or --response-size";
        return std::nullopt;
    }
    if (o.hps) {
        mode = "hps";
        if (o.common.duration <= 0 && o.count == 0) o.common.duration = 10;
        spec.request = {!o.uni, *request, *response};  // --0rtt: one per handshake
        return spec;
    }
    if (!o.scenario.empty()) {
        mode = "scenario";
        spec.kind = LoadKind::kScenario;
        auto s = parse_scenario(o.scenario, error);
        if (!s) {
            error = "--scenario: " + error;
            return std::nullopt;
        }
        if (o.count) {
            error = "--count is not for --scenario (use --duration, or the scenario's repeat)";
            return std::nullopt;
        }
        spec.scenario = std::move(*s);
        return spec;
    }
    if (o.rps || o.rate > 0) {
        mode = o.rps ? "rps" : "rate";
        spec.kind = o.rps ? LoadKind::kRps : LoadKind::kRate;
        spec.rate = o.rate;
        spec.request = {!o.uni, *request, *response};
        if (o.common.duration <= 0 && o.count == 0) o.common.duration = 10;
        return spec;
    }
    mode = "bulk";
    if (o.count) {
        error = "--count is for --rps, --rate and --hps";
        return std::nullopt;
    }
    std::optional<uint64_t> down = uint64_t{0}, up = uint64_t{0};
    if (!o.download.empty()) down = parse_size(o.download, true);
    if (!o.upload.empty()) up = parse_size(o.upload, true);
    if (!down || !up) {
        error = "bad --download or --upload (want SIZE: 10M, 1GiB, ... or unlimited)";
        return std::nullopt;
    }
    if (!sized) {
        if (o.common.duration <= 0) {
            error = "say what to move: --download SIZE, --upload SIZE, or --duration SECONDS";
            return std::nullopt;
        }
        down = quic::perf::kUnlimited;  // §2.3.1: until STOP_SENDING
    }
    const bool unlimited = *down == quic::perf::kUnlimited || *up == quic::perf::kUnlimited;
    if (unlimited && o.common.duration <= 0) {
        error = "an unlimited size needs --duration";
        return std::nullopt;
    }
    spec.request = {!o.uni, *up, *down};
    spec.repeat = !unlimited && o.common.duration > 0;  // sized requests again and again
    return spec;
}

nlohmann::json config_json(const ClientOptions& o, const LoadSpec& spec, const std::string& mode) {
    auto size = [](uint64_t v) -> nlohmann::json {
        if (v == quic::perf::kUnlimited) return "unlimited";
        return v;
    };
    nlohmann::json j = {{"target", o.target},
                        {"mode", mode},
                        {"connections", o.common.connections},
                        {"duration_s", o.common.duration},
                        {"warmup_s", o.common.warmup},
                        {"dial_window", o.common.dial_window},
                        {"zero_rtt", o.common.zero_rtt}};
    if (mode == "hold") {
        j["hold_s"] = o.hold;
        return j;
    }
    if (mode == "hps") {
        j["alpn"] = o.alpn;
        j["resume"] = o.resume;
        j["count"] = o.count;
        if (o.common.zero_rtt) {
            j["upload"] = size(spec.request.upload);
            j["download"] = size(spec.request.download);
        }
        return j;
    }
    if (mode == "scenario") {
        j["scenario"] = o.scenario;
        return j;
    }
    j["streams"] = o.streams;
    j["bidirectional"] = spec.request.bidirectional;
    j["upload"] = size(spec.request.upload);
    j["download"] = size(spec.request.download);
    if (mode == "rate") j["rate"] = o.rate;
    if (mode == "rps" || mode == "rate") j["count"] = o.count;
    return j;
}

template <class Load>
int run_load(uv_loop_t* loop, Load& load, Reporter& reporter) {
    load.set_reporter(&reporter);
    // SIGINT ends the run early, with its summary.
    std::function<void()> on_signal = [&] { load.stop(); };
    auto* sigint = new_handle<uv_signal_t>();
    uv_signal_init(loop, sigint);
    sigint->data = &on_signal;
    uv_signal_start(sigint, run_data<uv_signal_t, int>, SIGINT);
    load.start();
    uv_run(loop, UV_RUN_DEFAULT);
    close_handle(sigint);
    if (!load.failure().empty()) fail(load.failure());
    return load.exit_code();
}

int run_perf_client(ClientOptions& o) {
    std::string error, mode;
    auto spec = load_spec(o, mode, error);
    if (!spec) return fail(error, 2);
    auto target = parse_host_port(o.target, error);
    if (!target) return fail("bad target " + o.target + ": " + error, 2);
    auto remote = resolve(target->first, target->second, error);
    if (!remote) return fail("cannot resolve " + target->first + ": " + error);

    // A session store when --resume, --0rtt or --session-file want one (--hps without --resume:
    // never, every handshake is a full one).
    std::shared_ptr<TicketWatch> tickets =
        o.hps && !o.resume ? nullptr : make_ticket_watch(o.common, o.hps);
    QlogSession qlog;  // outlives the transport: its traces are written when it ends
    Loop loop;
    auto transport = make_client_transport(loop.get(), *remote, o.common, qlog, {o.alpn}, tickets,
                                           o.common.zero_rtt);
    if (!transport.ok())
        return fail(transport.error().reason.empty() ? transport.error().to_string()
                                                     : transport.error().reason);
    Recorder recorder;
    ReportOptions ro;
    ro.mode = mode;
    ro.interval = o.common.interval;
    ro.warmup = o.common.warmup;
    ro.json = o.common.json;
    ro.quiet = o.common.quiet;
    ro.config = config_json(o, *spec, mode);
    if (o.hps) {
        // ALPN h3: close as HTTP/3 does (H3_NO_ERROR, RFC 9114 §8.1).
        const uint64_t code =
            o.alpn == "h3" ? quic::h3::to_underlying(quic::h3::H3Error::kNoError) : 0;
        HandshakeLoad load(loop.get(), **transport, *remote, target->first, o.common, o.count, code,
                           tickets, recorder,
                           o.common.zero_rtt ? std::optional(spec->request) : std::nullopt);
        Reporter reporter(loop.get(), ro, recorder, [&] { return load.snapshot(); });
        return run_load(loop.get(), load, reporter);
    }
    RequestLoad load(loop.get(), **transport, *remote, target->first, std::move(*spec), o.common,
                     recorder, tickets);
    Reporter reporter(loop.get(), ro, recorder, [&] { return load.snapshot(); });
    return run_load(loop.get(), load, reporter);
}

}  // namespace

std::function<int()> register_perf_client(CLI::App* perf) {
    auto o = std::make_shared<ClientOptions>();
    CLI::App* sub = perf->add_subcommand(
        "client", "Load a perf server: throughput, requests/s, handshakes/s, latency");
    sub->footer(
        "Modes (one at a time):\n"
        "  bulk (default)  --download/--upload SIZE on each of --streams streams per\n"
        "                  connection; with --duration alone, an unlimited download stopped\n"
        "                  when it ends (STOP_SENDING); with sizes and --duration, repeated.\n"
        "  --rps           --streams requests in flight per connection, each answered by the\n"
        "                  next; --request-size uploaded, --response-size asked for.\n"
        "  --rate R        R requests/s over all connections at fixed times; latency counts\n"
        "                  from when a request was due (no coordinated omission).\n"
        "  --hps           handshakes only, --connections at a time (--resume: with tickets);\n"
        "                  any --alpn (h3 measures an HTTP/3 server's handshakes); with\n"
        "                  --resume --0rtt each carries a request (--request-size and\n"
        "                  --response-size) in 0-RTT.\n"
        "  --scenario S    'id=a,download=1M; id=b,repeat=4,after=a,upload=10K,uni' or @FILE.\n"
        "  --hold S        no request: --connections connections held open S seconds, idle\n"
        "                  (PINGs every half --max-idle-timeout; 0 there: none), e.g. for\n"
        "                  memory per connection; the summary's \"held\" counts those open.\n"
        "SIZE: 1500, 64K, 64KiB, 10M, 10MiB, 1G, 1GiB, unlimited. Exit codes: 0 every request\n"
        "ended well, 1 otherwise (the first problem is printed), 2 usage error.");
    sub->add_option("target", o->target, "HOST:PORT of the perf server ([v6]:PORT; port 443)")
        ->required();
    sub->add_option("--download", o->download, "Bulk: bytes each stream asks for");
    sub->add_option("--upload", o->upload, "Bulk: bytes each stream sends");
    sub->add_option("--streams", o->streams,
                    "Bulk and --rps: streams (requests in flight) per connection (default 1)")
        ->check(CLI::Range(size_t{1}, size_t{100000}));
    sub->add_flag("--uni", o->uni,
                  "Unidirectional streams (the response comes on the server's own stream)");
    sub->add_flag("--rps", o->rps, "Requests per second, closed loop");
    sub->add_option("--rate", o->rate, "Requests per second to send, open loop")
        ->check(CLI::Range(0.001, 10000000.0));
    sub->add_option("--request-size", o->request_size, "--rps/--rate: bytes uploaded (default 0)");
    sub->add_option("--response-size", o->response_size,
                    "--rps/--rate: bytes asked for (default 0)");
    sub->add_option("-n,--count", o->count,
                    "--rps/--rate: requests in all; --hps: handshakes in all");
    sub->add_flag("--hps", o->hps, "Handshakes per second");
    sub->add_flag("--resume", o->resume, "--hps: resume with session tickets (RFC 9001 §4.5)");
    sub->add_option("--alpn", o->alpn, "--hps: the ALPN to offer (default perf; h3 for HTTP/3)");
    sub->add_option("--scenario", o->scenario, "A mixed run: the scenario text, or @FILE");
    sub->add_option("--hold", o->hold, "Hold --connections idle connections for SECONDS")
        ->check(CLI::Range(0.001, 86400.0));
    sub->add_option("--dial-window", o->common.dial_window,
                    "Handshakes in flight at once while dialing --connections (default 16, "
                    "0: all at once)");
    sub->add_flag("--0rtt", o->common.zero_rtt,
                  "Send the requests in 0-RTT: an untimed first connection fetches the ticket "
                  "(--hps: needs --resume; each handshake carries one request)");
    sub->add_option("--session-file", o->common.session_file,
                    "Keep the session ticket in FILE between runs (resumption, 0-RTT)");
    add_perf_client_options(sub, o->common);
    return [o] { return run_perf_client(*o); };
}

}  // namespace quiver
