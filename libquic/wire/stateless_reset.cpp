#include "wire/stateless_reset.h"

#include <algorithm>

namespace quic {

std::optional<size_t> stateless_reset_size_for(size_t triggering_size) {
    // §10.3.3: "every Stateless Reset that it sends is smaller than the packet that triggered it".
    if (triggering_size <= kMinStatelessResetSize) return std::nullopt;
    if (triggering_size <= kStatelessResetShortTriggerSize) return triggering_size - 1;
    return std::min(triggering_size - 1, kMaxStatelessResetSize);
}

Bytes build_stateless_reset(size_t size, const StatelessResetToken& token, Random& random) {
    if (size < kMinStatelessResetSize) return {};
    Bytes out(size);
    const size_t unpredictable = size - kStatelessResetTokenLength;
    random.fill(std::span<uint8_t>(out.data(), unpredictable));
    // §10.3: "Fixed Bits (2) = 1": header form 0, fixed bit 1.
    out[0] = static_cast<uint8_t>(0x40 | (out[0] & 0x3f));
    std::copy(token.begin(), token.end(), out.begin() + static_cast<ptrdiff_t>(unpredictable));
    return out;
}

std::optional<StatelessResetToken> stateless_reset_token_candidate(ByteSpan datagram) {
    if (datagram.size() < kMinStatelessResetSize) return std::nullopt;
    StatelessResetToken t;
    ByteSpan last = datagram.last(kStatelessResetTokenLength);
    std::copy(last.begin(), last.end(), t.begin());
    return t;
}

bool stateless_reset_token_equal(const StatelessResetToken& a, const StatelessResetToken& b) {
    // Accumulate every difference instead of stopping at the first one.
    uint8_t diff = 0;
    for (size_t i = 0; i < kStatelessResetTokenLength; ++i) diff |= a[i] ^ b[i];
    return diff == 0;
}

}  // namespace quic
