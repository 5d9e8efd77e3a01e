// The request-driven modes of `quiver perf client`, on --connections perf connections of one
// transport:
//   bulk      --streams requests per connection, each of --download / --upload bytes, once;
//             with --duration, unlimited ones stopped when it ends (STOP_SENDING), or sized
//             ones sent again and again until then;
//   rps       --streams requests in flight per connection, each answered by the next (closed
//             loop), for --duration or --count requests;
//   rate      requests sent at a fixed rate over all connections (open loop): a request is due
//             at its scheduled time whether or not earlier ones have been answered, and its
//             latency counts from then, so a slow server cannot hide its queueing
//             (coordinated omission);
//   scenario  each connection runs a scenario (perf_scenario.h);
//   hold      no request: the connections are held open for --duration (--hold), idle, for
//             memory per connection and endpoint cost with many connections (scripts/load).
// Connections are dialed at most --dial-window at a time (a server bounds half-open
// connections per source: endpoint.h, kDefaultMaxHalfOpenPerSource).
// Latency is a request's completion minus the time it was due (rate) or queued (the others).
// With --0rtt an untimed first connection fetches a session ticket, then every connection is
// dialled early (Transport::dial_early) and the load starts at once: the first requests go in
// 0-RTT, or wait for the handshake when the ticket does not allow early data.
#pragma once

#include <uv.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "perf_connection.h"
#include "perf_report.h"
#include "perf_scenario.h"

namespace quiver {

enum class LoadKind { kBulk, kRps, kRate, kScenario, kHold };

struct LoadSpec {
    LoadKind kind = LoadKind::kBulk;
    quic::perf::Request request;  // bulk, rps, rate
    size_t streams = 1;           // bulk, rps: requests in flight per connection
    bool repeat = false;          // bulk: send sized requests again until --duration ends
    uint64_t count = 0;           // rps, rate, scenario: stop after this many requests (0: no)
    double rate = 0;              // rate: requests per second, all connections together
    Scenario scenario;
};

// Requests a connection keeps queued while waiting for stream credit (rate mode): a second of
// a fast rate. Beyond it a request is dropped and counted (Totals::dropped), so an unanswering
// server cannot make the client grow without bound.
inline constexpr size_t kMaxBacklog = 100000;
// After the load stops, how long requests still in flight (bulk uploads ending with FIN, rate
// and --count runs) may take before the run ends without them.
inline constexpr double kDrainSeconds = 5.0;

class RequestLoad {
  public:
    RequestLoad(uv_loop_t* loop, quic::uv::Transport& transport, quic::SocketAddress remote,
                std::string server_name, LoadSpec spec, const PerfClientOptions& options,
                Recorder& recorder, std::shared_ptr<TicketWatch> tickets = {});
    ~RequestLoad();
    RequestLoad(const RequestLoad&) = delete;
    RequestLoad& operator=(const RequestLoad&) = delete;

    void set_reporter(Reporter* r) { reporter_ = r; }
    // Dials every connection; the load starts once they are all up (or failed).
    void start();
    // Ends the run early (SIGINT): as if --duration had just ended.
    void stop() { end_load(); }
    Totals snapshot() const;
    // 0 when every request ended well (and, for a sized bulk run, all of them completed).
    int exit_code() const;
    // The first thing that went wrong ("" when nothing did).
    const std::string& failure() const { return failure_; }

  private:
    struct Queued {
        quic::perf::Request request;
        quic::Time due;
        size_t entry = 0;  // scenario entry
    };
    struct InFlight {
        quic::Time due;
        size_t entry = 0;
    };
    struct Conn {
        std::shared_ptr<PerfConnection> perf;
        std::deque<Queued> queue;
        std::map<uint64_t, InFlight> in_flight;
        bool closed = false;
        bool handshaken = false;  // --0rtt: the handshake of the early connection completed
        quic::Time dialed{};
        // Scenario progress: copies of each entry completed in this pass; passes begun.
        std::vector<size_t> entry_done;
        size_t scenario_left = 0;
    };

    void dial_all();
    void dial(size_t index);
    void dial_early(size_t index);
    PerfConnection::Handler handler();
    void watch_close(size_t index);
    void on_dialed(size_t index, quic::Time started,
                   quic::Result<std::shared_ptr<quic::uv::Connection>> c);
    void begin();
    void enqueue(Conn& c, const quic::perf::Request& r, quic::Time due, size_t entry = 0);
    void pump(Conn& c);
    void on_done(Conn& c, const quic::perf::RequestDone& d);
    void after_done(Conn& c, size_t entry);
    void start_scenario(Conn& c, quic::Time now);
    void on_rate_tick();
    void end_load();
    void drain_or_finish();
    void finish();
    bool more_allowed() const;
    size_t open_connections() const;  // handshakes completed, not closed since
    Conn* conn_of(PerfConnection& p);

    uv_loop_t* loop_;
    quic::uv::Transport& transport_;
    quic::SocketAddress remote_;
    std::string server_name_;
    LoadSpec spec_;
    const PerfClientOptions& options_;
    Recorder& recorder_;
    std::shared_ptr<TicketWatch> tickets_;
    Reporter* reporter_ = nullptr;

    std::vector<Conn> conns_;
    std::unique_ptr<TicketFetch> ticket_fetch_;  // --0rtt
    size_t dials_pending_ = 0;  // connections not dialed yet or whose dial is in flight
    size_t next_dial_ = 0;      // the next connection to dial
    Totals counters_;           // event counters; bytes and packets come from the connections
    uint64_t issued_ = 0;       // requests queued so far (for --count and the rate)
    uint64_t expected_ = 0;     // bulk without --duration: requests that must complete
    bool begun_ = false, stopping_ = false, finished_ = false;
    std::string failure_;  // the first thing that went wrong
    quic::Time load_start_{};
    size_t next_conn_ = 0;  // rate: round robin

    uv_timer_t* end_timer_ = nullptr;
    uv_timer_t* rate_timer_ = nullptr;
    uv_timer_t* drain_timer_ = nullptr;
    std::function<void()> on_end_, on_rate_, on_drain_;
};

}  // namespace quiver
