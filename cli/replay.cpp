// quiver replay: performs a script of HTTP/3 actions (docs/replay.md) on one connection and
// checks its expectations. Prints each response; exits 0 when every expectation holds, 1 with
// one line per failed expectation otherwise.
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "commands.h"
#include "conn_log.h"
#include "keylog.h"
#include "qlog_option.h"
#include "quic/uv/transport.h"
#include "replay_qlog.h"
#include "replay_recording.h"
#include "replay_run.h"
#include "replay_script.h"
#include "transport_options.h"
#include "url.h"
#include "uv_handles.h"

namespace quiver {
namespace {

enum Exit : int { kOk = 0, kFailure = 1, kUsage = 2 };

// A whole script in memory: replay scripts are small; this caps a mistaken argument.
constexpr std::streamsize kMaxScriptBytes = 64 * 1024 * 1024;

struct ReplayOptions {
    std::string file, connect, authority, sni, timing = "recorded", cacert, keylog;
    std::string alpn;        // empty: a recording's, else h3
    std::string path = "/";  // for requests rebuilt from another stack's trace
    bool insecure = false, verbose = false, json = false;
    double timeout = 0, linger = 10;
    TransportOptions transport;
    QlogOptions qlog;
};

int fail(int code, const std::string& message) {
    std::fprintf(stderr, "quiver replay: %s\n", message.c_str());
    return code;
}

std::optional<std::string> read_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot read " + path;
        return std::nullopt;
    }
    std::string text(static_cast<size_t>(kMaxScriptBytes) + 1, '\0');
    in.read(text.data(), kMaxScriptBytes + 1);
    if (in.gcount() > kMaxScriptBytes) {
        error = path + ": larger than 64 MiB";
        return std::nullopt;
    }
    text.resize(static_cast<size_t>(in.gcount()));
    return text;
}

// HOST:PORT or [V6]:PORT.
bool split_host_port(const std::string& s, std::string& host, uint16_t& port) {
    size_t colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
    host = s.substr(0, colon);
    if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    try {
        const unsigned long p = std::stoul(s.substr(colon + 1));
        if (p == 0 || p > 65535) return false;
        port = static_cast<uint16_t>(p);
    } catch (...) {
        return false;
    }
    return true;
}

quic::Result<quic::uv::TransportConfig> replay_config(const ReplayOptions& o,
                                                      const replay::Script& script,
                                                      QlogSession& qlog) {
    std::string error;
    quic::TlsConfig tls;
    // A recording's offer, unless the command line says otherwise.
    tls.alpn = !o.alpn.empty()        ? std::vector<std::string>{o.alpn}
               : !script.alpn.empty() ? script.alpn
                                      : std::vector<std::string>{"h3"};
    tls.verification = o.insecure          ? quic::CertificateVerification::kNone
                       : !o.cacert.empty() ? quic::CertificateVerification::kCaFile
                                           : quic::CertificateVerification::kSystem;
    tls.ca_file = o.cacert;
    tls.keylog = open_keylog(o.keylog, error);
    if (!error.empty()) return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument, error);
    auto context = quic::TlsContext::create(std::move(tls));
    if (!context.ok()) return context.error();
    quic::uv::TransportConfig config;
    config.endpoint.client_tls = std::shared_ptr<quic::TlsContext>(std::move(context).value());
    apply_transport_options(o.transport, config.endpoint.connection);
    if (o.transport.versions.empty() && !script.versions.empty())
        config.endpoint.connection.versions = script.versions;
    // A script may send datagrams (RFC 9221); the server decides whether it takes them.
    config.endpoint.connection.max_datagram_frame_size = 65535;
    if (std::string e = apply_qlog_options(o.qlog, config.endpoint, qlog); !e.empty())
        return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument, e);
    return config;
}

void print_json(const ReplayOptions& o, const replay::Script& s, const replay::Run* run,
                const std::vector<std::string>& failures) {
    nlohmann::json j;
    j["script"] = o.file;
    j["title"] = s.title;
    j["clause"] = s.clause;
    j["requires"] = s.requires_;
    j["pass"] = failures.empty();
    j["performed"] = run && run->performed_all();
    j["failures"] = failures;
    nlohmann::json reactions = nlohmann::json::array();
    if (run)
        for (const replay::Reaction& r : run->reactions()) reactions.push_back(replay::describe(r));
    j["reactions"] = reactions;
    j["responses"] = run ? run->responses() : std::vector<std::string>{};
    std::printf("%s\n", j.dump().c_str());
}

