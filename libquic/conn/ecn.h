// ECN validation for one path (RFC 9000 §13.4.2): we mark packets ECT(0) while testing and
// once capable; the peer's ACK counts must account for every newly acknowledged ECT(0) packet
// and never decrease, otherwise the path (or the peer) mangles ECN and we stop marking.
#pragma once

#include <array>
#include <cstdint>

#include "quic/ecn.h"
#include "quic/frame.h"
#include "quic/packet_type.h"
#include "recovery/loss_detector.h"

namespace quic {

class EcnValidator {
  public:
    enum class State : uint8_t { kTesting, kCapable, kFailed, kOff };

    explicit EcnValidator(bool enabled) : state_(enabled ? State::kTesting : State::kOff) {}

    // Checks an ACK's ECN counts against what it newly acknowledged (§13.4.2.1). Returns the
    // CE marks newly reported, for the statistics (the congestion signal itself comes with
    // the ACK outcome, RFC 9002 §7.1).
    uint64_t on_ack(PacketNumberSpaceId space, const AckFrame& ack, const AckOutcome& outcome);
    // A new path must prove its ECN support again (§13.4.2).
    void restart() {
        if (state_ != State::kOff) state_ = State::kTesting;
    }
    // The codepoint to mark packets with.
    Ecn codepoint() const {
        return state_ == State::kTesting || state_ == State::kCapable ? Ecn::kEct0 : Ecn::kNotEct;
    }
    const char* state_name() const;

  private:
    State state_;
    std::array<EcnCounts, 3> acked_{};  // the peer's last reported counts, per space
};

}  // namespace quic
