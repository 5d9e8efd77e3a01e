#include "recovery/loss_detector.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <string>
#include <utility>

#include "recovery/limits.h"

namespace quic {

namespace {

constexpr PacketNumberSpaceId kSpaces[] = {PacketNumberSpaceId::kInitial,
                                           PacketNumberSpaceId::kHandshake,
                                           PacketNumberSpaceId::kApplicationData};

// 2^pto_count, with the exponent capped (limits.h) so that the product cannot overflow.
int64_t backoff(uint32_t pto_count) {
    return int64_t{1} << std::min(pto_count, kMaxPtoBackoffExponent);
}

}  // namespace

void LossDetector::add_skipped(Space& s, uint64_t pn) {
    s.skipped.insert(pn);
    while (s.skipped.size() > kMaxSkippedPacketNumbersTracked) s.skipped.erase(s.skipped.begin());
}

SentPacket LossDetector::remove(Space& s, SentPacketRing::Seq at) {
    SentPacket p = s.sent.take(at);
    if (p.in_flight) {
        s.bytes_in_flight -= p.sent_bytes;
        if (p.ack_eliciting) --s.ack_eliciting_in_flight;
    } else {
        s.not_in_flight.erase(p.packet_number);
    }
    return p;
}

// A.5 OnPacketSent.
void LossDetector::on_packet_sent(PacketNumberSpaceId id, SentPacket packet, Time now) {
    Space& s = space(id);
    if (s.discarded) return;
    const uint64_t pn = packet.packet_number;
    assert(pn >= s.next_packet_number && "packet numbers must increase");
    if (pn < s.next_packet_number) return;
    // Numbers jumped over were never sent: remember the newest of them as skipped, so an
    // ACK for one is caught (RFC 9000 §21.4).
    uint64_t gap_start = s.next_packet_number;
    if (pn - gap_start > kMaxSkippedPacketNumbersTracked)
        gap_start = pn - kMaxSkippedPacketNumbersTracked;
    for (uint64_t g = gap_start; g < pn; ++g) add_skipped(s, g);
    s.next_packet_number = pn + 1;

    packet.time_sent = now;
    const bool in_flight = packet.in_flight;
    if (in_flight) {
        s.bytes_in_flight += packet.sent_bytes;
        if (packet.ack_eliciting) {
            ++s.ack_eliciting_in_flight;
            s.time_of_last_ack_eliciting_packet = now;
        }
    } else {
        // Not in flight (ACK-only): the peer need never acknowledge it. Keep the newest few
        // for ACK-of-ACK (limits.h); forgetting one affects nothing else.
        s.not_in_flight.insert(pn);
        if (s.not_in_flight.size() > kMaxNonInFlightPacketsTracked) {
            const uint64_t oldest = *s.not_in_flight.begin();
            s.not_in_flight.erase(s.not_in_flight.begin());
            const auto at = s.sent.lower_bound(oldest);
            if (s.sent.holds(at) && s.sent.packet_number(at) == oldest) s.sent.take(at);
        }
    }
    s.sent.push_back(std::move(packet));
    if (in_flight) set_loss_detection_timer(now);
}

void LossDetector::on_packet_number_skipped(PacketNumberSpaceId id, uint64_t pn) {
    Space& s = space(id);
    if (s.discarded || pn < s.next_packet_number) return;
    uint64_t gap_start = s.next_packet_number;
    if (pn - gap_start > kMaxSkippedPacketNumbersTracked)
        gap_start = pn - kMaxSkippedPacketNumbersTracked;
    for (uint64_t g = gap_start; g <= pn; ++g) add_skipped(s, g);
    s.next_packet_number = pn + 1;
}

// A.7 OnAckReceived.
Result<AckOutcome> LossDetector::on_ack_received(PacketNumberSpaceId id, const AckFrame& ack,
                                                 Duration ack_delay, Time now,
                                                 const RecoveryContext& ctx) {
    ctx_ = ctx;
    Space& s = space(id);
    AckOutcome out;
    if (s.discarded) return out;

    const uint64_t frame_type = to_underlying(ack.ecn ? FrameType::kAckEcn : FrameType::kAck);
    if (ack.ranges.empty())
        return Error::transport(TransportErrorCode::kFrameEncodingError, "ACK without ranges",
                                frame_type);

    // Validate the whole frame before changing any state. RFC 9000 §13.1: an ACK for a
    // packet we did not send is a PROTOCOL_VIOLATION; §21.4: so is one for a skipped number.
    // One set lookup per range: never a walk over the numbers a range spans.
    uint64_t largest = ack.largest_acknowledged;
    for (const AckRange& r : ack.ranges) {
        if (r.smallest > r.largest)
            return Error::transport(TransportErrorCode::kFrameEncodingError,
                                    "ACK range with smallest > largest", frame_type);
        largest = std::max(largest, r.largest);
    }
    if (largest >= s.next_packet_number)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "ACK of unsent packet " + std::to_string(largest), frame_type);
    for (const AckRange& r : ack.ranges) {
        auto it = s.skipped.lower_bound(r.smallest);
        if (it != s.skipped.end() && *it <= r.largest)
            return Error::transport(TransportErrorCode::kProtocolViolation,
                                    "ACK of skipped packet number " + std::to_string(*it),
                                    frame_type);
    }

