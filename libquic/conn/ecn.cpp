// ECN validation (RFC 9000 §13.4.2).
#include "conn/ecn.h"

namespace quic {

// §13.4.2.1: a CE increase is a congestion signal (handled with the ACK outcome); a count
// that decreases, an ECT(1) we never sent, or fewer marks than newly acknowledged ECT(0)
// packets means ECN does not work on this path.
uint64_t EcnValidator::on_ack(PacketNumberSpaceId space, const AckFrame& ack,
                              const AckOutcome& outcome) {
    if (state_ == State::kFailed || state_ == State::kOff) return 0;
    uint64_t newly_acked_ect0 = 0;
    for (const SentPacket& p : outcome.acked) newly_acked_ect0 += p.ect0;
    EcnCounts& last = acked_[static_cast<size_t>(space)];
    if (!ack.ecn) {
        if (newly_acked_ect0 > 0) state_ = State::kFailed;
        return 0;
    }
    const EcnCounts& now_counts = *ack.ecn;
    if (now_counts.ect0 < last.ect0 || now_counts.ect1 < last.ect1 || now_counts.ce < last.ce ||
        now_counts.ect1 > last.ect1 ||  // we never send ECT(1)
        (now_counts.ect0 - last.ect0) + (now_counts.ce - last.ce) < newly_acked_ect0) {
        state_ = State::kFailed;
        return 0;
    }
    const uint64_t new_ce = now_counts.ce - last.ce;
    last = now_counts;
    if (newly_acked_ect0 > 0) state_ = State::kCapable;
    return new_ce;
}

const char* EcnValidator::state_name() const {
    static constexpr const char* kNames[] = {"testing", "capable", "failed", "off"};
    return kNames[static_cast<size_t>(state_)];
}

}  // namespace quic
