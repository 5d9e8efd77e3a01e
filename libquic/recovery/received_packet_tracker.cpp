#include "recovery/received_packet_tracker.h"

#include <algorithm>
#include <chrono>

#include "recovery/limits.h"

namespace quic {

bool ReceivedPacketTracker::is_duplicate(uint64_t pn) const {
    if (pn < min_tracked_) return true;
    if (ranges_.contains(pn)) return true;
    // At the cap, a number that would open a new lowest range would be dropped again at
    // once (the oldest range goes first), so it is as good as below the window.
    if (ranges_.size() >= kMaxAckRangesTracked) {
        auto lowest = ranges_.front();
        if (lowest && pn + 1 < lowest->start) return true;
    }
    return false;
}

bool ReceivedPacketTracker::on_packet_received(uint64_t pn, bool ack_eliciting, Ecn ecn, Time now) {
    if (is_duplicate(pn)) return false;

    // §13.2.1: ACK at once when an ack-eliciting packet arrives out of order: below an
    // ack-eliciting packet already received, or above the largest one with a gap between.
    bool out_of_order = false;
    if (ack_eliciting && largest_ack_eliciting_received_) {
        uint64_t largest = *largest_ack_eliciting_received_;
        if (pn < largest) {
            out_of_order = true;
        } else {
            uint64_t gap_start = std::max(largest + 1, min_tracked_);
            out_of_order = !ranges_.contains_range(gap_start, pn);
        }
    }

    ranges_.insert(pn);
    // RFC 9000 §13.2.3: bound the ranges (limits.h); the oldest go first, and everything
    // below the lowest kept range is treated as already received from now on.
    while (ranges_.size() > kMaxAckRangesTracked) {
        ranges_.pop_front();
        min_tracked_ = ranges_.front()->start;
    }
    new_packets_ = true;
    if (!largest_received_ || pn > *largest_received_) {
        largest_received_ = pn;
        largest_received_time_ = now;  // §13.2.5: ACK Delay counts from here
    }

    // §13.4.1: count each codepoint, per space.
    switch (ecn) {
        case Ecn::kEct0:
            ++ecn_.ect0;
            break;
        case Ecn::kEct1:
            ++ecn_.ect1;
            break;
        case Ecn::kCe:
            ++ecn_.ce;
            break;
        case Ecn::kNotEct:
            break;
    }

    bool immediate = false;
    if (ack_eliciting) {
        if (!largest_ack_eliciting_received_ || pn > *largest_ack_eliciting_received_)
            largest_ack_eliciting_received_ = pn;
        ++ack_eliciting_since_ack_;
        // §13.2.1: Initial and Handshake packets are acknowledged immediately; §13.2.2:
        // after ack_eliciting_threshold ack-eliciting packets; §13.2.1: out of order.
        immediate = is_handshake_space() || out_of_order ||
                    ack_eliciting_since_ack_ >= config_.ack_eliciting_threshold;
    }
    // §13.2.1: CE-marked packets are acknowledged immediately, but never by an ACK sent
    // in response to non-ack-eliciting packets only (no ACK loops).
    if (ecn == Ecn::kCe && ack_eliciting_since_ack_ > 0) immediate = true;

    if (immediate) {
        ack_deadline_ = ack_deadline_ ? std::min(*ack_deadline_, now) : now;
    } else if (ack_eliciting && !ack_deadline_) {
        // §13.2.1: within max_ack_delay of the first unacknowledged ack-eliciting packet.
        ack_deadline_ = now + config_.max_ack_delay;
    }
    return true;
}

std::optional<AckFrame> ReceivedPacketTracker::build_ack_frame(Time now,
                                                               uint8_t ack_delay_exponent) const {
    AckFrame ack;
    // Ranges at or below report_floor_ are no longer reported (§13.2.4).
    for (auto it = ranges_.rbegin(); it != ranges_.rend() && it->second > report_floor_; ++it)
        ack.ranges.push_back(AckRange{std::max(it->first, report_floor_), it->second - 1});
    if (ack.ranges.empty()) return std::nullopt;
    ack.largest_acknowledged = ack.ranges.front().largest;

    if (!is_handshake_space() && largest_received_ &&
        *largest_received_ == ack.largest_acknowledged) {
        Duration delay = std::max(now - largest_received_time_, Duration::zero());
        auto micros = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(delay).count());
        ack.ack_delay = micros >> std::min<uint64_t>(ack_delay_exponent, kMaxAckDelayExponent);
    }
    if (ecn_.ect0 != 0 || ecn_.ect1 != 0 || ecn_.ce != 0) ack.ecn = ecn_;
    return ack;
}

void ReceivedPacketTracker::on_ack_sent() {
    ack_eliciting_since_ack_ = 0;
    ack_deadline_.reset();
    new_packets_ = false;
}

void ReceivedPacketTracker::on_ack_frame_acked(uint64_t largest_acknowledged) {
    // We never sent an ACK above what we received; a larger value is a caller bug, so it
    // is clamped rather than allowed to swallow packets not yet received.
    if (!largest_received_) return;
    const uint64_t limit = std::min(largest_acknowledged, *largest_received_);
    report_floor_ = std::max(report_floor_, limit + 1);
    // What lies below the floor is kept only to recognise duplicates (§12.3), and a gap
    // there stays open: a packet that arrives late, such as one sent on a new path during a
    // migration while the old path kept carrying newer ones, is still processed (§13.2.3 asks
    // only that a range be kept while its packets would be accepted). The run received
    // without a gap from min_tracked_ folds into min_tracked_; the range cap bounds the rest.
    const auto lowest = ranges_.front();
    if (lowest && lowest->start <= min_tracked_) {
        const uint64_t folded = std::min(lowest->end, report_floor_);
        ranges_.erase_below(folded);
        min_tracked_ = std::max(min_tracked_, folded);
    }
}

}  // namespace quic