    s.largest_acked = s.largest_acked ? std::max(*s.largest_acked, ack.largest_acknowledged)
                                      : ack.largest_acknowledged;

    // DetectAndRemoveAckedPackets: per range, lower_bound then only the packets inside.
    // Ranges are descending, so walking them backwards yields ascending packet numbers.
    for (auto r = ack.ranges.rbegin(); r != ack.ranges.rend(); ++r) {
        for (auto at = s.sent.lower_bound(r->smallest);
             at < s.sent.end() && s.sent.packet_number(at) <= r->largest; ++at) {
            if (s.sent.holds(at)) out.acked.push_back(remove(s, at));
        }
    }
    if (out.acked.empty()) return out;
    auto by_pn = [](const SentPacket& a, const SentPacket& b) {
        return a.packet_number < b.packet_number;
    };
    if (!std::is_sorted(out.acked.begin(), out.acked.end(), by_pn))  // ranges out of order
        std::sort(out.acked.begin(), out.acked.end(), by_pn);

    // §5.1: a sample only when the largest acknowledged is newly acked and at least one
    // newly acked packet is ack-eliciting.
    const SentPacket& largest_newly_acked = out.acked.back();
    if (largest_newly_acked.packet_number == ack.largest_acknowledged) {
        out.largest_acked_time_sent = largest_newly_acked.time_sent;
        bool any_ack_eliciting = std::any_of(out.acked.begin(), out.acked.end(),
                                             [](const SentPacket& p) { return p.ack_eliciting; });
        if (any_ack_eliciting) {
            if (!first_rtt_sample_) first_rtt_sample_ = now;
            // §5.3: "MAY ignore the acknowledgment delay for Initial packets, since these
            // acknowledgments are not delayed by the peer".
            Duration delay = id == PacketNumberSpaceId::kInitial ? Duration::zero() : ack_delay;
            rtt_.update(now - largest_newly_acked.time_sent, delay, ctx.handshake_confirmed,
                        ctx.max_ack_delay);
            out.rtt_updated = true;
        }
    }

    // B.7 ProcessECN: a grown ECN-CE count is a congestion event. Validating the counts
    // (RFC 9000 §13.4.2) is the connection's job.
    if (ack.ecn && ack.ecn->ce > s.ecn_ce_count) {
        s.ecn_ce_count = ack.ecn->ce;
        out.ecn_ce_increased = true;
    }

    out.lost = detect_and_remove_lost_packets(id, now, out.persistent_congestion);
    if (out.persistent_congestion) rtt_.on_persistent_congestion();

