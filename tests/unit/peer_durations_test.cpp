// Peer-supplied numbers that become durations saturate instead of overflowing (issue 13 item 2,
// checklist 7): conn/peer_durations.h.
#include <doctest/doctest.h>

#include "conn/peer_durations.h"
#include "quic/varint.h"

using namespace quic;
using namespace std::chrono_literals;

TEST_CASE("peer durations: max_idle_timeout up to 2^62-1 ms saturates at a day") {
    CHECK(peer_idle_timeout(0) == Duration::zero());
    CHECK(peer_idle_timeout(30'000) == 30s);
    CHECK(peer_idle_timeout(kMaxPeerIdleTimeoutMs) == 24h);
    CHECK(peer_idle_timeout(kMaxPeerIdleTimeoutMs + 1) == 24h);
    CHECK(peer_idle_timeout(kVarintMax) == 24h);
    CHECK(peer_idle_timeout(UINT64_MAX) == 24h);
}

TEST_CASE("peer durations: ACK Delay 2^62-1 with any exponent saturates, never wraps") {
    CHECK(peer_ack_delay(0, 20) == Duration::zero());
    CHECK(peer_ack_delay(1000, 3) == 8ms);
    CHECK(peer_ack_delay(1, 20) == std::chrono::microseconds(1 << 20));
    const Duration cap = std::chrono::microseconds(kMaxPeerAckDelayMicros);
    for (uint64_t exponent : {0, 3, 10, 20, 21, 63, 64, 1000}) {
        CAPTURE(exponent);
        CHECK(peer_ack_delay(kVarintMax, exponent) == cap);
        CHECK(peer_ack_delay(kVarintMax >> 20, exponent) <= cap);
        CHECK(peer_ack_delay(kVarintMax >> 20, exponent) >= Duration::zero());
    }
    // The exact boundary: the largest field that does not saturate.
    CHECK(peer_ack_delay(kMaxPeerAckDelayMicros >> 20, 20) == cap);
    CHECK(peer_ack_delay((kMaxPeerAckDelayMicros >> 20) + 1, 20) == cap);
    CHECK(peer_ack_delay((kMaxPeerAckDelayMicros >> 20) - 1, 20) < cap);
}
