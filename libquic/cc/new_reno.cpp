#include "cc/new_reno.h"

#include <algorithm>

namespace quic {

namespace {

// Bytes in flight never go below zero, even if the caller reports a packet twice: a wrong
// count must not wrap around and block sending forever.
uint64_t saturating_sub(uint64_t a, uint64_t b) {
    return a > b ? a - b : 0;
}

}  // namespace

LossBasedController::LossBasedController(size_t max_datagram_size)
    : cwnd_(0), mds_(std::max(max_datagram_size, kMinMaxDatagramSize)) {
    // Appendix B.3: congestion_window = kInitialWindow, ssthresh = infinite.
    cwnd_ = initial_congestion_window(mds_);
}

DeliveryStamp LossBasedController::on_packet_sent(Time now, size_t bytes, bool in_flight) {
    // Appendix B.4: only packets with non-ACK frames count; ACK-only packets neither count
    // nor end an application-limited period.
    if (!in_flight) return {};
    bytes_in_flight_ += bytes;
    if (app_limited_since_) {
        const Time start = *app_limited_since_;
        app_limited_since_.reset();
        on_app_limited_period_end(start, now);
    }
    return {};  // no delivery-rate sampling
}

void LossBasedController::on_packets_acked(std::span<const AckedPacketInfo> acked, Time now,
                                           const RttSnapshot& rtt) {
    for (const AckedPacketInfo& packet : acked) {
        bytes_in_flight_ = saturating_sub(bytes_in_flight_, packet.bytes);
        // Appendix B.5: no increase for packets sent before the recovery period started.
        if (in_recovery(packet.time_sent)) continue;
        // §7.3.2: "A recovery period ends ... when a packet sent during the recovery period is
        // acknowledged".
        recovery_period_active_ = false;
        // §7.8: an underused window is not grown, in slow start or congestion avoidance.
        if (app_limited_since_) continue;
        if (cwnd_ < ssthresh_) {
            // §7.3.1: slow start grows by the bytes acknowledged.
            cwnd_ += packet.bytes;
        } else {
            grow_in_congestion_avoidance(packet, now, rtt);
        }
    }
}

void LossBasedController::on_packets_lost(std::span<const LostPacketInfo> lost, Time now,
                                          bool persistent_congestion) {
    // Appendix B.8: remove from bytes in flight; one congestion event keyed on the latest send
    // time among the lost packets.
    std::optional<Time> sent_time_of_last_loss;
    for (const LostPacketInfo& packet : lost) {
        bytes_in_flight_ = saturating_sub(bytes_in_flight_, packet.bytes);
        if (!sent_time_of_last_loss || packet.time_sent > *sent_time_of_last_loss)
            sent_time_of_last_loss = packet.time_sent;
    }
    if (sent_time_of_last_loss) on_congestion_event(*sent_time_of_last_loss, now);

    if (persistent_congestion) {
        // §7.6.2: "the sender's congestion window MUST be reduced to the minimum congestion
        // window"; Appendix B.8 also clears the recovery start, so the next loss is a new
        // event. ssthresh keeps the value of the congestion event, so the sender is back in
        // slow start (§7.3.1: "which only occurs after persistent congestion is declared").
        cwnd_ = minimum_window();
        recovery_start_.reset();
        recovery_period_active_ = false;
        on_persistent_congestion();
    }
}

void LossBasedController::on_ecn_congestion(Time sent_time_of_largest_acked, Time now) {
    // Appendix B.7: an increase of the ECN-CE count is a congestion event like a loss.
    on_congestion_event(sent_time_of_largest_acked, now);
}

void LossBasedController::on_packets_discarded(size_t bytes) {
    // Appendix B.9 RemoveFromBytesInFlight: no congestion signal, no window change.
    bytes_in_flight_ = saturating_sub(bytes_in_flight_, bytes);
}

void LossBasedController::on_app_limited(Time now) {
    // §7.8 speaks of bytes in flight "smaller than the congestion window": when not even one
    // more full-size datagram fits, the window is in use and the period does not start.
    if (available_window() < mds_) return;
    if (!app_limited_since_) app_limited_since_ = now;
}

void LossBasedController::set_max_datagram_size(size_t max_datagram_size) {
    const size_t mds = std::max(max_datagram_size, kMinMaxDatagramSize);
    if (mds == mds_) return;
    // §7.2: "If the maximum datagram size changes during the connection, the initial
    // congestion window SHOULD be recalculated with the new size." A window still at its
    // initial value (no growth, no congestion event) becomes the new initial window; this also
    // covers a decrease during the handshake. A window that has grown or shrunk since is the
    // result of feedback in bytes and stays, but never below the new minimum.
    const bool untouched =
        ssthresh_ == kInfiniteSsthresh && cwnd_ == initial_congestion_window(mds_);
    mds_ = mds;
    if (untouched) cwnd_ = initial_congestion_window(mds_);
    cwnd_ = std::max(cwnd_, minimum_window());
}

const char* LossBasedController::state_name() const {
    if (recovery_period_active_) return "recovery";
    if (app_limited_since_) return "application_limited";
    return in_slow_start() ? "slow_start" : "congestion_avoidance";
}

void LossBasedController::on_congestion_event(Time sent_time, Time now) {
    // Appendix B.6: "No reaction if already in a recovery period" - one reduction per round
    // trip (§7.3.2).
    if (in_recovery(sent_time)) return;
    recovery_start_ = now;
    recovery_period_active_ = true;
    reduce_window(now);
    // §7.3.2 allows sending one packet before the reduction takes effect ("MaybeSendOnePacket");
    // that is the connection's choice (it would bypass can_send once), not done here.
}

void NewReno::reduce_window(Time /*now*/) {
    // Appendix B.6: ssthresh = cwnd * kLossReductionFactor; cwnd = max(ssthresh, kMinimumWindow).
    ssthresh_ = static_cast<uint64_t>(static_cast<double>(cwnd_) * kLossReductionFactor);
    cwnd_ = std::max(ssthresh_, minimum_window());
    bytes_acked_ = 0;
}

void NewReno::grow_in_congestion_avoidance(const AckedPacketInfo& packet, Time /*now*/,
                                           const RttSnapshot& /*rtt*/) {
    // §7.3.3: at most one maximum datagram size per congestion window acknowledged.
    bytes_acked_ += packet.bytes;
    if (bytes_acked_ >= cwnd_) {
        bytes_acked_ -= cwnd_;
        cwnd_ += mds_;
    }
}

}  // namespace quic
