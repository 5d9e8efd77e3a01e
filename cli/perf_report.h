// What `quiver perf client` and `quiver perf h3` measure and how they say it: counters that
// only grow (Totals), latency histograms (quic/perf_histogram.h), and the Reporter that turns
// them into a line per interval and a final summary, as text or as newline-delimited JSON
// (one object per interval, then one summary object).
//
// Warmup: the summary covers the time after --warmup only; its counters are differences from
// a snapshot taken when the warmup ended and its histograms restart then. Intervals during
// the warmup are printed and marked as such.
#pragma once

#include <uv.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "quic/connection_info.h"
#include "quic/perf_histogram.h"
#include "quic/time.h"

namespace quiver {

// Counters of a run so far. Differences of two snapshots give an interval's.
struct Totals {
    uint64_t bytes_sent = 0, bytes_received = 0;  // payload (perf) or body (h3) bytes
    uint64_t requests = 0;                        // requests that completed (a whole response)
    uint64_t request_errors = 0;  // ended otherwise: reset, wrong size, connection closed
    uint64_t stopped = 0;         // unlimited requests ended by STOP_SENDING
    uint64_t dropped = 0;         // --rate: requests never sent (the backlog was full)
    uint64_t connections = 0;     // connection attempts (dials)
    uint64_t handshakes = 0;      // handshakes completed
    uint64_t handshake_failures = 0;
    uint64_t resumed = 0;  // handshakes that resumed a session (--resume)
    // --0rtt: handshakes whose 0-RTT data the server accepted, and those it rejected (their
    // requests went again in 1-RTT, RFC 9001 §4.6.2). Handshakes without an early-data ticket
    // are in neither.
    uint64_t zero_rtt_accepted = 0, zero_rtt_rejected = 0;
    uint64_t packets_sent = 0, packets_lost = 0;

    Totals operator-(const Totals& o) const;
    Totals& operator+=(const Totals& o);
    bool operator==(const Totals&) const = default;
};

// What a completed handshake resumed and did with 0-RTT, into `t` (resumed,
// zero_rtt_accepted, zero_rtt_rejected).
void count_resumption(Totals& t, const quic::ConnectionInfo& info);

// Histograms of a run: each value goes into the summary's histogram and the interval's.
struct Recorder {
    quic::perf::Histogram latency, ttfb, handshake;              // since the warmup
    quic::perf::Histogram latency_now, ttfb_now, handshake_now;  // this interval
    std::map<unsigned, uint64_t> statuses;                       // h3: responses by status

    void record_latency(quic::Duration d);
    void record_ttfb(quic::Duration d);
    void record_handshake(quic::Duration d);
};

struct ReportOptions {
    std::string mode;       // "bulk", "rps", "rate", "hps", "scenario", "h3"
    double interval = 1.0;  // seconds between interval lines (0: none)
    double warmup = 0;      // seconds excluded from the summary
    bool json = false;      // NDJSON on stdout (text goes to stderr unless quiet)
    bool quiet = false;     // no interval lines (the summary stays)
    nlohmann::json config;  // what was asked for, copied into the summary
};

class Reporter {
  public:
    // `snapshot` returns the totals so far (the load's counters plus its live connections').
    Reporter(uv_loop_t* loop, ReportOptions options, Recorder& recorder,
             std::function<Totals()> snapshot);
    ~Reporter();
    Reporter(const Reporter&) = delete;
    Reporter& operator=(const Reporter&) = delete;

    // The load starts: intervals count from now, the warmup ends `warmup` seconds later.
    void start(quic::Time now);
    bool started() const { return started_; }
    bool in_warmup(quic::Time now) const;
    // The load is over: the last (partial) interval, then the summary. Once.
    void finish(quic::Time now);
    // Free-form facts for the summary (h3: the URLs; hps: the ALPN), and an error count.
    nlohmann::json& extra() { return extra_; }

  private:
    void tick(quic::Time now);
    void next_interval(quic::Time now);
    void warmup_over(quic::Time now);
    void end_warmup(quic::Time now);
    void print_interval(quic::Time from, quic::Time to, const Totals& d, bool warmup);
    void print_summary(quic::Time now);
    std::FILE* text_out() const;

    uv_loop_t* loop_;
    ReportOptions options_;
    Recorder& recorder_;
    std::function<Totals()> snapshot_;
    uv_timer_t* timer_ = nullptr;  // every interval
    std::function<void()> on_timer_;
    uv_timer_t* warmup_timer_ = nullptr;  // once, at the end of the warmup
    std::function<void()> on_warmup_;
    bool started_ = false, finished_ = false, warm_ = false;
    quic::Time start_{}, last_{}, measure_start_{};
    Totals last_totals_, baseline_;
    double cpu_baseline_user_ = 0, cpu_baseline_system_ = 0;
    nlohmann::json extra_ = nlohmann::json::object();
};

// Seconds of CPU time this process used so far (getrusage): user and system.
void cpu_seconds(double& user, double& system);

}  // namespace quiver
