#include "perf_h3.h"

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "conn_log.h"
#include "hq_interop.h"
#include "perf_connection.h"
#include "perf_report.h"
#include "quic/http3/client.h"
#include "quic/http3/error.h"
#include "quic/uv/clock.h"
#include "url.h"
#include "uv_handles.h"

namespace quiver {
namespace {

using quic::uv::clock_now;

struct H3Options {
    PerfClientOptions common;
    std::vector<std::string> urls;
    uint64_t requests = 0;  // -n (0 with --duration: no limit)
    size_t streams = 1;     // -m
    std::string method = "GET";
};

constexpr uint64_t kH3NoError = quic::h3::to_underlying(quic::h3::H3Error::kNoError);

class H3Load {
  public:
    H3Load(uv_loop_t* loop, quic::uv::Transport& transport, quic::SocketAddress remote,
           std::string host, std::string authority, const H3Options& o, Recorder& recorder,
           std::shared_ptr<TicketWatch> tickets)
        : loop_(loop),
          transport_(transport),
          remote_(remote),
          host_(std::move(host)),
          authority_(std::move(authority)),
          o_(o),
          recorder_(recorder),
          tickets_(std::move(tickets)),
          buf_(64 * 1024) {}
    ~H3Load() { close_handle(end_timer_); }

    void set_reporter(Reporter* r) { reporter_ = r; }
    void start() {
        conns_.resize(o_.common.connections);
        if (o_.common.zero_rtt && tickets_ && !tickets_->has_ticket()) {
            ticket_fetch_ = std::make_unique<TicketFetch>(loop_, transport_, tickets_);
            return ticket_fetch_->start(remote_, host_,
                                        [this](const std::string& error, bool connected) {
                                            if (failure_.empty()) failure_ = error;
                                            connected ? dial_all() : finish();
                                        });
        }
        dial_all();
    }
    void stop() { finish(); }
    Totals snapshot() const {
        Totals t = counters_;
        for (const Conn& c : conns_) {
            if (!c.client) continue;
            const quic::ConnectionStats st = c.client->connection().stats();
            t.packets_sent += st.packets_sent;
            t.packets_lost += st.packets_lost;
        }
        return t;
    }
    int exit_code() const {
        return failure_.empty() && counters_.requests > 0 && counters_.request_errors == 0 ? 0 : 1;
    }
    const std::string& failure() const { return failure_; }

  private:
    struct Conn {
        std::shared_ptr<quic::h3::Client> client;
        size_t in_flight = 0;
        bool closed = false;
        bool handshaken = false;
    };

    void dial_all() {
        pending_ = conns_.size();
        for (size_t i = 0; i < conns_.size(); ++i) {
            ++counters_.connections;
            const quic::Time started = clock_now();
            quic::uv::DialOptions d;
            d.server_name = host_;
            if (o_.common.zero_rtt) {
                dial_early(i, started, transport_.dial_early(remote_, d));
                continue;
            }
            transport_.dial(remote_, d,
                            [this, i, started](auto c) { on_dialed(i, started, std::move(c)); });
        }
        // Early connections take requests at once: 0-RTT carries them when the ticket allows.
        if (o_.common.zero_rtt && !finished_) begin();
    }

    // --0rtt: the connection is used before its handshake completes, which is counted then.
    void dial_early(size_t i, quic::Time started,
                    quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
        --pending_;
        if (!c.ok()) return failed(i, c.error());
        std::weak_ptr<quic::uv::Connection> weak = *c;
        (*c)->on_handshake_completed([this, i, started, weak] {
            auto me = weak.lock();
            if (!me || finished_) return;
            conns_[i].handshaken = true;
            handshaken(started, *me);
        });
        adopt(i, *c);
    }

    void on_dialed(size_t i, quic::Time started,
                   quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
        --pending_;
        if (!c.ok()) {
            failed(i, c.error());
        } else {
            conns_[i].handshaken = true;
            handshaken(started, **c);
            adopt(i, *c);
        }
        if (pending_ == 0) begin();
    }

    void failed(size_t i, const quic::Error& e) {
        ++counters_.handshake_failures;
        conns_[i].closed = true;
        if (failure_.empty()) failure_ = "cannot connect: " + describe(e);
    }

    void handshaken(quic::Time started, quic::uv::Connection& c) {
        ++counters_.handshakes;
        count_resumption(counters_, c.details().info);
        recorder_.record_handshake(clock_now() - started);
    }

