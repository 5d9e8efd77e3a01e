// What we received in one packet number space, and when to acknowledge it: RFC 9000 §13.2
// (Generating Acknowledgments). One tracker per space. The connection asks is_duplicate
// before processing a packet, reports it with on_packet_received after processing it
// (§13.1: a packet is acknowledged only once processed), sends an ACK when ack_deadline()
// is due (or piggybacks one earlier), and forwards SentAck records that were acknowledged
// to on_ack_frame_acked.
#pragma once

#include <cstdint>
#include <optional>

#include "quic/ecn.h"
#include "quic/frame.h"
#include "quic/packet_type.h"
#include "quic/time.h"
#include "quic/transport_parameters.h"  // kDefaultAckDelayExponent, kMaxAckDelayExponent
#include "recovery/rtt_estimator.h"
#include "util/interval_set.h"

namespace quic {

// RFC 9000 §13.2.2: "A receiver SHOULD send an ACK frame after receiving at least two
// ack-eliciting packets."
inline constexpr uint64_t kDefaultAckElicitingThreshold = 2;

class ReceivedPacketTracker {
  public:
    struct Config {
        // Our own max_ack_delay transport parameter (RFC 9000 §18.2): the longest we hold an
        // ACK for an ack-eliciting Application Data packet.
        Duration max_ack_delay = kDefaultMaxAckDelay;
        // ACK at once after this many unacknowledged ack-eliciting packets (§13.2.2).
        uint64_t ack_eliciting_threshold = kDefaultAckElicitingThreshold;
    };

    explicit ReceivedPacketTracker(PacketNumberSpaceId space) : space_(space) {}
    ReceivedPacketTracker(PacketNumberSpaceId space, Config config)
        : space_(space), config_(config) {}

    // True for a packet number already received, or too old to be tracked (below the
    // window kept by the range cap and by ACK-of-ACK pruning): RFC 9000 §13.2.3 lets a
    // receiver discard ranges only if it will not accept packets in them again, so such
    // packets are dropped as duplicates.
    bool is_duplicate(uint64_t pn) const;

    // Records a processed packet: its number, whether it was ack-eliciting, its ECN
    // codepoint. Returns false (and changes nothing) for a duplicate.
    bool on_packet_received(uint64_t pn, bool ack_eliciting, Ecn ecn, Time now);

    // When an ACK frame must be sent (§13.2.1): the receive time of the packet that made
    // it urgent (so already due), or the first unacknowledged ack-eliciting packet's receive
    // time + max_ack_delay. nullopt when no ack-eliciting packet awaits acknowledgment:
    // non-ack-eliciting packets never cause an ACK on their own.
    std::optional<Time> ack_deadline() const { return ack_deadline_; }
    bool ack_needed(Time now) const { return ack_deadline_ && *ack_deadline_ <= now; }
    // Packets (of any kind) arrived since the last ACK sent: an ACK is worth including in
    // a packet sent for another reason (§13.2).
    bool has_new_packets() const { return new_packets_; }

    // The ACK frame for everything tracked (nullopt when nothing is): ranges descending,
    // the largest received packet first (§13.2.3), ECN counts once any ECN codepoint was
    // seen (§13.4.1). ACK Delay (§13.2.5) is the time since the largest packet arrived, in
    // microseconds >> ack_delay_exponent (our own transport parameter, clamped to 20).
    // In the Initial and Handshake spaces it is 0: those ACKs are sent at once (§13.2.1),
    // and the peer may decode them before it has our ack_delay_exponent (§18.2), which
    // RFC 9002 §5.3 lets it ignore anyway; 0 reads the same under any exponent.
    std::optional<AckFrame> build_ack_frame(Time now, uint8_t ack_delay_exponent) const;

    // The ACK frame just built was sent: the ACK timer and counters restart.
    void on_ack_sent();

    // A packet carrying our ACK frame with this Largest Acknowledged was acknowledged
    // (RFC 9000 §13.2.4): stop reporting packet numbers at or below it. Those received stay
    // duplicates; a gap among them stays open for a packet that arrives late (another path),
    // which is processed but not reported. The largest received number is kept regardless.
    void on_ack_frame_acked(uint64_t largest_acknowledged);

    const IntervalSet& ranges() const { return ranges_; }
    std::optional<uint64_t> largest_received() const { return largest_received_; }
    // Packet numbers below this are duplicates (0 until a range is dropped or pruned).
    uint64_t min_tracked() const { return min_tracked_; }
    const EcnCounts& ecn_counts() const { return ecn_; }
    PacketNumberSpaceId space() const { return space_; }

  private:
    bool is_handshake_space() const { return space_ != PacketNumberSpaceId::kApplicationData; }

    PacketNumberSpaceId space_;
    Config config_{};
    IntervalSet ranges_;
    uint64_t min_tracked_ = 0;
    uint64_t report_floor_ = 0;  // ACK frames report only packet numbers at or above this
    std::optional<uint64_t> largest_received_;
    Time largest_received_time_{};
    std::optional<uint64_t> largest_ack_eliciting_received_;
    EcnCounts ecn_{};
    uint64_t ack_eliciting_since_ack_ = 0;
    std::optional<Time> ack_deadline_;
    bool new_packets_ = false;
};

}  // namespace quic