    // §6.2.1: reset the backoff, except at a client unsure the server validated its address.
    if (ctx.peer_completed_address_validation) pto_count_ = 0;
    set_loss_detection_timer(now);
    return out;
}

Duration LossDetector::loss_delay() const {
    // §6.1.2: max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity).
    Duration rtt = std::max(rtt_.smoothed_rtt(), rtt_.latest_rtt());
    return std::max(rtt * kTimeThresholdNumerator / kTimeThresholdDenominator, kGranularity);
}

Duration LossDetector::persistent_congestion_duration() const {
    // §7.6.1: includes max_ack_delay whatever the space of the losses.
    return rtt_.pto_duration(true, ctx_.max_ack_delay) * kPersistentCongestionThreshold;
}

// A.10 DetectAndRemoveLostPackets, and §7.6.2 over the packets it declares lost.
std::vector<SentPacket> LossDetector::detect_and_remove_lost_packets(PacketNumberSpaceId id,
                                                                     Time now,
                                                                     bool& persistent_congestion) {
    Space& s = space(id);
    persistent_congestion = false;
    s.loss_time.reset();
    std::vector<SentPacket> lost;
    if (!s.largest_acked) return lost;
    const uint64_t largest_acked = *s.largest_acked;
    const Duration delay = loss_delay();
    const Duration pc_duration = persistent_congestion_duration();

    // Persistent congestion (§7.6.2) needs two lost ack-eliciting packets, both sent after
    // the first RTT sample (B.8), more than pc_duration apart, with no packet between them
    // acknowledged. The declared-lost packets are a prefix of the map (both thresholds are
    // monotonic in send order), so consecutive lost packets are consecutive map entries, and
    // a packet number between them left the map by being acked, lost earlier, skipped or
    // forgotten. Only skipped numbers are sure not to be acks; any other gap restarts the
    // run (single space, as §7.6.2 allows: it may only miss persistent congestion).
    std::optional<Time> run_start;
    std::optional<uint64_t> previous_lost;

    for (auto at = s.sent.begin(); at < s.sent.end() && s.sent.packet_number(at) <= largest_acked;
         ++at) {
        if (!s.sent.holds(at)) continue;
        const SentPacket& p = s.sent.at(at);
        // §6.1.1 packet threshold, §6.1.2 time threshold (sent at or before now - delay).
        if (p.time_sent + delay <= now || largest_acked >= p.packet_number + kPacketThreshold) {
            const uint64_t pn = p.packet_number;
            if (previous_lost && pn - *previous_lost > 1) {
                uint64_t gap = pn - *previous_lost - 1;
                bool only_skipped = false;
                if (gap <= s.skipped.size()) {
                    auto first = s.skipped.lower_bound(*previous_lost + 1);
                    auto last = s.skipped.lower_bound(pn);
                    only_skipped = static_cast<uint64_t>(std::distance(first, last)) == gap;
                }
                if (!only_skipped) run_start.reset();
            }
            previous_lost = pn;
            if (p.ack_eliciting && !p.is_pmtu_probe && first_rtt_sample_ &&
                p.time_sent > *first_rtt_sample_) {
                if (!run_start)
                    run_start = p.time_sent;
                else if (p.time_sent - *run_start > pc_duration)
                    persistent_congestion = true;
            }
            lost.push_back(remove(s, at));
        } else {
            // Not yet: the time threshold timer fires when it can be declared lost.
            Time when = p.time_sent + delay;
            if (!s.loss_time || when < *s.loss_time) s.loss_time = when;
        }
    }
    return lost;
}

// A.8 GetLossTimeAndSpace (the earliest set loss_time; A.8's loop would let an unset
// Handshake value mask a set Initial one, so this compares set values only).
std::optional<Time> LossDetector::earliest_loss_time(PacketNumberSpaceId& out_space) const {
    std::optional<Time> earliest;
    for (PacketNumberSpaceId id : kSpaces) {
        const Space& s = space(id);
        if (s.loss_time && (!earliest || *s.loss_time < *earliest)) {
            earliest = s.loss_time;
            out_space = id;
        }
    }
    return earliest;
}