    void adopt(size_t i, std::shared_ptr<quic::uv::Connection> conn) {
        conn->on_closed([this, i](const quic::Error& why) {
            conns_[i].closed = true;
            if (finished_) return;
            if (!conns_[i].handshaken) ++counters_.handshake_failures;
            if (failure_.empty()) failure_ = "connection closed: " + describe(why);
            for (const Conn& other : conns_)
                if (!other.closed) return;
            finish();
        });
        conns_[i].client = quic::h3::Client::create(conn);
        // Not before the load begins: requests made then would count in the summary but in no
        // interval (the reporter starts with the load).
        conns_[i].client->on_streams_available([this, i] {
            if (begun_) fill(conns_[i]);
        });
    }

    void begin() {
        bool any = false;
        for (const Conn& c : conns_) any |= !c.closed;
        if (!any || finished_) return finish();
        const quic::Time now = clock_now();
        if (reporter_) reporter_->start(now);
        begun_ = true;
        if (o_.common.duration > 0) {
            on_end_ = [this] { finish(); };
            end_timer_ =
                start_timer(loop_, on_end_,
                            static_cast<uint64_t>((o_.common.warmup + o_.common.duration) * 1000));
        }
        for (Conn& c : conns_)
            if (!c.closed) fill(c);
    }

    bool more_allowed() const { return o_.requests == 0 || issued_ < o_.requests; }

    // Keeps -m requests in flight on the connection.
    void fill(Conn& c) {
        while (!finished_ && !c.closed && c.in_flight < o_.streams && more_allowed()) {
            const std::string& path = paths_[issued_ % paths_.size()];
            quic::h3::Request req{o_.method, "https", authority_, path, {}};
            auto s = c.client->request(req);
            if (!s.ok()) {
                if (s.error().kind == quic::ErrorKind::kWouldBlock) return;
                ++counters_.request_errors;
                if (failure_.empty()) failure_ = "cannot send a request: " + describe(s.error());
                c.closed = true;
                return;
            }
            ++issued_;
            ++c.in_flight;
            watch(c, **s, clock_now());
        }
    }

    void watch(Conn& c, quic::h3::ClientStream& s, quic::Time sent) {
        Conn* cp = &c;
        // The status counts once the response is whole, as the request does: a run that ends
        // between the two counts neither (statuses add up to the requests).
        auto status = std::make_shared<unsigned>(0);
        s.on_response([this, sent, status](quic::h3::ClientStream&, const quic::h3::Response& r) {
            if (finished_) return;
            recorder_.record_ttfb(clock_now() - sent);
            *status = static_cast<unsigned>(r.status);
        });
        s.on_body([this](quic::h3::ClientStream& st) { read(st); });
        s.on_complete([this, cp, sent, status](quic::h3::ClientStream& st, const quic::Error* e) {
            if (finished_) return;
            --cp->in_flight;
            if (!e) {
                read(st);
                ++counters_.requests;
                ++recorder_.statuses[*status];
                recorder_.record_latency(clock_now() - sent);
            } else {
                ++counters_.request_errors;
                if (failure_.empty())
                    failure_ = "request on stream " + std::to_string(st.id()) + ": " +
                               (e->kind == quic::ErrorKind::kStreamReset
                                    ? std::string("reset with ") + quic::h3::h3_error_name(e->code)
                                    : describe(*e));
            }
            if (more_allowed()) return fill(*cp);
            for (const Conn& x : conns_)
                if (!x.closed && x.in_flight) return;
            finish();
        });
    }

    void read(quic::h3::ClientStream& s) {
        for (;;) {
            bool fin = false;
            auto n = s.read_body(buf_, &fin);
            if (!n.ok() || *n == 0) return;
            counters_.bytes_received += *n;
            if (fin) return;
        }
    }

    void finish() {
        if (finished_) return;
        finished_ = true;
        close_handle(end_timer_);
        end_timer_ = nullptr;
        if (ticket_fetch_) ticket_fetch_->cancel();
        if (reporter_ && begun_) reporter_->finish(clock_now());
        transport_.close(kH3NoError, "done", [this] { uv_stop(loop_); });
    }

  public:
    std::vector<std::string> paths_;

