#include "perf_hps.h"

#include <cmath>
#include <variant>

#include "conn_log.h"
#include "quic/uv/clock.h"
#include "uv_handles.h"

namespace quiver {

using quic::uv::clock_now;

HandshakeLoad::HandshakeLoad(uv_loop_t* loop, quic::uv::Transport& transport,
                             quic::SocketAddress remote, std::string server_name,
                             const PerfClientOptions& options, uint64_t count, uint64_t close_code,
                             std::shared_ptr<TicketWatch> tickets, Recorder& recorder,
                             std::optional<quic::perf::Request> request)
    : loop_(loop),
      transport_(transport),
      remote_(remote),
      server_name_(std::move(server_name)),
      options_(options),
      count_(count),
      close_code_(close_code),
      tickets_(std::move(tickets)),
      recorder_(recorder),
      request_(std::move(request)) {}

HandshakeLoad::~HandshakeLoad() {
    close_handle(end_timer_);
    close_handle(ticket_timer_);
}

void HandshakeLoad::start() {
    const quic::Time now = clock_now();
    if (reporter_) reporter_->start(now);
    if (options_.duration > 0) {
        on_end_ = [this] { end_load(); };
        end_timer_ = start_timer(
            loop_, on_end_,
            static_cast<uint64_t>(std::llround((options_.warmup + options_.duration) * 1000)));
    }
    busy_.assign(options_.connections, false);
    generation_.assign(options_.connections, 0);
    early_.assign(options_.connections, Early{});
    // With --resume the first connection fetches the ticket alone; the others follow it.
    const size_t first = tickets_ && !tickets_->has_ticket() ? 1 : busy_.size();
    for (size_t i = 0; i < first; ++i) dial(i);
}

void HandshakeLoad::dial(size_t slot) {
    if (stopping_ || (count_ && counters_.connections >= count_)) {
        busy_[slot] = false;
        return maybe_finish();
    }
    busy_[slot] = true;
    ++counters_.connections;
    if (request_) return dial_with_request(slot);
    const quic::Time started = clock_now();
    quic::uv::DialOptions d;
    d.server_name = server_name_;
    transport_.dial(remote_, d,
                    [this, slot, started](auto c) { on_dialed(slot, started, std::move(c)); });
}

void HandshakeLoad::on_dialed(size_t slot, quic::Time started,
                              quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
    if (!c.ok()) {
        ++counters_.handshake_failures;
        if (failure_.empty() && ++consecutive_failures_ >= kMaxConsecutiveFailures) {
            failure_ = "cannot connect: " + describe(c.error());
            end_load();
        }
        return dial(slot);
    }
    consecutive_failures_ = 0;
    recorder_.record_handshake(clock_now() - started);
    // The handshake counts once the server has confirmed it (HANDSHAKE_DONE, RFC 9001
    // §4.1.2): closing at once would leave our Finished unsent, and the server would never
    // see the connection complete.
    std::shared_ptr<quic::uv::Connection> conn = std::move(c).value();
    const uint64_t generation = ++generation_[slot];
    std::weak_ptr<quic::uv::Connection> weak = conn;
    conn->on_closed([this, slot, generation](const quic::Error&) {
        if (generation_[slot] != generation || finished_) return;
        ++generation_[slot];
        ++counters_.handshake_failures;  // closed before the server confirmed
        dial(slot);
    });
    auto watch = [this, slot, generation, weak](quic::Time) {
        auto me = weak.lock();
        while (me && generation_[slot] == generation) {
            auto ev = me->core().poll_event();
            if (!ev) return;
            if (std::holds_alternative<quic::HandshakeConfirmed>(*ev)) on_confirmed(slot, me);
        }
    };
    conn->take_events(watch);
    watch(clock_now());  // what arrived with the end of the handshake
}

// --0rtt: the request goes with the first flight (0-RTT) when the ticket allows, else once the
// handshake completes (on_credit).
void HandshakeLoad::dial_with_request(size_t slot) {
    quic::uv::DialOptions d;
    d.server_name = server_name_;
    const quic::Time started = clock_now();
    auto c = transport_.dial_early(remote_, d);
    if (!c.ok()) {
        ++counters_.handshake_failures;
        // A dial that fails at once would otherwise recurse without end: stop after so many.
        if (++consecutive_failures_ >= kMaxConsecutiveFailures) {
            if (failure_.empty()) failure_ = "cannot connect: " + describe(c.error());
            end_load();
        }
        return dial(slot);
    }
    const uint64_t generation = ++generation_[slot];
    auto mine = [this, slot, generation] { return generation_[slot] == generation; };
    PerfConnection::Handler h;
    h.on_handshake = [this, slot, mine](PerfConnection&) {
        if (!mine()) return;
        consecutive_failures_ = 0;
        recorder_.record_handshake(clock_now() - early_[slot].started);
    };
    h.on_credit = [this, slot, mine](PerfConnection&) {
        if (mine() && !early_[slot].sent) send_request(slot);
    };
    h.on_done = [this, slot, mine](PerfConnection&, const quic::perf::RequestDone& e) {
        if (mine()) on_request_done(slot, e);
    };
    h.on_confirmed = [this, slot, mine](PerfConnection&) {
        if (!mine()) return;
        early_[slot].confirmed = true;
        maybe_done(slot);
    };
    early_[slot] = Early{PerfConnection::create(*c, std::move(h)), started};
    (*c)->on_closed([this, slot, generation](const quic::Error& why) {
        if (generation_[slot] != generation || finished_) return;
        ++generation_[slot];
        ++counters_.handshake_failures;  // closed before the response and the confirmation
        if (failure_.empty() && ++consecutive_failures_ >= kMaxConsecutiveFailures) {
            failure_ = "connection closed: " + describe(why);
            end_load();
        }
        early_[slot].perf.reset();
        dial(slot);
    });
    send_request(slot);
}

void HandshakeLoad::send_request(size_t slot) {
    Early& e = early_[slot];
    auto id = e.perf->request(*request_);
    if (!id.ok() && id.error().kind == quic::ErrorKind::kWouldBlock) return;  // on_credit
    e.sent = true;
    if (id.ok()) return;
    ++counters_.request_errors;
    if (failure_.empty()) failure_ = "cannot send a request: " + describe(id.error());
    e.done = true;
    maybe_done(slot);
}

void HandshakeLoad::on_request_done(size_t slot, const quic::perf::RequestDone& d) {
    Early& e = early_[slot];
    e.done = true;
    counters_.bytes_sent += d.uploaded;
    counters_.bytes_received += d.downloaded;
    if (d.end == quic::perf::RequestEnd::kComplete) {
        ++counters_.requests;
        recorder_.record_latency(d.completed - e.started);
    } else {
        ++counters_.request_errors;
        if (failure_.empty())
            failure_ = "request on stream " + std::to_string(d.stream_id) + ": " +
                       quic::perf::request_end_name(d.end);
    }
    maybe_done(slot);
}

// The response is in and the server confirmed the handshake: the connection is done.
void HandshakeLoad::maybe_done(size_t slot) {
    Early& e = early_[slot];
    if (!e.done || !e.confirmed) return;
    std::shared_ptr<quic::uv::Connection> conn = e.perf->shared_connection();
    on_confirmed(slot, std::move(conn));
}

void HandshakeLoad::on_confirmed(size_t slot, std::shared_ptr<quic::uv::Connection> conn) {
    ++counters_.handshakes;
    count_resumption(counters_, conn->details().info);
    if (tickets_ && !tickets_->has_ticket()) {
        // The first --resume connection: wait for the ticket, then let every slot go.
        waiting_for_ticket_ = conn;
        waiting_slot_ = slot;
        auto release = [this] {
            close_handle(ticket_timer_);
            ticket_timer_ = nullptr;
            auto c2 = std::move(waiting_for_ticket_);
            waiting_for_ticket_ = nullptr;
            if (!c2) return;
            if (!tickets_->has_ticket() && failure_.empty())
                failure_ = "--resume: the server sent no session ticket";
            close(waiting_slot_, c2);
            for (size_t i = 0; i < busy_.size(); ++i)
                if (i != waiting_slot_ && !busy_[i]) dial(i);
        };
        tickets_->on_ticket(release);
        on_ticket_timeout_ = release;
        ticket_timer_ = start_timer(loop_, on_ticket_timeout_,
                                    static_cast<uint64_t>(kTicketWaitSeconds * 1000));
        return;
    }
    close(slot, std::move(conn));
}

void HandshakeLoad::close(size_t slot, std::shared_ptr<quic::uv::Connection> c) {
    ++generation_[slot];  // its callbacks are done
    if (request_) early_[slot].perf.reset();
    c->take_events(nullptr);
    const quic::ConnectionStats st = c->stats();
    counters_.packets_sent += st.packets_sent;
    counters_.packets_lost += st.packets_lost;
    c->close(close_code_, "");
    dial(slot);
}

void HandshakeLoad::end_load() {
    if (stopping_) return;
    stopping_ = true;
    maybe_finish();
}

// Every slot idle: the handshakes in flight when the load stopped have ended too.
void HandshakeLoad::maybe_finish() {
    for (bool b : busy_)
        if (b) return;
    finish();
}

void HandshakeLoad::finish() {
    if (finished_) return;
    finished_ = true;
    close_handle(end_timer_);
    close_handle(ticket_timer_);
    end_timer_ = ticket_timer_ = nullptr;
    if (reporter_) reporter_->finish(clock_now());
    transport_.close(close_code_, "done", [this] { uv_stop(loop_); });
}

Totals HandshakeLoad::snapshot() const {
    return counters_;
}

}  // namespace quiver
