#include "cc/delivery_rate_sampler.h"

#include <algorithm>
#include <chrono>

namespace quic {

// "Transmitting a data packet" (OnPacketSent).
DeliveryStamp DeliveryRateSampler::on_packet_sent(Time now, size_t bytes,
                                                  uint64_t inflight_before) {
    // Nothing in flight: the next ACK measures only what is sent from now on, so the sample
    // interval may start now rather than at the last ACK.
    if (inflight_before == 0) first_send_time_ = delivered_time_ = now;
    DeliveryStamp stamp;
    stamp.delivered = delivered_;
    stamp.lost = lost_;
    stamp.tx_in_flight = inflight_before + bytes;
    stamp.delivered_time = delivered_time_;
    stamp.first_send_time = first_send_time_;
    stamp.send_sequence = next_send_sequence_++;
    stamp.is_app_limited = app_limited_until_ != 0;
    return stamp;
}

// InitRateSample.
void DeliveryRateSampler::begin_ack() {
    rs_ = RateSample{};
}

// UpdateRateSample: every acked packet counts as delivered; the sample is taken from the most
// recently sent one (IsNewestPacket), which covers the shortest, most recent flight.
void DeliveryRateSampler::on_packet_acked(Time now, size_t bytes, Time time_sent,
                                          const DeliveryStamp& stamp) {
    // A stamp this sampler cannot have made (the connection replaced its controller, e.g. on
    // a new path, RFC 9000 §9.4, while older packets were in flight): delivered, not a sample.
    const bool ours = stamp.send_sequence < next_send_sequence_ && stamp.delivered <= delivered_ &&
                      stamp.lost <= lost_;
    delivered_ += bytes;
    delivered_time_ = now;
    rs_.newly_acked += bytes;
    if (!ours) return;
    const bool newest =
        !rs_.has_data || time_sent > first_send_time_ ||
        (time_sent == first_send_time_ && stamp.send_sequence > rs_.newest.send_sequence);
    if (!newest) return;
    rs_.has_data = true;
    rs_.prior_delivered = stamp.delivered;
    rs_.is_app_limited = stamp.is_app_limited;
    rs_.send_elapsed = time_sent - stamp.first_send_time;
    rs_.ack_elapsed = delivered_time_ - stamp.delivered_time;
    rs_.newest = stamp;
    newest_send_time_ = time_sent;
    first_send_time_ = time_sent;
}

// GenerateRateSample.
RateSample DeliveryRateSampler::generate(Time now, std::optional<Duration> min_rtt) {
    // The bubble of idle time has been delivered: samples are no longer app-limited.
    if (app_limited_until_ != 0 && delivered_ > app_limited_until_) app_limited_until_ = 0;
    RateSample rs = rs_;
    rs.newly_lost = newly_lost_;
    newly_lost_ = 0;
    if (!rs.has_data) return rs;  // nothing delivered on this ACK

    rs.interval = std::max(rs.send_elapsed, rs.ack_elapsed);
    rs.delivered = delivered_ - rs.prior_delivered;
    rs.rtt = now - newest_send_time_;
    rs.tx_in_flight = rs.newest.tx_in_flight;
    rs.lost = lost_ - rs.newest.lost;
    // An interval shorter than the path's minimum RTT cannot be a real delivery interval
    // (e.g. ACKs compressed by the path): no rate sample. Without any RTT sample there is no
    // such floor yet, and no rate either.
    if (!min_rtt || rs.interval < *min_rtt || rs.interval <= Duration::zero()) return rs;
    rs.delivery_rate =
        static_cast<double>(rs.delivered) / std::chrono::duration<double>(rs.interval).count();
    return rs;
}

void DeliveryRateSampler::on_packet_lost(size_t bytes) {
    lost_ += bytes;
    newly_lost_ += bytes;
}

// MarkConnectionAppLimited: max(..., 1) keeps 0 meaning "not app-limited".
void DeliveryRateSampler::mark_app_limited(uint64_t inflight) {
    app_limited_until_ = std::max<uint64_t>(delivered_ + inflight, 1);
}

}  // namespace quic