// A.8 GetPtoTimeAndSpace.
std::optional<Time> LossDetector::pto_time_and_space(PacketNumberSpaceId& out_space) const {
    const int64_t factor = backoff(pto_count_);
    Duration duration = rtt_.pto_duration(false, Duration::zero()) * factor;
    if (!has_ack_eliciting_in_flight()) {
        // §6.2.2.1 anti-deadlock: runs from the time the timer was (re)armed.
        out_space = ctx_.has_handshake_keys ? PacketNumberSpaceId::kHandshake
                                            : PacketNumberSpaceId::kInitial;
        return last_arm_time_ + duration;
    }
    std::optional<Time> timeout;
    for (PacketNumberSpaceId id : kSpaces) {
        const Space& s = space(id);
        if (s.ack_eliciting_in_flight == 0 || !s.time_of_last_ack_eliciting_packet) continue;
        if (id == PacketNumberSpaceId::kApplicationData) {
            // §6.2.1: no PTO for Application Data before the handshake is confirmed.
            if (!ctx_.handshake_confirmed) return timeout;
            // §6.2.1: max_ack_delay only for Application Data, backed off as well.
            duration += std::max(ctx_.max_ack_delay, Duration::zero()) * factor;
        }
        Time t = *s.time_of_last_ack_eliciting_packet + duration;
        if (!timeout || t < *timeout) {
            timeout = t;
            out_space = id;
        }
    }
    return timeout;
}

// A.8 SetLossDetectionTimer.
void LossDetector::set_loss_detection_timer(Time now) {
    last_arm_time_ = now;
    PacketNumberSpaceId unused;
    if (auto loss = earliest_loss_time(unused)) {
        timer_ = loss;  // §6.1.2: time threshold; then no PTO (§6.2.1)
        return;
    }
    if (ctx_.amplification_blocked) {
        timer_.reset();  // §6.2.2.1: the server's PTO is not armed while it cannot send
        return;
    }
    if (!has_ack_eliciting_in_flight() && ctx_.peer_completed_address_validation) {
        timer_.reset();  // nothing to detect as lost, and no anti-deadlock need
        return;
    }
    timer_ = pto_time_and_space(unused);
}

void LossDetector::on_context_changed(const RecoveryContext& ctx, Time now) {
    ctx_ = ctx;
    set_loss_detection_timer(now);
}

// A.9 OnLossDetectionTimeout.
TimeoutOutcome LossDetector::on_loss_detection_timeout(Time now, const RecoveryContext& ctx) {
    ctx_ = ctx;
    TimeoutOutcome out;
    if (!timer_ || now < *timer_) return out;

    PacketNumberSpaceId id = PacketNumberSpaceId::kInitial;
    if (earliest_loss_time(id)) {
        out.kind = TimeoutOutcome::Kind::kLoss;
        out.space = id;
        out.lost = detect_and_remove_lost_packets(id, now, out.persistent_congestion);
        if (out.persistent_congestion) rtt_.on_persistent_congestion();
        set_loss_detection_timer(now);
        return out;
    }

    // The context may have changed since the timer was armed: re-check what A.8 checks.
    if (ctx_.amplification_blocked ||
        (!has_ack_eliciting_in_flight() && ctx_.peer_completed_address_validation)) {
        set_loss_detection_timer(now);
        return out;
    }

    out.kind = TimeoutOutcome::Kind::kPto;
    if (!has_ack_eliciting_in_flight()) {
        // §6.2.2.1: the client's anti-deadlock probe: a Handshake packet if it has the keys,
        // else an Initial in a datagram of at least 1200 bytes.
        out.anti_deadlock = true;
        out.space = ctx_.has_handshake_keys ? PacketNumberSpaceId::kHandshake
                                            : PacketNumberSpaceId::kInitial;
        out.probe_datagrams = 1;
    } else {
        if (!pto_time_and_space(id)) {  // only Application Data in flight, not confirmed
            out.kind = TimeoutOutcome::Kind::kNone;
            set_loss_detection_timer(now);
            return out;
        }
        out.space = id;
        // §6.2.4: up to two datagrams, so one lost datagram does not cost another PTO.
        out.probe_datagrams = 2;
        // §6.2.4: also send in other spaces with ack-eliciting packets in flight.
        for (PacketNumberSpaceId other : kSpaces)
            if (space(other).ack_eliciting_in_flight > 0)
                out.probe_spaces[static_cast<size_t>(other)] = true;
    }
    out.probe_spaces[static_cast<size_t>(out.space)] = true;
    // §6.2.1: the backoff doubles on every expiry, across all spaces.
    ++pto_count_;
    set_loss_detection_timer(now);
    return out;
}

