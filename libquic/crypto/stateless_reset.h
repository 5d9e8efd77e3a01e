// Stateless reset tokens, RFC 9000 §10.3.2: computed from a static key and the connection ID,
// so that an endpoint that lost its state can still produce the token it once advertised.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "quic/bytes.h"
#include "quic/connection_id.h"

namespace quic {

inline constexpr size_t kStatelessResetKeyLength = 32;

class StatelessResetTokenGenerator {
  public:
    // `static_key` must be kStatelessResetKeyLength bytes of secret randomness that outlives
    // restarts (anyone who learns it can reset our connections). Longer keys are truncated;
    // shorter ones are zero-padded, which weakens them: don't.
    explicit StatelessResetTokenGenerator(ByteSpan static_key);
    ~StatelessResetTokenGenerator();
    StatelessResetTokenGenerator(const StatelessResetTokenGenerator&) = default;
    StatelessResetTokenGenerator& operator=(const StatelessResetTokenGenerator&) = default;

    // HMAC-SHA256(static_key, connection_id) truncated to 16 bytes (RFC 9000 §10.3.2:
    // "a pseudorandom function that takes a static key and the connection ID").
    StatelessResetToken token_for(const ConnectionId& cid) const;

  private:
    std::array<uint8_t, kStatelessResetKeyLength> key_{};
};

}  // namespace quic