int run_replay(const ReplayOptions& o) {
    std::string error;
    auto text = read_file(o.file, error);
    if (!text) return fail(kUsage, error);
    std::optional<replay::Script> script;
    if (replay::is_recording(*text)) {
        // quiver client --record: told by its first record, the qlog header.
        script = replay::parse_recording(*text, o.file, error);
    } else if (replay::looks_like_qlog(*text)) {
        // Another stack's client trace: the requests it shows, and what it lacks.
        std::vector<std::string> notes;
        script = replay::script_from_qlog(*text, o.file, o.path, notes, error);
        for (const std::string& n : notes) std::fprintf(stderr, "* %s\n", n.c_str());
    } else {
        script = replay::parse_script(*text, o.file, error);
    }
    if (!script) return fail(kUsage, error);
    std::string host;
    uint16_t port = 0;
    if (!split_host_port(o.connect, host, port))
        return fail(kUsage, "--connect wants HOST:PORT, not '" + o.connect + "'");
    auto remote = resolve(host, port, error);
    if (!remote) return fail(kFailure, "cannot resolve " + host + ": " + error);
    QlogSession qlog;  // outlives the transport: its traces are written when it ends
    if (script->recording && !o.authority.empty())
        // The recorded :authority is the one the client sent; --authority replaces it.
        for (replay::Action& a : script->actions)
            for (quic::h3::Field& f : a.fields)
                if (f.name == ":authority") f.value = o.authority;
    auto config = replay_config(o, *script, qlog);
    if (!config.ok()) return fail(kFailure, config.error().to_string());

    replay::RunOptions ro;
    ro.recorded_timing = o.timing == "recorded";
    ro.authority = !o.authority.empty()                  ? o.authority
                   : host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                                         : host + ":" + std::to_string(port);
    ro.script_name = o.file;
    ro.position = script->recording ? "record" : "line";
    ro.verbose = o.verbose ? stderr : nullptr;
    ro.linger_ms = o.linger * 1000;

    Loop loop;
    auto transport = quic::uv::Transport::create(loop.get(), local_wildcard_for(*remote),
                                                 std::move(config).value());
    if (!transport.ok()) return fail(kFailure, transport.error().to_string());
    quic::uv::Transport& t = **transport;
    std::vector<std::string> failures;
    bool stopping = false;
    auto stop = [&] {
        if (stopping) return;
        stopping = true;
        t.close(0, "", [&] { uv_stop(loop.get()); });
    };
    replay::Run run(*script, ro, loop.get(), stop);
    quic::uv::DialOptions d;
    d.server_name = !o.sni.empty() ? o.sni : !script->sni.empty() ? script->sni : host;
    t.dial(*remote, d, [&](quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
        if (!c.ok()) {
            failures.push_back("cannot connect to " + o.connect + ": " + describe(c.error()));
            return stop();
        }
        if (o.verbose)
            std::fprintf(stderr, "* connected: %s\n", describe((*c)->details().info).c_str());
        (*c)->on_closed([&run](const quic::Error& e) { run.closed(e); });
        run.start(*c);
    });
    uv_timer_t* deadline = nullptr;
    std::function<void()> on_deadline = [&] {
        char line[64];
        std::snprintf(line, sizeof line, "timeout after %g s", o.timeout);
        failures.push_back(line);
        stop();
    };
    if (o.timeout > 0) {
        deadline = new_handle<uv_timer_t>();
        uv_timer_init(loop.get(), deadline);
        deadline->data = &on_deadline;
        uv_timer_start(deadline, run_data<uv_timer_t>, static_cast<uint64_t>(o.timeout * 1000), 0);
    }
    uv_run(loop.get(), UV_RUN_DEFAULT);
    close_handle(deadline);
    failures.insert(failures.begin(), run.failures().begin(), run.failures().end());
    if (o.json) {
        print_json(o, *script, &run, failures);
    } else {
        for (const std::string& line : run.responses()) std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
    for (const std::string& f : failures) std::fprintf(stderr, "%s\n", f.c_str());
    return failures.empty() ? kOk : kFailure;
}

}  // namespace

Command register_replay(CLI::App& app) {
    auto o = std::make_shared<ReplayOptions>();
    CLI::App* sub = app.add_subcommand(
        "replay", "Perform a script of HTTP/3 actions on one connection and check expectations");
    sub->footer(
        "The script format is in docs/replay.md.\n"
        "Exit codes: 0 every expectation held; 1 an expectation failed (one line each on stderr)\n"
        "or the connection could not be made; 2 usage error or a malformed script.");
    sub->add_option(
           "file", o->file,
           "The script (one JSON object per line), a quiver client --record recording, or a "
           "quic-go / ngtcp2 client qlog")
        ->required();
    sub->add_option("--connect", o->connect, "HOST:PORT of the server")->required();
    sub->add_option("--authority", o->authority,
                    "Replaces {authority} in field values (default: HOST:PORT of --connect)");
    sub->add_option("--sni", o->sni,
                    "TLS server name (default: a recording's, else HOST of --connect)");
    sub->add_option("--timing", o->timing,
                    "recorded: perform actions at their 'time'; asap: one after the other")
        ->check(CLI::IsMember({"recorded", "asap"}));
    sub->add_option("--alpn", o->alpn,
                    "Application protocol to offer (default: a recording's, else h3)");
    sub->add_option("--path", o->path,
                    "FILE is a quic-go or ngtcp2 client qlog without HTTP/3 events: request this "
                    "path on each of its request streams (default /)");
    sub->add_flag("-k,--insecure", o->insecure, "Do not verify the server's certificate");
    sub->add_option("--cacert", o->cacert, "Verify the server with the CAs in FILE (PEM)")
        ->check(CLI::ExistingFile);
    sub->add_option("--keylog", o->keylog, "Append TLS secrets to FILE (default: $SSLKEYLOGFILE)");
    sub->add_flag("--json", o->json,
                  "Print one JSON object: pass, failures, the server's reactions, responses");
    sub->add_option("--timeout", o->timeout, "Give up after SECONDS in all (default: none)")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--linger", o->linger,
                    "After the last action, wait this long at most for responses still due "
                    "(default 10 s)")
        ->check(CLI::Range(0.0, 600.0));
    sub->add_flag("-v,--verbose", o->verbose, "Frames and actions, both ways, on stderr");
    add_transport_options(sub, o->transport);
    add_qlog_options(sub, o->qlog);
    return Command{sub, [o] { return run_replay(*o); }};
}

}  // namespace quiver
