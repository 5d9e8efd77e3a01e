// RTT estimation for one network path, RFC 9002 §5 (and Appendix A.7, UpdateRtt).
#pragma once

#include <chrono>

#include "quic/time.h"

namespace quic {

// RFC 9002 §6.1.2 / Appendix A.2: timer granularity, the floor of every loss timer.
inline constexpr Duration kGranularity = std::chrono::milliseconds(1);
// RFC 9002 §6.2.2: the initial RTT when no previous estimate is available.
inline constexpr Duration kInitialRtt = std::chrono::milliseconds(333);
// RFC 9000 §18.2: max_ack_delay when the transport parameter is absent.
inline constexpr Duration kDefaultMaxAckDelay = std::chrono::milliseconds(25);

class RttEstimator {
  public:
    explicit RttEstimator(Duration initial_rtt = kInitialRtt) { reset(initial_rtt); }

    // Forgets every sample and starts over from initial_rtt (§5.3: on connection migration,
    // RFC 9000 §9.4; or when a Retry / PATH_RESPONSE gives a better initial RTT, §6.2.2).
    void reset(Duration initial_rtt = kInitialRtt);

    // One RTT sample (§5.1): latest_rtt = ack time - send time of the largest acknowledged
    // packet; ack_delay is the peer's decoded ACK Delay (already scaled by its exponent);
    // max_ack_delay is the peer's transport parameter. Applies §5.2 (min_rtt) and §5.3.
    void update(Duration latest_rtt, Duration ack_delay, bool handshake_confirmed,
                Duration max_ack_delay);

    // §5.2: "Endpoints SHOULD set the min_rtt to the newest RTT sample after persistent
    // congestion is established."
    void on_persistent_congestion() {
        if (has_sample_) min_rtt_ = latest_rtt_;
    }

    // §6.2.1: smoothed_rtt + max(4*rttvar, kGranularity), plus max_ack_delay when asked
    // (the Application Data space; 0 for Initial and Handshake). No backoff.
    Duration pto_duration(bool include_max_ack_delay, Duration max_ack_delay) const;

    bool has_sample() const { return has_sample_; }
    Duration latest_rtt() const { return latest_rtt_; }  // 0 before the first sample
    Duration min_rtt() const { return min_rtt_; }        // 0 before the first sample
    Duration smoothed_rtt() const { return smoothed_rtt_; }
    Duration rttvar() const { return rttvar_; }
    Duration initial_rtt() const { return initial_rtt_; }

  private:
    Duration initial_rtt_{};
    Duration latest_rtt_{};
    Duration min_rtt_{};
    Duration smoothed_rtt_{};
    Duration rttvar_{};
    bool has_sample_ = false;
};

}  // namespace quic
