// Stateless Reset packets: layout, size rules and detection (RFC 9000 §10.3). The tokens
// themselves come from crypto/stateless_reset.h.
#pragma once

#include <cstddef>
#include <optional>

#include "quic/bytes.h"
#include "quic/connection_id.h"
#include "quic/random.h"

namespace quic {

// RFC 9000 §10.3: the Unpredictable Bits "needs to include at least 38 bits of data (or 5
// bytes, less the two fixed bits)", followed by the 16-byte token: 5 + 16 = 21 bytes.
inline constexpr size_t kMinStatelessResetSize = 5 + kStatelessResetTokenLength;

// RFC 9000 §10.3: "An endpoint that sends a Stateless Reset in response to a packet that is 43
// bytes or shorter SHOULD send a Stateless Reset that is one byte shorter than the packet it
// responds to."
inline constexpr size_t kStatelessResetShortTriggerSize = 43;

// The size we answer larger packets with. RFC 9000 §10.3.3: below 41 bytes a reset may be
// identifiable; §10.3: packets at least 22 bytes longer than a 20-byte CID (42+) make it
// indistinguishable. 64 bytes looks like a small 1-RTT packet (an ACK behind a 20-byte CID)
// and keeps what we send to an unknown sender cheap.
inline constexpr size_t kMaxStatelessResetSize = 64;

// The size of a Stateless Reset answering a packet of triggering_size bytes: always smaller
// than the trigger (§10.3.3, so that two endpoints resetting each other converge) and at least
// kMinStatelessResetSize; one byte shorter for triggers of up to 43 bytes (§10.3), else
// kMaxStatelessResetSize (or less, when the trigger is smaller). nullopt when the trigger is
// too small to answer (kMinStatelessResetSize bytes or less).
std::optional<size_t> stateless_reset_size_for(size_t triggering_size);

// RFC 9000 §10.3: a `size`-byte datagram: first byte 0b01xxxxxx (short header form, fixed bit
// 1: it must look like a short header packet), then unpredictable bytes, then the token.
// Returns an empty Bytes when size < kMinStatelessResetSize.
Bytes build_stateless_reset(size_t size, const StatelessResetToken& token, Random& random);

// RFC 9000 §10.3.1: the last 16 bytes of a datagram of at least kMinStatelessResetSize bytes,
// to compare against the tokens of the connection the datagram was received on (with
// stateless_reset_token_equal). Callers check this when the datagram's first packet could not
// be parsed, matched to a connection or decrypted. The header form is deliberately not
// checked: §10.3 says to "treat any packet ending in a valid stateless reset token as a
// Stateless Reset, as other QUIC versions might allow the use of a long header".
std::optional<StatelessResetToken> stateless_reset_token_candidate(ByteSpan datagram);

// Constant-time token comparison (§10.3.1: "endpoints MUST perform the comparison without
// leaking information about the value of the token").
bool stateless_reset_token_equal(const StatelessResetToken& a, const StatelessResetToken& b);

}  // namespace quic
