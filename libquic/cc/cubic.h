// CUBIC (RFC 9438) on top of the QUIC congestion control of RFC 9002 §7.
//
// RFC 9438 works in segments and seconds; this works in bytes and converts with the maximum
// datagram size, so W_cubic(t) = C * (t - K)^3 * max_datagram_size + W_max (bytes). Slow start,
// the recovery period, persistent congestion and the application-limited rule are those of
// RFC 9002 (LossBasedController).
#pragma once

#include <optional>

#include "cc/new_reno.h"

namespace quic {

class Cubic final : public LossBasedController {
  public:
    // RFC 9438 §4.1.1 constants.
    static constexpr double kBeta = 0.7;  // beta_cubic: multiplicative decrease factor
    static constexpr double kC = 0.4;     // C: segments / second^3
    // alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic): the AIMD increase that gives the
    // same average rate as Reno's AIMD(1, 0.5) with beta_cubic (§4.3).
    static constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

    explicit Cubic(size_t max_datagram_size) : LossBasedController(max_datagram_size) {}

    const char* name() const override { return "cubic"; }

    // Introspection for tests and traces.
    // W_max in bytes: the window before the last reduction, lowered by fast convergence (§4.7);
    // none before the first congestion event and after persistent congestion (§4.8).
    std::optional<double> w_max() const { return w_max_; }
    // K in seconds of the current congestion avoidance stage (§4.2); 0 before one started.
    double k_seconds() const { return k_; }
    // When the current congestion avoidance stage started; none outside one.
    std::optional<Time> epoch_start() const { return epoch_start_; }
    // W_cubic(t) in bytes for t since the start of the current stage (§4.2, Figure 1).
    double w_cubic(Duration t) const;
    // W_est in bytes, the Reno-friendly estimate (§4.3).
    double w_est() const { return w_est_; }

  protected:
    void reduce_window(Time now) override;
    void grow_in_congestion_avoidance(const AckedPacketInfo& packet, Time now,
                                      const RttSnapshot& rtt) override;
    void on_persistent_congestion() override;
    void on_app_limited_period_end(Time start, Time end) override;

  private:
    void start_epoch(Time now);

    std::optional<double> w_max_;
    double cwnd_prior_ = 0;  // cwnd before the last reduction (§4.3 and §4.6), bytes
    std::optional<Time> epoch_start_;
    double k_ = 0;
    double w_est_ = 0;
    // The fraction of a byte the window has grown by beyond cwnd_: increments are often below
    // one byte per ACK, and dropping them would slow the growth.
    double cwnd_fraction_ = 0;
};

}  // namespace quic