std::vector<SentPacket> LossDetector::clear_space(Space& s) {
    std::vector<SentPacket> removed = s.sent.take_all();
    s.not_in_flight.clear();
    s.bytes_in_flight = 0;
    s.ack_eliciting_in_flight = 0;
    s.time_of_last_ack_eliciting_packet.reset();
    s.loss_time.reset();
    return removed;
}

// A.11 OnPacketNumberSpaceDiscarded; §6.4.
std::vector<SentPacket> LossDetector::discard_space(PacketNumberSpaceId id, Time now) {
    Space& s = space(id);
    std::vector<SentPacket> removed = clear_space(s);
    std::erase_if(removed, [](const SentPacket& p) { return !p.in_flight; });
    if (id != PacketNumberSpaceId::kApplicationData) {
        // Nothing is sent in this space again: its memory goes with its keys (issue 14).
        s.sent.release();
        s.skipped.clear();
        s.discarded = true;
        // §6.2.2: discarding keys shows forward progress; the timers are reset.
        pto_count_ = 0;
    }
    set_loss_detection_timer(now);
    return removed;
}

// §6.3.
std::vector<SentPacket> LossDetector::on_retry_received(Time now) {
    std::vector<SentPacket> removed;
    for (Space& s : spaces_) {
        std::vector<SentPacket> part = clear_space(s);
        for (SentPacket& p : part) removed.push_back(std::move(p));
        s.largest_acked.reset();
    }
    pto_count_ = 0;
    set_loss_detection_timer(now);
    return removed;
}

uint64_t LossDetector::bytes_in_flight(PacketNumberSpaceId id) const {
    return space(id).bytes_in_flight;
}

uint64_t LossDetector::bytes_in_flight() const {
    uint64_t total = 0;
    for (const Space& s : spaces_) total += s.bytes_in_flight;
    return total;
}

bool LossDetector::has_ack_eliciting_in_flight(PacketNumberSpaceId id) const {
    return space(id).ack_eliciting_in_flight > 0;
}

const SentPacket* LossDetector::oldest_ack_eliciting_in_flight(PacketNumberSpaceId id) const {
    const Space& s = space(id);
    if (s.ack_eliciting_in_flight == 0) return nullptr;
    for (auto at = s.sent.begin(); at < s.sent.end(); ++at)
        if (s.sent.holds(at) && s.sent.at(at).ack_eliciting && s.sent.at(at).in_flight)
            return &s.sent.at(at);
    return nullptr;
}

bool LossDetector::has_ack_eliciting_in_flight() const {
    for (const Space& s : spaces_)
        if (s.ack_eliciting_in_flight > 0) return true;
    return false;
}

std::optional<uint64_t> LossDetector::largest_acked(PacketNumberSpaceId id) const {
    return space(id).largest_acked;
}

std::optional<Time> LossDetector::loss_time(PacketNumberSpaceId id) const {
    return space(id).loss_time;
}

size_t LossDetector::tracked_packets(PacketNumberSpaceId id) const {
    return space(id).sent.size();
}

}  // namespace quic
