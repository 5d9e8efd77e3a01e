// Glitch accounting (issue 13 item 3, checklist 20; docs/hardening.md): frames that are legal
// but do nothing (STREAM data we already have, frames for streams already closed, MAX_* that do
// not raise a limit, packets with nothing but PING, empty STREAM frames without FIN, more than
// one PATH_CHALLENGE in a packet, CRYPTO data again after the handshake) still cost us a parse
// and a lookup each. RFC 9000 §21.9 lets an endpoint treat such floods as an attack; each one
// costs a token from a per-connection budget, refilled with time and by frames that carry new
// data, and an empty budget closes the connection with PROTOCOL_VIOLATION. A legitimate peer's
// retransmissions (duplicates after a spurious loss) stay far below the budget.
#pragma once

#include <cstdint>
#include <string>

#include "conn/limits.h"
#include "quic/error.h"
#include "quic/result.h"
#include "util/token_bucket.h"

namespace quic {

class GlitchBudget {
  public:
    explicit GlitchBudget(Time now) : bucket_(kGlitchBudget, kGlitchRefillPerSecond, now) {}

    // A useless frame (`what`, of `frame_type`): PROTOCOL_VIOLATION once the budget is spent.
    Status charge(Time now, const char* what, uint64_t frame_type) {
        ++glitches_;
        if (bucket_.take(now)) return {};
        return Error::transport(
            TransportErrorCode::kProtocolViolation,
            std::string("too many useless frames from the peer (last: ") + what + ")", frame_type);
    }
    // A frame that carried new data earns a token back.
    void on_useful_frame() { bucket_.add(kGlitchRefundPerUsefulFrame); }

    uint64_t glitches() const { return glitches_; }  // charged so far, for statistics

  private:
    TokenBucket bucket_;
    uint64_t glitches_ = 0;
};

}  // namespace quic