  private:
    uv_loop_t* loop_;
    quic::uv::Transport& transport_;
    quic::SocketAddress remote_;
    std::string host_, authority_;
    const H3Options& o_;
    Recorder& recorder_;
    std::shared_ptr<TicketWatch> tickets_;
    std::unique_ptr<TicketFetch> ticket_fetch_;  // --0rtt
    Reporter* reporter_ = nullptr;
    std::vector<Conn> conns_;
    size_t pending_ = 0;
    Totals counters_;
    uint64_t issued_ = 0;
    bool begun_ = false, finished_ = false;
    std::string failure_;
    std::vector<uint8_t> buf_;
    uv_timer_t* end_timer_ = nullptr;
    std::function<void()> on_end_;
};

int fail(const std::string& message, int code = 1) {
    std::fprintf(stderr, "quiver perf h3: %s\n", message.c_str());
    return code;
}

int run_h3(const H3Options& o) {
    std::string error;
    std::vector<Url> urls;
    for (const std::string& text : o.urls) {
        auto u = parse_url(text, error);
        if (!u) return fail("bad URL " + text + ": " + error, 2);
        if (!urls.empty() && (u->host != urls[0].host || u->port != urls[0].port))
            return fail("all URLs must name the same server", 2);
        urls.push_back(*u);
    }
    if (o.requests == 0 && o.common.duration <= 0) return fail("say -n or --duration", 2);
    auto remote = resolve(urls[0].host, urls[0].port, error);
    if (!remote) return fail("cannot resolve " + urls[0].host + ": " + error);
    std::string authority =
        urls[0].host.find(':') != std::string::npos ? "[" + urls[0].host + "]" : urls[0].host;
    if (urls[0].port != 443) authority += ":" + std::to_string(urls[0].port);

    QlogSession qlog;  // outlives the transport: its traces are written when it ends
    Loop loop;
    std::shared_ptr<TicketWatch> tickets = make_ticket_watch(o.common, false);
    auto transport = make_client_transport(loop.get(), *remote, o.common, qlog, {kH3Alpn}, tickets,
                                           o.common.zero_rtt);
    if (!transport.ok())
        return fail(transport.error().reason.empty() ? transport.error().to_string()
                                                     : transport.error().reason);
    Recorder recorder;
    H3Load load(loop.get(), **transport, *remote, urls[0].host, authority, o, recorder, tickets);
    for (const Url& u : urls) load.paths_.push_back(u.path);
    ReportOptions ro;
    ro.mode = "h3";
    ro.interval = o.common.interval;
    ro.warmup = o.common.warmup;
    ro.json = o.common.json;
    ro.quiet = o.common.quiet;
    ro.config = {{"urls", o.urls},
                 {"requests", o.requests},
                 {"connections", o.common.connections},
                 {"streams", o.streams},
                 {"duration_s", o.common.duration},
                 {"zero_rtt", o.common.zero_rtt}};
    Reporter reporter(loop.get(), ro, recorder, [&] { return load.snapshot(); });
    load.set_reporter(&reporter);

    std::function<void()> on_signal = [&] { load.stop(); };
    auto* sigint = new_handle<uv_signal_t>();
    uv_signal_init(loop.get(), sigint);
    sigint->data = &on_signal;
    uv_signal_start(sigint, run_data<uv_signal_t, int>, SIGINT);

    load.start();
    uv_run(loop.get(), UV_RUN_DEFAULT);
    close_handle(sigint);
    if (!load.failure().empty()) fail(load.failure());
    return load.exit_code();
}

}  // namespace

std::function<int()> register_perf_h3(CLI::App* perf) {
    auto o = std::make_shared<H3Options>();
    CLI::App* sub = perf->add_subcommand(
        "h3", "HTTP/3 load on any server (h2load-like): requests/s, ttfb and latency percentiles");
    sub->footer(
        "Each of -c connections keeps -m requests in flight, the URLs taken in turn, until -n\n"
        "requests were made or --duration ends. Exit codes: 0 every request got a whole\n"
        "response (any status), 1 otherwise, 2 usage error.");
    sub->add_option("url", o->urls, "https://host[:port]/path (all on the same server)")
        ->required();
    sub->add_option("-n,--requests", o->requests, "Requests in all (default: until --duration)");
    sub->add_option("-c,--clients,--connections", o->common.connections,
                    "Connections in parallel (default 1)")
        ->check(CLI::Range(size_t{1}, size_t{100000}));
    sub->add_option("-m,--max-concurrent-streams", o->streams,
                    "Requests in flight per connection (default 1)")
        ->check(CLI::Range(size_t{1}, size_t{10000}));
    sub->add_option("--method", o->method, "Request method (default GET)");
    sub->add_flag("--0rtt", o->common.zero_rtt,
                  "Send the first requests in 0-RTT: an untimed first connection fetches the "
                  "ticket");
    sub->add_option("--session-file", o->common.session_file,
                    "Keep the session ticket in FILE between runs (resumption, 0-RTT)");
    add_perf_client_options(sub, o->common, false);
    return [o] { return run_h3(*o); };
}

}  // namespace quiver
