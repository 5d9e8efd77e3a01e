#include "perf_report.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include "quic/uv/clock.h"
#include "size_option.h"
#include "uv_handles.h"

namespace quiver {
namespace {

double seconds(quic::Duration d) {
    return std::chrono::duration<double>(d).count();
}

double mbit_per_s(uint64_t bytes, double s) {
    return s > 0 ? double(bytes) * 8 / 1e6 / s : 0.0;
}

double per_s(uint64_t n, double s) {
    return s > 0 ? double(n) / s : 0.0;
}

double ms(uint64_t ns) {
    return double(ns) / 1e6;
}

// The percentiles the perf commands report (the p50, p90, p99, p99.9, max).
nlohmann::json percentiles_json(const quic::perf::Histogram& h) {
    return {{"count", h.count()},
            {"min", ms(h.min())},
            {"mean", h.mean() / 1e6},
            {"p50", ms(h.percentile(50))},
            {"p90", ms(h.percentile(90))},
            {"p99", ms(h.percentile(99))},
            {"p99_9", ms(h.percentile(99.9))},
            {"max", ms(h.max())}};
}

std::string percentiles_text(const quic::perf::Histogram& h) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms (mean %.3f, %llu values)",
                  ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)),
                  ms(h.percentile(99.9)), ms(h.max()), h.mean() / 1e6,
                  static_cast<unsigned long long>(h.count()));
    return buf;
}

void print_json(const nlohmann::json& j) {
    std::fprintf(stdout, "%s\n", j.dump().c_str());
    std::fflush(stdout);
}

}  // namespace

Totals Totals::operator-(const Totals& o) const {
    Totals d;
    d.bytes_sent = bytes_sent - o.bytes_sent;
    d.bytes_received = bytes_received - o.bytes_received;
    d.requests = requests - o.requests;
    d.request_errors = request_errors - o.request_errors;
    d.stopped = stopped - o.stopped;
    d.dropped = dropped - o.dropped;
    d.connections = connections - o.connections;
    d.handshakes = handshakes - o.handshakes;
    d.handshake_failures = handshake_failures - o.handshake_failures;
    d.resumed = resumed - o.resumed;
    d.zero_rtt_accepted = zero_rtt_accepted - o.zero_rtt_accepted;
    d.zero_rtt_rejected = zero_rtt_rejected - o.zero_rtt_rejected;
    d.packets_sent = packets_sent - o.packets_sent;
    d.packets_lost = packets_lost - o.packets_lost;
    return d;
}

Totals& Totals::operator+=(const Totals& o) {
    bytes_sent += o.bytes_sent;
    bytes_received += o.bytes_received;
    requests += o.requests;
    request_errors += o.request_errors;
    stopped += o.stopped;
    dropped += o.dropped;
    connections += o.connections;
    handshakes += o.handshakes;
    handshake_failures += o.handshake_failures;
    resumed += o.resumed;
    zero_rtt_accepted += o.zero_rtt_accepted;
    zero_rtt_rejected += o.zero_rtt_rejected;
    packets_sent += o.packets_sent;
    packets_lost += o.packets_lost;
    return *this;
}

void count_resumption(Totals& t, const quic::ConnectionInfo& info) {
    if (info.resumed) ++t.resumed;
    if (info.early_data_accepted) ++t.zero_rtt_accepted;
    if (info.early_data_attempted && !info.early_data_accepted) ++t.zero_rtt_rejected;
}

void Recorder::record_latency(quic::Duration d) {
    const uint64_t ns = static_cast<uint64_t>(std::max<int64_t>(0, d.count()));
    latency.record(ns);
    latency_now.record(ns);
}

void Recorder::record_ttfb(quic::Duration d) {
    const uint64_t ns = static_cast<uint64_t>(std::max<int64_t>(0, d.count()));
    ttfb.record(ns);
    ttfb_now.record(ns);
}

void Recorder::record_handshake(quic::Duration d) {
    const uint64_t ns = static_cast<uint64_t>(std::max<int64_t>(0, d.count()));
    handshake.record(ns);
    handshake_now.record(ns);
}

