#include <doctest/doctest.h>

#include <chrono>

#include "recovery/rtt_estimator.h"

using namespace quic;
using namespace std::chrono_literals;

TEST_CASE("RttEstimator: initial values and PTO before any sample (RFC 9002 §5.3, §6.2.2)") {
    RttEstimator rtt;
    CHECK_FALSE(rtt.has_sample());
    CHECK(rtt.smoothed_rtt() == 333ms);
    CHECK(rtt.rttvar() == Duration(166'500'000));
    CHECK(rtt.min_rtt() == Duration::zero());
    // 333 + 4 * 166.5 = 999 ms: "handshakes starting with a PTO of 1 second".
    CHECK(rtt.pto_duration(false, 25ms) == 999ms);
    CHECK(rtt.pto_duration(true, 25ms) == 1024ms);

    RttEstimator custom(100ms);
    CHECK(custom.smoothed_rtt() == 100ms);
    CHECK(custom.rttvar() == 50ms);
}

TEST_CASE("RttEstimator: the §5.3 formulas on a hand-computed sequence") {
    RttEstimator rtt;
    // First sample: smoothed_rtt = latest_rtt, rttvar = latest_rtt / 2, min_rtt = latest_rtt;
    // the ack delay is not used.
    rtt.update(100ms, 10ms, true, 25ms);
    CHECK(rtt.has_sample());
    CHECK(rtt.latest_rtt() == 100ms);
    CHECK(rtt.min_rtt() == 100ms);
    CHECK(rtt.smoothed_rtt() == 100ms);
    CHECK(rtt.rttvar() == 50ms);

    // 120 >= 100 + 10: adjusted = 110. rttvar = 3/4*50 + 1/4*|100-110| = 40;
    // smoothed = 7/8*100 + 1/8*110 = 101.25.
    rtt.update(120ms, 10ms, true, 25ms);
    CHECK(rtt.min_rtt() == 100ms);
    CHECK(rtt.rttvar() == 40ms);
    CHECK(rtt.smoothed_rtt() == Duration(101'250'000));

    // 105 < 100 + 10: the delay is not subtracted. rttvar = 3/4*40 + 1/4*3.75 = 30.9375;
    // smoothed = 7/8*101.25 + 1/8*105 = 101.71875.
    rtt.update(105ms, 10ms, true, 25ms);
    CHECK(rtt.rttvar() == Duration(30'937'500));
    CHECK(rtt.smoothed_rtt() == Duration(101'718'750));
    // PTO = 101.71875 + 4*30.9375 (+ max_ack_delay).
    CHECK(rtt.pto_duration(false, 25ms) == Duration(101'718'750 + 123'750'000));
    CHECK(rtt.pto_duration(true, 25ms) == Duration(101'718'750 + 123'750'000 + 25'000'000));

    // A lower sample lowers min_rtt at once (§5.2).
    rtt.update(80ms, 0ms, true, 25ms);
    CHECK(rtt.min_rtt() == 80ms);
    CHECK(rtt.latest_rtt() == 80ms);
}

TEST_CASE("RttEstimator: ack_delay is capped by max_ack_delay only after confirmation") {
    auto primed = [] {
        RttEstimator rtt;
        rtt.update(100ms, 0ms, false, 25ms);  // srtt 100, rttvar 50, min 100
        return rtt;
    };
    // Confirmed: ack_delay 50 is limited to max_ack_delay 25: adjusted = 200 - 25 = 175.
    RttEstimator confirmed = primed();
    confirmed.update(200ms, 50ms, true, 25ms);
    CHECK(confirmed.smoothed_rtt() == Duration((7 * 100'000'000LL + 175'000'000LL) / 8));
    CHECK(confirmed.rttvar() == Duration((3 * 50'000'000LL + 75'000'000LL) / 4));

    // Not confirmed: max_ack_delay is ignored: adjusted = 200 - 50 = 150.
    RttEstimator unconfirmed = primed();
    unconfirmed.update(200ms, 50ms, false, 25ms);
    CHECK(unconfirmed.smoothed_rtt() == Duration((7 * 100'000'000LL + 150'000'000LL) / 8));
    CHECK(unconfirmed.rttvar() == Duration((3 * 50'000'000LL + 50'000'000LL) / 4));

    // Never below min_rtt: 130 - 50 < 100, so the sample is used unadjusted.
    RttEstimator floor = primed();
    floor.update(130ms, 50ms, false, 25ms);
    CHECK(floor.smoothed_rtt() == Duration((7 * 100'000'000LL + 130'000'000LL) / 8));

    // A huge (peer-reported) delay neither overflows nor goes below min_rtt.
    RttEstimator huge = primed();
    huge.update(150ms, Duration::max(), false, 25ms);
    CHECK(huge.smoothed_rtt() == Duration((7 * 100'000'000LL + 150'000'000LL) / 8));
}

TEST_CASE("RttEstimator: persistent congestion resets min_rtt; reset() forgets samples") {
    RttEstimator rtt;
    rtt.update(50ms, 0ms, true, 25ms);
    rtt.update(90ms, 0ms, true, 25ms);
    CHECK(rtt.min_rtt() == 50ms);
    rtt.on_persistent_congestion();  // §5.2: min_rtt = the newest sample
    CHECK(rtt.min_rtt() == 90ms);

    rtt.reset(200ms);
    CHECK_FALSE(rtt.has_sample());
    CHECK(rtt.smoothed_rtt() == 200ms);
    CHECK(rtt.rttvar() == 100ms);
    CHECK(rtt.latest_rtt() == Duration::zero());

    // PTO never below kGranularity of variation.
    RttEstimator tiny(Duration::zero());
    CHECK(tiny.pto_duration(false, 0ms) == kGranularity);
}
