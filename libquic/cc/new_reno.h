// NewReno as specified by RFC 9002 §7 and Appendix B, and the machinery it shares with CUBIC.
#pragma once

#include <optional>

#include "cc/congestion_controller.h"

namespace quic {

// What RFC 9002 §7 specifies for every window-based, loss-based controller: bytes in flight,
// the initial and minimum windows (§7.2), slow start (§7.3.1), the recovery period (§7.3.2),
// persistent congestion (§7.6.2) and not growing an underused window (§7.8). RFC 9438 §4.10
// keeps slow start and §4.6 keeps the once-per-loss-event reduction for CUBIC, so CUBIC derives
// from this too. Subclasses decide only how far the window shrinks on a congestion event and
// how it grows in congestion avoidance.
class LossBasedController : public CongestionController {
  public:
    DeliveryStamp on_packet_sent(Time now, size_t bytes, bool in_flight) override;
    void on_packets_acked(std::span<const AckedPacketInfo> acked, Time now,
                          const RttSnapshot& rtt) override;
    void on_packets_lost(std::span<const LostPacketInfo> lost, Time now,
                         bool persistent_congestion) override;
    void on_ecn_congestion(Time sent_time_of_largest_acked, Time now) override;
    void on_packets_discarded(size_t bytes) override;
    void on_app_limited(Time now) override;
    void set_max_datagram_size(size_t max_datagram_size) override;

    uint64_t congestion_window() const override { return cwnd_; }
    uint64_t bytes_in_flight() const override { return bytes_in_flight_; }
    uint64_t ssthresh() const override { return ssthresh_; }
    bool in_slow_start() const override { return cwnd_ < ssthresh_; }
    bool in_recovery(Time sent_time) const override {
        return recovery_start_.has_value() && sent_time <= *recovery_start_;
    }
    const char* state_name() const override;

    size_t max_datagram_size() const { return mds_; }
    uint64_t minimum_window() const { return minimum_congestion_window(mds_); }
    // True from on_app_limited until the next in-flight send.
    bool app_limited() const { return app_limited_since_.has_value(); }

  protected:
    explicit LossBasedController(size_t max_datagram_size);

    // A new congestion event (Appendix B.6 OnCongestionEvent, once per recovery period): set
    // ssthresh_ and cwnd_; cwnd_ must end at or above minimum_window().
    virtual void reduce_window(Time now) = 0;
    // One acknowledged packet in congestion avoidance: not in recovery, not application
    // limited, cwnd_ >= ssthresh_.
    virtual void grow_in_congestion_avoidance(const AckedPacketInfo& packet, Time now,
                                              const RttSnapshot& rtt) = 0;
    // Persistent congestion has just collapsed cwnd_ to the minimum window.
    virtual void on_persistent_congestion() {}
    // An application-limited period that began at `start` ended at `end`.
    virtual void on_app_limited_period_end(Time /*start*/, Time /*end*/) {}

    uint64_t cwnd_;
    uint64_t ssthresh_ = kInfiniteSsthresh;
    size_t mds_;

  private:
    void on_congestion_event(Time sent_time, Time now);

    uint64_t bytes_in_flight_ = 0;
    // Appendix B.2 congestion_recovery_start_time. An optional rather than 0 for "none":
    // Time has an arbitrary epoch, so 0 is a valid instant.
    std::optional<Time> recovery_start_;
    // §7.3.2: the period ends when a packet sent during it is acknowledged. Only the qlog state
    // needs this; in_recovery() keeps comparing send times after the period ends.
    bool recovery_period_active_ = false;
    std::optional<Time> app_limited_since_;
};

class NewReno final : public LossBasedController {
  public:
    // Appendix B.1: "recommends a value of 0.5".
    static constexpr double kLossReductionFactor = 0.5;

    explicit NewReno(size_t max_datagram_size) : LossBasedController(max_datagram_size) {}

    const char* name() const override { return "newreno"; }

  protected:
    void reduce_window(Time now) override;
    void grow_in_congestion_avoidance(const AckedPacketInfo& packet, Time now,
                                      const RttSnapshot& rtt) override;
    void on_persistent_congestion() override { bytes_acked_ = 0; }

  private:
    // Appendix B.5 asks integer implementations to count bytes as in RFC 3465 §2.1: the window
    // grows by one datagram each time a full window's worth has been acknowledged, so no
    // fraction is lost to integer division (max_datagram_size * bytes / cwnd rounds to 0 for
    // small packets and large windows).
    uint64_t bytes_acked_ = 0;
};

}  // namespace quic