void cpu_seconds(double& user, double& system) {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    user = double(r.ru_utime.tv_sec) + double(r.ru_utime.tv_usec) / 1e6;
    system = double(r.ru_stime.tv_sec) + double(r.ru_stime.tv_usec) / 1e6;
}

Reporter::Reporter(uv_loop_t* loop, ReportOptions options, Recorder& recorder,
                   std::function<Totals()> snapshot)
    : loop_(loop),
      options_(std::move(options)),
      recorder_(recorder),
      snapshot_(std::move(snapshot)) {}

Reporter::~Reporter() {
    close_handle(timer_);
    close_handle(warmup_timer_);
}

std::FILE* Reporter::text_out() const {
    return options_.json ? stderr : stdout;
}

void Reporter::start(quic::Time now) {
    if (started_) return;
    started_ = true;
    start_ = last_ = now;
    last_totals_ = snapshot_();
    // The first interval starts now: the handshakes before it are the summary's only.
    recorder_.latency_now.clear();
    recorder_.ttfb_now.clear();
    recorder_.handshake_now.clear();
    // Without a warmup the summary covers the whole run, the handshakes before the load
    // started included, and the CPU time is the process's.
    if (options_.warmup <= 0) {
        warm_ = true;
        measure_start_ = now;
    }
    // The warmup ends at its own time, not at the next interval's end.
    if (options_.warmup > 0) {
        on_warmup_ = [this] { warmup_over(quic::uv::clock_now()); };
        warmup_timer_ = start_timer(loop_, on_warmup_, ms_of(options_.warmup));
    }
    if (options_.interval <= 0) return;
    timer_ = new_handle<uv_timer_t>();
    uv_timer_init(loop_, timer_);
    on_timer_ = [this] { tick(quic::uv::clock_now()); };
    timer_->data = &on_timer_;
    uv_timer_start(timer_, run_data<uv_timer_t>, ms_of(options_.interval),
                   ms_of(options_.interval));
}

bool Reporter::in_warmup(quic::Time now) const {
    return !warm_ && seconds(now - start_) < options_.warmup;
}

void Reporter::end_warmup(quic::Time now) {
    warm_ = true;
    measure_start_ = now;
    baseline_ = snapshot_();
    cpu_seconds(cpu_baseline_user_, cpu_baseline_system_);
    recorder_.latency.clear();
    recorder_.ttfb.clear();
    recorder_.handshake.clear();
    recorder_.statuses.clear();
}

void Reporter::tick(quic::Time now) {
    if (finished_) return;
    next_interval(now);
    if (!warm_ && seconds(now - start_) >= options_.warmup - 1e-3) end_warmup(now);
}

// Prints the interval that ends now (when intervals are printed) and starts the next one.
void Reporter::next_interval(quic::Time now) {
    const Totals t = snapshot_();
    if (options_.interval > 0) print_interval(last_, now, t - last_totals_, !warm_);
    last_ = now;
    last_totals_ = t;
    recorder_.latency_now.clear();
    recorder_.ttfb_now.clear();
    recorder_.handshake_now.clear();
}

// The warmup's last (partial) interval, then intervals counted from here.
void Reporter::warmup_over(quic::Time now) {
    if (finished_ || warm_) return;
    next_interval(now);
    end_warmup(now);
    if (timer_)
        uv_timer_start(timer_, run_data<uv_timer_t>, ms_of(options_.interval),
                       ms_of(options_.interval));
}

