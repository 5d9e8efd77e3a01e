// Loss detection and the probe timeout, RFC 9002 §6 with its Appendix A pseudocode, plus
// persistent congestion (§7.6). One LossDetector per connection: it keeps one record per
// packet number space (§6: loss detection is per space) and one RttEstimator (§5: RTT is a
// path property). It only reports acked and lost packets; the caller feeds them to the
// congestion controller (libquic/cc) and to the frames' owners (SentFrame, sent_packet.h).
//
// Sans-IO: every entry point takes `now`; the caller arms its one timer at
// loss_detection_timer() and calls on_loss_detection_timeout when it fires.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "quic/frame.h"
#include "quic/packet_type.h"
#include "quic/result.h"
#include "quic/time.h"
#include "recovery/rtt_estimator.h"
#include "recovery/sent_packet.h"
#include "recovery/sent_packet_ring.h"

namespace quic {

// RFC 9002 §6.1.1: packet reordering threshold.
inline constexpr uint64_t kPacketThreshold = 3;
// RFC 9002 §6.1.2: time reordering threshold kTimeThreshold = 9/8 of an RTT.
inline constexpr int64_t kTimeThresholdNumerator = 9;
inline constexpr int64_t kTimeThresholdDenominator = 8;
// RFC 9002 §7.6.1.
inline constexpr int64_t kPersistentCongestionThreshold = 3;

inline constexpr size_t kPacketNumberSpaceCount = 3;

// Connection state the detector needs but does not own. The connection passes it to
// on_ack_received and on_loss_detection_timeout, and to on_context_changed whenever a field
// changes between those calls (RFC 9002 A.6: a datagram that lifts the anti-amplification
// limit re-arms the timer; so do handshake confirmation and new Handshake keys).
struct RecoveryContext {
    // RFC 9001 §4.1.2.
    bool handshake_confirmed = false;
    // The peer's max_ack_delay transport parameter (RFC 9000 §18.2).
    Duration max_ack_delay = kDefaultMaxAckDelay;
    // RFC 9002 A.8 PeerCompletedAddressValidation(): always true at a server; at a client,
    // true once a Handshake packet was acknowledged or the handshake is confirmed.
    bool peer_completed_address_validation = false;
    // A server that cannot send anything more before it receives a datagram (RFC 9000 §8.1):
    // its PTO timer is not armed (RFC 9002 §6.2.2.1).
    bool amplification_blocked = false;
    // Whether Handshake keys are available: where an anti-deadlock probe goes (A.8).
    bool has_handshake_keys = false;
};

struct AckOutcome {
    // Newly acknowledged packets, ascending packet number.
    std::vector<SentPacket> acked;
    // Packets declared lost by this ACK (§6.1), ascending packet number. Includes packets
    // that are not in flight (the caller skips those for congestion control).
    std::vector<SentPacket> lost;
    // An RTT sample was taken (§5.1).
    bool rtt_updated = false;
    // §7.6: the caller collapses the congestion window to the minimum.
    bool persistent_congestion = false;
    // The send time of the frame's Largest Acknowledged when this ACK newly acked it: the
    // sent_time of a congestion event signalled by ECN (RFC 9002 §7.1, B.7 ProcessECN).
    std::optional<Time> largest_acked_time_sent;
    // The ECN-CE count grew in this space (RFC 9002 B.7 ProcessECN): a congestion event.
    bool ecn_ce_increased = false;
};

struct TimeoutOutcome {
    enum class Kind : uint8_t {
        kNone,  // the timer was not due (or not armed): nothing to do
        kLoss,  // time threshold loss detection (§6.1.2): see lost
        kPto,   // probe timeout (§6.2.4): send probe_datagrams ack-eliciting datagrams
    };
    Kind kind = Kind::kNone;
    // kLoss: the space of the lost packets. kPto: the space whose PTO expired.
    PacketNumberSpaceId space = PacketNumberSpaceId::kInitial;
    // kLoss: packets declared lost, ascending packet number.
    std::vector<SentPacket> lost;
    bool persistent_congestion = false;
    // kPto: how many ack-eliciting datagrams to send (§6.2.4 allows up to two; one for the
    // client's anti-deadlock probe, §6.2.2.1, which is a Handshake packet, or an Initial
    // padded to 1200 bytes when there are no Handshake keys).
    uint8_t probe_datagrams = 0;
    // kPto: the spaces to send ack-eliciting packets in, coalesced when possible: the
    // expired space plus every other space with ack-eliciting packets in flight (§6.2.4).
    std::array<bool, kPacketNumberSpaceCount> probe_spaces{};
    // kPto: no ack-eliciting packet was in flight (the client's anti-deadlock probe).
    bool anti_deadlock = false;
};

class LossDetector {
  public:
    explicit LossDetector(Duration initial_rtt = kInitialRtt) : rtt_(initial_rtt) {}

