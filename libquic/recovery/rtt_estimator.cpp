#include "recovery/rtt_estimator.h"

#include <algorithm>

namespace quic {

void RttEstimator::reset(Duration initial_rtt) {
    // §5.3: smoothed_rtt = kInitialRtt, rttvar = kInitialRtt / 2; Appendix A.4 for the rest.
    initial_rtt_ = initial_rtt;
    latest_rtt_ = Duration::zero();
    min_rtt_ = Duration::zero();
    smoothed_rtt_ = initial_rtt;
    rttvar_ = initial_rtt / 2;
    has_sample_ = false;
}

void RttEstimator::update(Duration latest_rtt, Duration ack_delay, bool handshake_confirmed,
                          Duration max_ack_delay) {
    // A clock that went backwards in the caller is not a negative RTT.
    latest_rtt = std::max(latest_rtt, Duration::zero());
    ack_delay = std::max(ack_delay, Duration::zero());
    latest_rtt_ = latest_rtt;

    if (!has_sample_) {
        // §5.2: min_rtt is the first sample; §5.3: the estimator is reset from it.
        has_sample_ = true;
        min_rtt_ = latest_rtt;
        smoothed_rtt_ = latest_rtt;
        rttvar_ = latest_rtt / 2;
        return;
    }

    // §5.2: min_rtt ignores acknowledgment delay.
    min_rtt_ = std::min(min_rtt_, latest_rtt);

    // §5.3: ignore max_ack_delay until the handshake is confirmed, then use the lesser of
    // the reported delay and max_ack_delay.
    if (handshake_confirmed) ack_delay = std::min(ack_delay, max_ack_delay);

    // §5.3: never subtract the delay if the result would fall below min_rtt. Written as a
    // difference so that a huge (peer-reported) ack_delay cannot overflow.
    Duration adjusted_rtt = latest_rtt;
    if (latest_rtt - min_rtt_ >= ack_delay) adjusted_rtt = latest_rtt - ack_delay;

    // Appendix A.7 order (as RFC 6298 §2.3): rttvar uses the previous smoothed_rtt, then
    // smoothed_rtt moves. (§5.3's prose lists smoothed_rtt first; A.7 is the code component.)
    Duration rttvar_sample =
        smoothed_rtt_ > adjusted_rtt ? smoothed_rtt_ - adjusted_rtt : adjusted_rtt - smoothed_rtt_;
    rttvar_ = (3 * rttvar_ + rttvar_sample) / 4;
    smoothed_rtt_ = (7 * smoothed_rtt_ + adjusted_rtt) / 8;
}

Duration RttEstimator::pto_duration(bool include_max_ack_delay, Duration max_ack_delay) const {
    // §6.2.1: PTO = smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay, with
    // max_ack_delay 0 for the Initial and Handshake spaces.
    Duration pto = smoothed_rtt_ + std::max(4 * rttvar_, kGranularity);
    if (include_max_ack_delay) pto += std::max(max_ack_delay, Duration::zero());
    return pto;
}

}  // namespace quic