void Reporter::print_interval(quic::Time from, quic::Time to, const Totals& d, bool warmup) {
    const double s = seconds(to - from);
    const double t0 = seconds(from - start_), t1 = seconds(to - start_);
    if (options_.json) {
        nlohmann::json j = {{"type", "interval"},
                            {"start_s", t0},
                            {"end_s", t1},
                            {"warmup", warmup},
                            {"bytes_sent", d.bytes_sent},
                            {"bytes_received", d.bytes_received},
                            {"download_mbps", mbit_per_s(d.bytes_received, s)},
                            {"upload_mbps", mbit_per_s(d.bytes_sent, s)},
                            {"requests", d.requests},
                            {"requests_per_s", per_s(d.requests, s)},
                            {"request_errors", d.request_errors},
                            {"handshakes", d.handshakes},
                            {"handshakes_per_s", per_s(d.handshakes, s)},
                            {"zero_rtt_accepted", d.zero_rtt_accepted},
                            {"zero_rtt_rejected", d.zero_rtt_rejected},
                            {"packets_sent", d.packets_sent},
                            {"packets_lost", d.packets_lost}};
        if (recorder_.latency_now.count())
            j["latency_ms"] = percentiles_json(recorder_.latency_now);
        if (recorder_.ttfb_now.count()) j["ttfb_ms"] = percentiles_json(recorder_.ttfb_now);
        if (recorder_.handshake_now.count())
            j["handshake_ms"] = percentiles_json(recorder_.handshake_now);
        print_json(j);
    }
    if (options_.quiet) return;
    std::string line;
    char buf[160];
    std::snprintf(buf, sizeof buf, "[%6.2f-%6.2f s]%s", t0, t1, warmup ? " (warmup)" : "");
    line += buf;
    if (options_.mode != "hps") {
        std::snprintf(buf, sizeof buf, " %9.2f Mbit/s down %9.2f Mbit/s up",
                      mbit_per_s(d.bytes_received, s), mbit_per_s(d.bytes_sent, s));
        line += buf;
    }
    if (options_.mode != "bulk" && options_.mode != "hps") {
        std::snprintf(buf, sizeof buf, " %9.1f req/s", per_s(d.requests, s));
        line += buf;
    }
    if (recorder_.latency_now.count()) {
        std::snprintf(buf, sizeof buf, "  p50 %.3f p99 %.3f ms",
                      ms(recorder_.latency_now.percentile(50)),
                      ms(recorder_.latency_now.percentile(99)));
        line += buf;
    }
    if (options_.mode == "hps") {
        std::snprintf(buf, sizeof buf, " %8.1f handshakes/s  p50 %.3f p99 %.3f ms",
                      per_s(d.handshakes, s), ms(recorder_.handshake_now.percentile(50)),
                      ms(recorder_.handshake_now.percentile(99)));
        line += buf;
    }
    if (d.request_errors) line += " errors " + std::to_string(d.request_errors);
    std::fprintf(text_out(), "%s\n", line.c_str());
    std::fflush(text_out());
}

void Reporter::finish(quic::Time now) {
    if (finished_) return;
    finished_ = true;
    if (!started_) start(now);
    close_handle(timer_);
    timer_ = nullptr;
    close_handle(warmup_timer_);
    warmup_timer_ = nullptr;
    const Totals t = snapshot_();
    if (!warm_) end_warmup(now);  // a run shorter than its warmup: report it all the same
    // The last, partial interval: the intervals add up to the summary. It is printed even when
    // the clock has not moved past the last tick, if anything completed since.
    const Totals since = t - last_totals_;
    if (options_.interval > 0 && (now > last_ || !(since == Totals{})))
        print_interval(last_, std::max(now, last_), since, false);
    print_summary(now);
}

