#include "perf_load.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "conn_log.h"
#include "quic/uv/clock.h"
#include "uv_handles.h"

namespace quiver {
namespace {

using quic::perf::RequestEnd;
using quic::uv::clock_now;

}  // namespace

RequestLoad::RequestLoad(uv_loop_t* loop, quic::uv::Transport& transport,
                         quic::SocketAddress remote, std::string server_name, LoadSpec spec,
                         const PerfClientOptions& options, Recorder& recorder,
                         std::shared_ptr<TicketWatch> tickets)
    : loop_(loop),
      transport_(transport),
      remote_(remote),
      server_name_(std::move(server_name)),
      spec_(std::move(spec)),
      options_(options),
      recorder_(recorder),
      tickets_(std::move(tickets)) {}

RequestLoad::~RequestLoad() {
    close_handle(end_timer_);
    close_handle(rate_timer_);
    close_handle(drain_timer_);
}

void RequestLoad::start() {
    conns_.resize(options_.connections);
    if (options_.zero_rtt && tickets_ && !tickets_->has_ticket()) {
        ticket_fetch_ = std::make_unique<TicketFetch>(loop_, transport_, tickets_);
        return ticket_fetch_->start(remote_, server_name_,
                                    [this](const std::string& error, bool connected) {
                                        if (failure_.empty()) failure_ = error;
                                        connected ? dial_all() : finish();
                                    });
    }
    dial_all();
}

void RequestLoad::dial_all() {
    dials_pending_ = conns_.size();
    if (options_.zero_rtt) {
        // Early connections take requests at once: 0-RTT carries them when the ticket allows.
        for (size_t i = 0; i < conns_.size(); ++i) dial_early(i);
        if (!finished_) begin();
        return;
    }
    const size_t window = options_.dial_window ? options_.dial_window : conns_.size();
    while (next_dial_ < conns_.size() && next_dial_ < window) dial(next_dial_++);
}

void RequestLoad::dial(size_t index) {
    ++counters_.connections;
    const quic::Time started = clock_now();
    quic::uv::DialOptions d;
    d.server_name = server_name_;
    transport_.dial(remote_, d,
                    [this, index, started](auto c) { on_dialed(index, started, std::move(c)); });
}

void RequestLoad::dial_early(size_t index) {
    ++counters_.connections;
    --dials_pending_;
    Conn& conn = conns_[index];
    conn.dialed = clock_now();
    quic::uv::DialOptions d;
    d.server_name = server_name_;
    auto c = transport_.dial_early(remote_, d);
    if (!c.ok()) {
        ++counters_.handshake_failures;
        conn.closed = true;
        if (failure_.empty()) failure_ = "cannot connect: " + describe(c.error());
        return;
    }
    PerfConnection::Handler h = handler();
    h.on_handshake = [this](PerfConnection& p) {
        Conn* cn = conn_of(p);
        if (!cn || cn->handshaken) return;
        cn->handshaken = true;
        ++counters_.handshakes;
        count_resumption(counters_, p.connection().details().info);
        recorder_.record_handshake(clock_now() - cn->dialed);
    };
    conn.perf = PerfConnection::create(*c, std::move(h));
    watch_close(index);
}

PerfConnection::Handler RequestLoad::handler() {
    PerfConnection::Handler h;
    h.on_done = [this](PerfConnection& p, const quic::perf::RequestDone& d) {
        if (Conn* cn = conn_of(p)) on_done(*cn, d);
    };
    h.on_credit = [this](PerfConnection& p) {
        if (Conn* cn = conn_of(p)) pump(*cn);
    };
    return h;
}

void RequestLoad::watch_close(size_t index) {
    conns_[index].perf->connection().on_closed([this, index](const quic::Error& why) {
        Conn& c = conns_[index];
        c.closed = true;
        if (finished_) return;
        if (options_.zero_rtt && !c.handshaken) ++counters_.handshake_failures;
        if (failure_.empty()) failure_ = "connection closed: " + describe(why);
        for (const Conn& other : conns_)
            if (!other.closed) return;
        finish();  // nothing left to measure with
    });
}

void RequestLoad::on_dialed(size_t index, quic::Time started,
                            quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
    --dials_pending_;
    Conn& conn = conns_[index];
    if (!c.ok()) {
        ++counters_.handshake_failures;
        conn.closed = true;
        if (failure_.empty()) failure_ = "cannot connect: " + describe(c.error());
    } else {
        ++counters_.handshakes;
        count_resumption(counters_, (*c)->details().info);
        recorder_.record_handshake(clock_now() - started);
        conn.perf = PerfConnection::create(*c, handler());
        watch_close(index);
    }
    if (finished_) return;
    if (next_dial_ < conns_.size()) dial(next_dial_++);  // the window moves on
    if (dials_pending_ == 0) begin();
}

RequestLoad::Conn* RequestLoad::conn_of(PerfConnection& p) {
    for (Conn& c : conns_)
        if (c.perf.get() == &p) return &c;
    return nullptr;
}

void RequestLoad::begin() {
    const quic::Time now = clock_now();
    bool any = false;
    for (const Conn& c : conns_) any |= !c.closed;
    if (!any || stopping_) return finish();
    begun_ = true;
    load_start_ = now;
    if (reporter_) reporter_->start(now);
    if (options_.duration > 0) {
        on_end_ = [this] { end_load(); };
        end_timer_ = start_timer(loop_, on_end_, ms_of(options_.warmup + options_.duration));
    }
    switch (spec_.kind) {
        case LoadKind::kBulk:
        case LoadKind::kRps:
            for (Conn& c : conns_) {
                if (c.closed) continue;
                for (size_t s = 0; s < spec_.streams && more_allowed(); ++s) {
                    enqueue(c, spec_.request, now);
                    if (spec_.kind == LoadKind::kBulk && !spec_.repeat) ++expected_;
                }
            }
            break;
        case LoadKind::kRate:
            on_rate_ = [this] { on_rate_tick(); };
            // libuv timers tick in milliseconds: each tick sends every request due by then,
            // each with its own due time, so the rate holds above 1000/s too.
            rate_timer_ = start_timer(loop_, on_rate_, 0, 1);
            break;
        case LoadKind::kScenario:
            for (Conn& c : conns_)
                if (!c.closed) start_scenario(c, now);
            break;
        case LoadKind::kHold:
            // For scripts (scripts/load): from here on every connection that could be made is
            // up and idle.
            std::fprintf(stderr, "quiver perf client: holding %zu connections for %g s\n",
                         open_connections(), options_.duration);
            break;
    }
}

size_t RequestLoad::open_connections() const {
    size_t n = 0;
    for (const Conn& c : conns_) n += c.perf && !c.closed;
    return n;
}

bool RequestLoad::more_allowed() const {
    return spec_.count == 0 || issued_ < spec_.count;
}

void RequestLoad::enqueue(Conn& c, const quic::perf::Request& r, quic::Time due, size_t entry) {
    ++issued_;
    if (c.closed) {
        ++counters_.request_errors;
        return;
    }
    if (c.queue.size() >= kMaxBacklog) {
        ++counters_.dropped;
        return;
    }
    c.queue.push_back({r, due, entry});
    pump(c);
}

// Sends queued requests while the server's stream limit allows; on_credit resumes.
void RequestLoad::pump(Conn& c) {
    while (!c.queue.empty() && !c.closed && !finished_) {
        const Queued& q = c.queue.front();
        auto id = c.perf->request(q.request);
        if (!id.ok()) {
            if (id.error().kind == quic::ErrorKind::kWouldBlock) return;
            counters_.request_errors += c.queue.size();
            if (failure_.empty()) failure_ = "cannot send a request: " + describe(id.error());
            c.queue.clear();
            return;
        }
        c.in_flight[*id] = {q.due, q.entry};
        c.queue.pop_front();
    }
}

void RequestLoad::on_done(Conn& c, const quic::perf::RequestDone& d) {
    auto it = c.in_flight.find(d.stream_id);
    if (it == c.in_flight.end() || finished_) return;
    const InFlight f = it->second;
    c.in_flight.erase(it);
    switch (d.end) {
        case RequestEnd::kComplete:
            ++counters_.requests;
            recorder_.record_latency(d.completed - f.due);
            break;
        case RequestEnd::kStopped:
            ++counters_.stopped;
            break;
        default:
            ++counters_.request_errors;
            if (failure_.empty())
                failure_ =
                    "request on stream " + std::to_string(d.stream_id) + ": " +
                    quic::perf::request_end_name(d.end) +
                    (d.end == RequestEnd::kReset ? " with error " + std::to_string(d.error_code)
                                                 : std::string());
            break;
    }
    after_done(c, f.entry);
}

// What a completed request leads to, by mode.
void RequestLoad::after_done(Conn& c, size_t entry) {
    if (stopping_) return drain_or_finish();
    const quic::Time now = clock_now();
    auto idle = [&] {
        for (const Conn& x : conns_)
            if (!x.closed && (!x.queue.empty() || !x.in_flight.empty())) return false;
        return true;
    };
    switch (spec_.kind) {
        case LoadKind::kBulk:
            if (spec_.repeat) return enqueue(c, spec_.request, now);
            if (idle()) end_load();
            return;
        case LoadKind::kRps:
            if (more_allowed()) return enqueue(c, spec_.request, now);
            if (idle()) end_load();
            return;
        case LoadKind::kRate:
            if (!more_allowed() && idle()) end_load();
            return;
        case LoadKind::kHold:
            return;  // makes no request
        case LoadKind::kScenario: {
            const Scenario& s = spec_.scenario;
            if (++c.entry_done[entry] == s.entries[entry].repeat) {
                for (size_t i = 0; i < s.entries.size(); ++i) {
                    if (s.entries[i].after != entry) continue;
                    const quic::perf::Request r{s.entries[i].bidirectional, s.entries[i].upload,
                                                s.entries[i].download};
                    for (size_t k = 0; k < s.entries[i].repeat; ++k) enqueue(c, r, now, i);
                }
            }
            if (--c.scenario_left > 0) return;
            if (options_.duration > 0) return start_scenario(c, now);  // again until the end
            if (idle()) end_load();
            return;
        }
    }
}

void RequestLoad::start_scenario(Conn& c, quic::Time now) {
    const Scenario& s = spec_.scenario;
    c.entry_done.assign(s.entries.size(), 0);
    c.scenario_left = s.requests();
    for (size_t i = 0; i < s.entries.size(); ++i) {
        if (s.entries[i].after) continue;
        const quic::perf::Request r{s.entries[i].bidirectional, s.entries[i].upload,
                                    s.entries[i].download};
        for (size_t k = 0; k < s.entries[i].repeat; ++k) enqueue(c, r, now, i);
    }
}

// Open loop: the n-th request is due at start + n / rate, whatever happened to the others.
void RequestLoad::on_rate_tick() {
    if (stopping_) return;
    const quic::Time now = clock_now();
    const double elapsed = std::chrono::duration<double>(now - load_start_).count();
    uint64_t due = static_cast<uint64_t>(elapsed * spec_.rate) + 1;
    if (spec_.count) due = std::min(due, spec_.count);
    std::vector<size_t> live;
    for (size_t i = 0; i < conns_.size(); ++i)
        if (!conns_[i].closed) live.push_back(i);
    if (live.empty()) return;
    while (issued_ < due) {
        const auto at =
            load_start_ + std::chrono::duration_cast<quic::Duration>(
                              std::chrono::duration<double>(double(issued_) / spec_.rate));
        enqueue(conns_[live[next_conn_++ % live.size()]], spec_.request, at);
    }
    if (!more_allowed()) {
        close_handle(rate_timer_);
        rate_timer_ = nullptr;
    }
}

// The duration is over, or every request is done.
void RequestLoad::end_load() {
    if (stopping_ || finished_) return;
    stopping_ = true;
    close_handle(rate_timer_);
    rate_timer_ = nullptr;
    for (Conn& c : conns_) {
        counters_.dropped += spec_.kind == LoadKind::kRate ? c.queue.size() : 0;
        c.queue.clear();
    }
    switch (spec_.kind) {
        case LoadKind::kBulk:
            // Unlimited requests end with STOP_SENDING, unlimited uploads with their FIN (then
            // the server's answer); sized repeats are stopped too.
            for (Conn& c : conns_) {
                std::vector<uint64_t> ids;
                for (const auto& [id, f] : c.in_flight) ids.push_back(id);
                for (uint64_t id : ids)
                    if (!c.closed) c.perf->stop(id);
            }
            return drain_or_finish();
        case LoadKind::kRate:
            return drain_or_finish();  // the slowest requests count too
        case LoadKind::kRps:
        case LoadKind::kScenario:
            return finish();  // closed loops: the requests in flight are not counted
        case LoadKind::kHold:
            if (reporter_) reporter_->extra()["held"] = open_connections();
            return finish();
    }
}

void RequestLoad::drain_or_finish() {
    bool idle = true;
    for (const Conn& c : conns_) idle &= c.closed || c.in_flight.empty();
    if (idle) return finish();
    if (drain_timer_) return;
    on_drain_ = [this] { finish(); };
    drain_timer_ = start_timer(loop_, on_drain_, ms_of(kDrainSeconds));
}

void RequestLoad::finish() {
    if (finished_) return;
    finished_ = true;
    close_handle(end_timer_);
    close_handle(rate_timer_);
    close_handle(drain_timer_);
    end_timer_ = rate_timer_ = drain_timer_ = nullptr;
    if (ticket_fetch_) ticket_fetch_->cancel();
    if (reporter_ && begun_) reporter_->finish(clock_now());
    for (Conn& c : conns_)
        if (c.perf) c.perf->detach();
    transport_.close(0, "done", [this] { uv_stop(loop_); });
}

Totals RequestLoad::snapshot() const {
    Totals t = counters_;
    for (const Conn& c : conns_) {
        if (!c.perf) continue;
        t.bytes_sent += c.perf->client_stats().bytes_sent;
        t.bytes_received += c.perf->client_stats().bytes_received;
        const quic::ConnectionStats st = c.perf->connection().stats();
        t.packets_sent += st.packets_sent;
        t.packets_lost += st.packets_lost;
    }
    return t;
}

int RequestLoad::exit_code() const {
    if (!failure_.empty()) return 1;
    if (counters_.handshakes == 0) return 1;
    if (spec_.kind == LoadKind::kBulk && !spec_.repeat && options_.duration <= 0 &&
        counters_.requests != expected_)
        return 1;
    return 0;
}

}  // namespace quiver
