#include "cc/cubic.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace quic {

namespace {

double to_seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

double Cubic::w_cubic(Duration t) const {
    // RFC 9438 §4.2, Figure 1: W_cubic(t) = C * (t - K)^3 + W_max, in segments.
    const double w_max = w_max_.value_or(static_cast<double>(cwnd_));
    const double d = to_seconds(t) - k_;
    return kC * d * d * d * static_cast<double>(mds_) + w_max;
}

void Cubic::start_epoch(Time now) {
    // RFC 9438 §4.2: t counts from the beginning of the current congestion avoidance stage,
    // and K = cbrt((W_max - cwnd_epoch) / C) with cwnd_epoch the window at that beginning, so
    // that W_cubic(0) = cwnd_epoch. cwnd_epoch = beta * W_max after a plain reduction; it is
    // larger after fast convergence lowered W_max, and may exceed W_max (then K < 0 and the
    // stage starts on the convex side, which the same formula gives).
    epoch_start_ = now;
    const double cwnd_epoch = static_cast<double>(cwnd_) + cwnd_fraction_;
    // §4.8 (after a timeout, here persistent congestion) and §4.10 (slow start left without a
    // congestion event): K = 0 and W_max = the window at the start of the stage.
    if (!w_max_) w_max_ = cwnd_epoch;
    k_ = std::cbrt((*w_max_ - cwnd_epoch) / static_cast<double>(mds_) / kC);
    // §4.3: W_est starts each congestion avoidance stage at cwnd_epoch.
    w_est_ = cwnd_epoch;
}

void Cubic::reduce_window(Time /*now*/) {
    const double cwnd = static_cast<double>(cwnd_) + cwnd_fraction_;
    // §4.7 fast convergence: a loss before W_max was regained means the available bandwidth
    // fell (e.g. a new flow); release some by aiming lower: W_max = cwnd * (1 + beta) / 2.
    if (w_max_ && cwnd < *w_max_)
        w_max_ = cwnd * (1.0 + kBeta) / 2.0;
    else
        w_max_ = cwnd;
    cwnd_prior_ = cwnd;
    // §4.6 multiplicative decrease: ssthresh = cwnd * beta_cubic, at least the minimum window
    // (RFC 9002 §7.2), and the window drops to it at once (RFC 9002 §7.3.2 allows that).
    ssthresh_ = std::max(static_cast<uint64_t>(cwnd * kBeta), minimum_window());
    cwnd_ = ssthresh_;
    cwnd_fraction_ = 0;
    // The next congestion avoidance stage starts at the first ACK that may grow the window,
    // i.e. after the recovery period.
    epoch_start_.reset();
}

void Cubic::on_persistent_congestion() {
    // §4.8: after a timeout CUBIC follows Reno (the window collapses; the base class did
    // that), and its next congestion avoidance stage uses K = 0, W_max = cwnd at its start.
    w_max_.reset();
    epoch_start_.reset();
    cwnd_fraction_ = 0;
}

void Cubic::on_app_limited_period_end(Time start, Time end) {
    // The window did not grow while the sender was application limited (RFC 9002 §7.8), so
    // that time must not count in t either: otherwise W_cubic(t) races ahead of a window that
    // was never tested and the first ACKs afterwards would jump to the 1.5 * cwnd cap.
    if (epoch_start_ && end > start) *epoch_start_ += end - start;
}

void Cubic::grow_in_congestion_avoidance(const AckedPacketInfo& packet, Time now,
                                         const RttSnapshot& rtt) {
    if (!epoch_start_) start_epoch(now);
    const double mds = static_cast<double>(mds_);
    const double cwnd = static_cast<double>(cwnd_) + cwnd_fraction_;
    const double acked = static_cast<double>(packet.bytes);
    const Duration t = now - *epoch_start_;

    // §4.3 Reno-friendly region: W_est grows by alpha_cubic segments per window acknowledged,
    // and alpha_cubic becomes 1 once W_est reaches cwnd_prior (past the point of the last
    // reduction, Reno's own rate is the fair one).
    const double alpha = w_est_ >= cwnd_prior_ ? 1.0 : kAlpha;
    w_est_ += alpha * mds * acked / cwnd;

    double next;
    if (w_cubic(t) < w_est_) {
        // In the Reno-friendly region the window follows W_est. Never lower it: cwnd can be
        // above W_est because the cubic target looks one RTT ahead.
        next = std::max(cwnd, w_est_);
    } else {
        // §4.2: the target is W_cubic one RTT ahead, kept within [cwnd, 1.5 * cwnd]; §4.4
        // (concave, cwnd < W_max) and §4.5 (convex, cwnd >= W_max) both grow by
        // (target - cwnd) / cwnd segments per segment acknowledged.
        const Duration rtt_ahead = rtt.has_sample ? rtt.smoothed : Duration::zero();
        const double target = std::clamp(w_cubic(t + rtt_ahead), cwnd, 1.5 * cwnd);
        next = cwnd + (target - cwnd) * acked / cwnd;
    }
    const double whole = std::floor(next);
    cwnd_ = static_cast<uint64_t>(whole);
    cwnd_fraction_ = next - whole;
}

}  // namespace quic
