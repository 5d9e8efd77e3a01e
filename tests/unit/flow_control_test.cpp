#include <doctest/doctest.h>

#include "stream/flow_control.h"
#include "stream/limits.h"

using namespace quic;

namespace {

constexpr Duration kRtt = std::chrono::milliseconds(50);

Time ms(int64_t v) {
    return time_from_ns(v * 1'000'000);
}

}  // namespace

TEST_CASE("ReceiveFlowController: FLOW_CONTROL_ERROR at limit + 1") {
    ReceiveFlowController fc(1000, 1000);
    CHECK(fc.max_data() == 1000);
    CHECK(fc.on_data_received(999).ok());
    CHECK(fc.on_data_received(1000).ok());
    CHECK(fc.highest_received() == 1000);
    auto r = fc.on_data_received(1001);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is_transport(TransportErrorCode::kFlowControlError));
    CHECK(fc.on_data_received(500).ok());  // a lower offset (reordering) is fine
    CHECK(fc.highest_received() == 1000);
}

TEST_CASE("ReceiveFlowController: update once the remaining credit drops below half") {
    ReceiveFlowController fc(1000, 1000);
    CHECK_FALSE(fc.should_send_update().has_value());
    REQUIRE(fc.on_data_received(1000).ok());
    fc.on_data_consumed(500, ms(0), kRtt);  // remaining 500: exactly half, not below
    CHECK_FALSE(fc.should_send_update().has_value());
    fc.on_data_consumed(1, ms(1), kRtt);  // remaining 499
    auto update = fc.should_send_update();
    REQUIRE(update);
    CHECK(*update == 501 + 1000);
    CHECK(fc.max_data() == 1501);
    CHECK_FALSE(fc.should_send_update().has_value());  // once per update
    // The new limit is enforced.
    CHECK(fc.on_data_received(1501).ok());
    CHECK_FALSE(fc.on_data_received(1502).ok());
}

TEST_CASE("ReceiveFlowController: auto-tuning doubles the window for a fast reader") {
    ReceiveFlowController fc(1000, 4000);
    int64_t t = 0;
    uint64_t received = 0;
    // The application reads 600 bytes every 10 ms: an update every ~10 ms, far under 2 RTT.
    for (int i = 0; i < 20; ++i) {
        received += 600;
        REQUIRE(fc.on_data_received(received).ok());
        fc.on_data_consumed(600, ms(t), kRtt);
        if (auto u = fc.should_send_update()) CHECK(*u == fc.max_data());
        CHECK(fc.window() <= 4000);  // never past the max window
        t += 10;
    }
    CHECK(fc.window() == 4000);
}

TEST_CASE("ReceiveFlowController: a slow reader keeps its window") {
    ReceiveFlowController fc(1000, 4000);
    int64_t t = 0;
    uint64_t received = 0;
    // 600 bytes every 200 ms: each update comes 4 RTTs after the previous one.
    for (int i = 0; i < 10; ++i) {
        received += 600;
        REQUIRE(fc.on_data_received(received).ok());
        fc.on_data_consumed(600, ms(t), kRtt);
        (void)fc.should_send_update();
        t += 200;
    }
    CHECK(fc.window() == 1000);
    CHECK(fc.max_data() == received + 1000);
}

TEST_CASE("ReceiveFlowController: no tuning without an RTT estimate") {
    ReceiveFlowController fc(1000, 4000);
    for (int i = 1; i <= 5; ++i) fc.on_data_consumed(600, ms(i), Duration::zero());
    CHECK(fc.window() == 1000);
}

TEST_CASE("ReceiveFlowController: ensure_window_at_least is capped by the max window") {
    ReceiveFlowController conn(1000, 3000);
    conn.ensure_window_at_least(500);
    CHECK(conn.window() == 1000);
    conn.ensure_window_at_least(2000);
    CHECK(conn.window() == 2000);
    conn.ensure_window_at_least(10000);
    CHECK(conn.window() == 3000);
    // Takes effect at the next update.
    CHECK(conn.max_data() == 1000);
    conn.on_data_consumed(600, ms(0), kRtt);
    CHECK(conn.should_send_update() == 3600u);
}

TEST_CASE("ReceiveFlowController: limits are clamped to 2^62-1") {
    ReceiveFlowController fc(kMaxStreamOffset, kMaxStreamOffset);
    CHECK(fc.max_data() == kMaxStreamOffset);
    fc.on_data_consumed(kMaxStreamOffset / 2 + 1, ms(0), kRtt);
    CHECK_FALSE(fc.should_send_update().has_value());
    CHECK(fc.max_data() == kMaxStreamOffset);
}

TEST_CASE("SendFlowController: ignores decreases, reports blocked once per limit") {
    SendFlowController fc(100);
    CHECK(fc.available() == 100);
    CHECK_FALSE(fc.blocked_at().has_value());
    CHECK_FALSE(fc.should_send_blocked().has_value());
    fc.on_data_sent(60);
    CHECK(fc.available() == 40);
    CHECK_FALSE(fc.on_max_data(80));  // §4.1: a smaller limit has no effect
    CHECK_FALSE(fc.on_max_data(100));
    CHECK(fc.limit() == 100);
    fc.on_data_sent(40);
    CHECK(fc.available() == 0);
    CHECK(fc.blocked_at() == 100u);
    CHECK(fc.should_send_blocked() == 100u);
    CHECK_FALSE(fc.should_send_blocked().has_value());
    CHECK(fc.blocked_at() == 100u);  // still blocked: the connection may resend on loss
    CHECK(fc.on_max_data(150));
    CHECK(fc.available() == 50);
    CHECK_FALSE(fc.blocked_at().has_value());
    CHECK_FALSE(fc.should_send_blocked().has_value());
    fc.on_data_sent(50);
    CHECK(fc.should_send_blocked() == 150u);  // a new limit: reported again
    CHECK_FALSE(fc.should_send_blocked().has_value());
}

TEST_CASE("SendFlowController: a zero initial limit is blocked at 0") {
    SendFlowController fc;
    CHECK(fc.available() == 0);
    CHECK(fc.should_send_blocked() == 0u);
    CHECK(fc.on_max_data(10));
    CHECK(fc.available() == 10);
}