    // A.5 OnPacketSent; packet.time_sent is set to now. Packet numbers in a space must
    // increase; a number that is jumped over is treated as skipped (as if
    // on_packet_number_skipped had been called). Ignored after discard_space for Initial or
    // Handshake. Re-arms the timer using the context last given to the detector.
    void on_packet_sent(PacketNumberSpaceId space, SentPacket packet, Time now);

    // RFC 9000 §21.4: pn was deliberately not used; an ACK that covers it is an optimistic
    // ACK. Must be called in order with on_packet_sent (pn above every number used so far).
    void on_packet_number_skipped(PacketNumberSpaceId space, uint64_t pn);

    // A.7 OnAckReceived, for an ACK frame received in `space`. ack_delay is the ACK Delay
    // field already scaled by the peer's ack_delay_exponent. Costs O(ranges × log n + acked),
    // never O(the numeric span of the ranges). Errors: PROTOCOL_VIOLATION when the frame
    // acknowledges a packet number never sent or skipped (RFC 9000 §13.1, §21.4). Ranges the
    // parser dropped (the oldest; AckFrame::ranges_dropped) are not seen: packets only they
    // covered stay unacknowledged and may be declared lost (a spurious retransmission).
    Result<AckOutcome> on_ack_received(PacketNumberSpaceId space, const AckFrame& ack,
                                       Duration ack_delay, Time now, const RecoveryContext& ctx);

    // A.8 SetLossDetectionTimer: when the caller must call on_loss_detection_timeout (a
    // time in the past means now), or nullopt when no timer is armed.
    std::optional<Time> loss_detection_timer() const { return timer_; }

    // A.9 OnLossDetectionTimeout. Safe to call early: returns kNone if the timer is not due.
    TimeoutOutcome on_loss_detection_timeout(Time now, const RecoveryContext& ctx);

    // Stores ctx and re-arms the timer (A.6 OnDatagramReceived and the like). If the timer
    // is then in the past, the caller runs on_loss_detection_timeout at once (§6.2.2.1).
    void on_context_changed(const RecoveryContext& ctx, Time now);

    // A.11 OnPacketNumberSpaceDiscarded (§6.4): removes every tracked packet of the space and
    // returns the in-flight ones (the caller subtracts them from bytes_in_flight), resets
    // its loss state, and re-arms the timer. Initial and Handshake are then closed for good
    // (later sends and ACKs are ignored) and pto_count is reset. ApplicationData stays open
    // and keeps pto_count: that form serves rejected 0-RTT (§6.4); packet numbers continue.
    std::vector<SentPacket> discard_space(PacketNumberSpaceId space, Time now);

    // §6.3: a client that receives a Retry resets loss recovery state (not the RTT estimate).
    // Returns every tracked packet of all spaces, so the caller can re-send their CRYPTO and
    // 0-RTT data and reset congestion control. Spaces stay open; packet numbers continue.
    std::vector<SentPacket> on_retry_received(Time now);