void Reporter::print_summary(quic::Time now) {
    const Totals d = snapshot_() - baseline_;
    const double s = seconds(now - measure_start_);
    double user = 0, system = 0;
    cpu_seconds(user, system);
    user -= cpu_baseline_user_;
    system -= cpu_baseline_system_;
    const Recorder& r = recorder_;
    const double loss =
        d.packets_sent ? 100.0 * double(d.packets_lost) / double(d.packets_sent) : 0;
    if (options_.json) {
        nlohmann::json j = {{"type", "summary"},
                            {"mode", options_.mode},
                            {"config", options_.config},
                            {"duration_s", s},
                            {"warmup_s", options_.warmup},
                            {"bytes_sent", d.bytes_sent},
                            {"bytes_received", d.bytes_received},
                            {"download_mbps", mbit_per_s(d.bytes_received, s)},
                            {"upload_mbps", mbit_per_s(d.bytes_sent, s)},
                            {"requests", d.requests},
                            {"requests_per_s", per_s(d.requests, s)},
                            {"request_errors", d.request_errors},
                            {"stopped", d.stopped},
                            {"dropped", d.dropped},
                            {"connections", d.connections},
                            {"handshakes", d.handshakes},
                            {"handshakes_per_s", per_s(d.handshakes, s)},
                            {"handshake_failures", d.handshake_failures},
                            {"resumed", d.resumed},
                            {"zero_rtt_accepted", d.zero_rtt_accepted},
                            {"zero_rtt_rejected", d.zero_rtt_rejected},
                            {"packets_sent", d.packets_sent},
                            {"packets_lost", d.packets_lost},
                            {"loss_percent", loss},
                            {"cpu_s", user + system},
                            {"cpu_user_s", user},
                            {"cpu_system_s", system}};
        if (r.latency.count()) j["latency_ms"] = percentiles_json(r.latency);
        if (r.ttfb.count()) j["ttfb_ms"] = percentiles_json(r.ttfb);
        if (r.handshake.count()) j["handshake_ms"] = percentiles_json(r.handshake);
        if (!r.statuses.empty()) {
            nlohmann::json st = nlohmann::json::object();
            for (const auto& [code, n] : r.statuses) st[std::to_string(code)] = n;
            j["statuses"] = st;
        }
        for (const auto& [k, v] : extra_.items()) j[k] = v;
        print_json(j);
    }
    std::FILE* out = text_out();
    if (options_.json && options_.quiet) return;
    std::fprintf(out, "quiver perf: %s, %.2f s measured%s\n", options_.mode.c_str(), s,
                 options_.warmup > 0 ? " (after the warmup)" : "");
    if (options_.mode != "hps" || d.requests || d.request_errors) {  // hps --0rtt: requests
        std::fprintf(out, "  download   %10.2f Mbit/s  %s\n", mbit_per_s(d.bytes_received, s),
                     format_bytes(d.bytes_received).c_str());
        std::fprintf(out, "  upload     %10.2f Mbit/s  %s\n", mbit_per_s(d.bytes_sent, s),
                     format_bytes(d.bytes_sent).c_str());
        std::fprintf(out, "  requests   %llu completed (%.1f/s), %llu errors, %llu stopped",
                     static_cast<unsigned long long>(d.requests), per_s(d.requests, s),
                     static_cast<unsigned long long>(d.request_errors),
                     static_cast<unsigned long long>(d.stopped));
        if (d.dropped)
            std::fprintf(out, ", %llu dropped (backlog full)",
                         static_cast<unsigned long long>(d.dropped));
        std::fprintf(out, "\n");
    }
    if (r.latency.count())
        std::fprintf(out, "  latency    %s\n", percentiles_text(r.latency).c_str());
    if (r.ttfb.count()) std::fprintf(out, "  ttfb       %s\n", percentiles_text(r.ttfb).c_str());
    std::fprintf(out, "  handshakes %llu (%.1f/s), %llu failed, %llu resumed\n",
                 static_cast<unsigned long long>(d.handshakes), per_s(d.handshakes, s),
                 static_cast<unsigned long long>(d.handshake_failures),
                 static_cast<unsigned long long>(d.resumed));
    if (options_.config.value("zero_rtt", false))
        std::fprintf(out, "  0-RTT      %llu accepted, %llu rejected (resent in 1-RTT)%s\n",
                     static_cast<unsigned long long>(d.zero_rtt_accepted),
                     static_cast<unsigned long long>(d.zero_rtt_rejected),
                     d.zero_rtt_accepted + d.zero_rtt_rejected == 0
                         ? ", none offered: no ticket allowed early data (server without 0-RTT?)"
                         : "");
    if (r.handshake.count())
        std::fprintf(out, "  handshake  %s\n", percentiles_text(r.handshake).c_str());
    if (!r.statuses.empty()) {
        std::fprintf(out, "  statuses  ");
        for (const auto& [code, n] : r.statuses)
            std::fprintf(out, " %u: %llu", code, static_cast<unsigned long long>(n));
        std::fprintf(out, "\n");
    }
    std::fprintf(out, "  packets    sent %llu, lost %llu (%.2f %%)\n",
                 static_cast<unsigned long long>(d.packets_sent),
                 static_cast<unsigned long long>(d.packets_lost), loss);
    std::fprintf(out, "  CPU        %.2f s (user %.2f, system %.2f)\n", user + system, user,
                 system);
    std::fflush(out);
}

}  // namespace quiver
