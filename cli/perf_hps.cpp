#include "perf_hps.h"

#include <cmath>
#include <variant>

#include "conn_log.h"
#include "quic/uv/clock.h"
#include "uv_handles.h"

namespace quiver {

using quic::uv::clock_now;

void TicketWatch::put_ticket(const std::string& server, quic::Bytes ticket) {
    inner_.put_ticket(server, std::move(ticket));
    has_ticket_ = true;
    if (on_ticket_) {
        auto cb = std::move(on_ticket_);
        on_ticket_ = nullptr;
        cb();
    }
}

HandshakeLoad::HandshakeLoad(uv_loop_t* loop, quic::uv::Transport& transport,
                             quic::SocketAddress remote, std::string server_name,
                             const PerfClientOptions& options, uint64_t count, uint64_t close_code,
                             std::shared_ptr<TicketWatch> tickets, Recorder& recorder)
    : loop_(loop),
      transport_(transport),
      remote_(remote),
      server_name_(std::move(server_name)),
      options_(options),
      count_(count),
      close_code_(close_code),
      tickets_(std::move(tickets)),
      recorder_(recorder) {}

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

void HandshakeLoad::on_confirmed(size_t slot, std::shared_ptr<quic::uv::Connection> conn) {
    ++counters_.handshakes;
    if (conn->details().info.resumed) ++counters_.resumed;
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