    const RttEstimator& rtt() const { return rtt_; }
    // For the caller's own resets (migration, RFC 9000 §9.4) and initial RTT updates.
    RttEstimator& rtt() { return rtt_; }
    uint32_t pto_count() const { return pto_count_; }
    // The time of the first RTT sample (A.3 first_rtt_sample), if any.
    std::optional<Time> first_rtt_sample_time() const { return first_rtt_sample_; }

    // Sum of sent_bytes over tracked in-flight packets: of one space, and of all spaces.
    // The congestion controller keeps its own bytes_in_flight; these are for checks.
    uint64_t bytes_in_flight(PacketNumberSpaceId space) const;
    uint64_t bytes_in_flight() const;
    bool has_ack_eliciting_in_flight(PacketNumberSpaceId space) const;
    // The oldest ack-eliciting packet still in flight in `space` (what a PTO probe resends
    // when there is no new data, RFC 9002 §6.2.4), or null.
    const SentPacket* oldest_ack_eliciting_in_flight(PacketNumberSpaceId space) const;
    bool has_ack_eliciting_in_flight() const;
    std::optional<uint64_t> largest_acked(PacketNumberSpaceId space) const;
    // A.3 loss_time: when the space's time threshold timer fires, if set.
    std::optional<Time> loss_time(PacketNumberSpaceId space) const;
    size_t tracked_packets(PacketNumberSpaceId space) const;
    // Slots the space's sent-packet ring holds allocated (0 once the space is discarded).
    size_t sent_packet_slots(PacketNumberSpaceId space) const {
        return this->space(space).sent.capacity();
    }

  private:
    struct Space {
        // Unacknowledged, not yet lost packets in packet number order (sent_packet_ring.h:
        // they leave from anywhere; ACK ranges are found by lower_bound).
        SentPacketRing sent;
        std::set<uint64_t> skipped;        // capped: kMaxSkippedPacketNumbersTracked
        std::set<uint64_t> not_in_flight;  // pns in `sent` with !in_flight; capped
        uint64_t next_packet_number = 0;   // every pn below was sent or skipped
        std::optional<uint64_t> largest_acked;
        std::optional<Time> time_of_last_ack_eliciting_packet;
        std::optional<Time> loss_time;
        uint64_t ecn_ce_count = 0;
        uint64_t bytes_in_flight = 0;
        size_t ack_eliciting_in_flight = 0;
        bool discarded = false;
    };

    Space& space(PacketNumberSpaceId id) { return spaces_[static_cast<size_t>(id)]; }
    const Space& space(PacketNumberSpaceId id) const { return spaces_[static_cast<size_t>(id)]; }
    void add_skipped(Space& s, uint64_t pn);
    // Removes the packet at `at` from s.sent and its counters; returns the packet.
    SentPacket remove(Space& s, SentPacketRing::Seq at);
    // A.10 DetectAndRemoveLostPackets, plus the §7.6 check over what it declares lost.
    std::vector<SentPacket> detect_and_remove_lost_packets(PacketNumberSpaceId id, Time now,
                                                           bool& persistent_congestion);
    Duration loss_delay() const;
    Duration persistent_congestion_duration() const;
    std::optional<Time> earliest_loss_time(PacketNumberSpaceId& out_space) const;
    // A.8 GetPtoTimeAndSpace; nullopt for "infinite".
    std::optional<Time> pto_time_and_space(PacketNumberSpaceId& out_space) const;
    void set_loss_detection_timer(Time now);
    std::vector<SentPacket> clear_space(Space& s);

    std::array<Space, kPacketNumberSpaceCount> spaces_{};
    RttEstimator rtt_;
    RecoveryContext ctx_{};
    uint32_t pto_count_ = 0;
    std::optional<Time> first_rtt_sample_;
    std::optional<Time> timer_;
    // The `now` of the last re-arm: the anti-deadlock PTO runs from it (A.8).
    Time last_arm_time_{};
};

}  // namespace quic
