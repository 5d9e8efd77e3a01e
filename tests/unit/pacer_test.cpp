#include <doctest/doctest.h>

#include <cmath>

#include "cc/pacer.h"

using namespace quic;

namespace {

constexpr size_t kMds = 1200;

constexpr Time at_ms(int64_t ms) {
    return time_from_ns(ms * 1'000'000);
}
constexpr Duration ms(int64_t n) {
    return Duration(n * 1'000'000);
}

// A sender with unlimited data that sends full-size packets as soon as the pacer allows, from
// `start` until `end`; returns the bytes sent.
uint64_t send_greedily(Pacer& pacer, Time start, Time end, size_t bytes = kMds) {
    uint64_t sent = 0;
    Time t = start;
    Time previous = start;
    for (;;) {
        t = pacer.next_send_time(t, bytes);
        REQUIRE(t >= previous);  // monotone
        if (t >= end) break;
        pacer.on_packet_sent(t, bytes);
        sent += bytes;
        previous = t;
    }
    return sent;
}

}  // namespace

TEST_CASE("Pacer: sends 1.25 * cwnd / srtt over a second (RFC 9002 §7.7)") {
    Pacer pacer;
    pacer.update(at_ms(0), 120000, ms(100), kMds);
    CHECK(pacer.rate_bytes_per_second() == doctest::Approx(1.25 * 120000 / 0.1));
    CHECK(pacer.burst_capacity() == 12000);  // the initial window for 1200-byte datagrams

    const uint64_t sent = send_greedily(pacer, at_ms(0), at_ms(1000));
    const double expected = 1.25 * 120000 / 0.1 * 1.0;
    CHECK(static_cast<double>(sent) == doctest::Approx(expected).epsilon(0.02));
    // Exactly: the initial burst plus the rate, to within one packet.
    CHECK(std::abs(static_cast<double>(sent) - (expected + 12000)) <= kMds);
}

TEST_CASE("Pacer: the gain is configurable") {
    Pacer pacer(PacerConfig{1.0, 0});
    pacer.update(at_ms(0), 60000, ms(50), kMds);
    const uint64_t sent = send_greedily(pacer, at_ms(0), at_ms(1000));
    CHECK(static_cast<double>(sent) == doctest::Approx(60000 / 0.05).epsilon(0.02));
}

TEST_CASE("Pacer: no drift over many packets at an awkward rate") {
    Pacer pacer;
    const uint64_t cwnd = 100003;
    const Duration srtt = Duration(33'333'337);
    pacer.update(at_ms(0), cwnd, srtt, kMds);
    const double rate =
        1.25 * static_cast<double>(cwnd) / (static_cast<double>(srtt.count()) * 1e-9);
    for (int seconds : {1, 10}) {
        Pacer p = pacer;
        const uint64_t sent = send_greedily(p, at_ms(0), at_ms(1000 * seconds));
        // Whatever the number of packets, the total stays within one packet of the ideal.
        CHECK(std::abs(static_cast<double>(sent) - (rate * seconds + 12000)) <= kMds);
    }
}

TEST_CASE("Pacer: bursts are limited to the bucket") {
    Pacer pacer;
    pacer.update(at_ms(0), 240000, ms(100), kMds);
    // A full bucket: ten datagrams at once, then the pacer makes the sender wait.
    int burst = 0;
    while (pacer.next_send_time(at_ms(0), kMds) == at_ms(0)) {
        pacer.on_packet_sent(at_ms(0), kMds);
        ++burst;
        REQUIRE(burst < 100);
    }
    CHECK(burst == 10);
    const Time next = pacer.next_send_time(at_ms(0), kMds);
    const double interval_ns = kMds / (1.25 * 240000 / 1e8);  // 1200 B at 3 MB/s = 400 us
    CHECK(static_cast<double>((next - at_ms(0)).count()) == doctest::Approx(interval_ns));

    // A long idle period does not build up more than the bucket.
    burst = 0;
    const Time later = at_ms(10000);
    while (pacer.next_send_time(later, kMds) == later) {
        pacer.on_packet_sent(later, kMds);
        ++burst;
        REQUIRE(burst < 100);
    }
    CHECK(burst == 10);

    // A configured burst size.
    Pacer small(PacerConfig{1.25, 3 * kMds});
    small.update(at_ms(0), 240000, ms(100), kMds);
    burst = 0;
    while (small.next_send_time(at_ms(0), kMds) == at_ms(0)) {
        small.on_packet_sent(at_ms(0), kMds);
        ++burst;
        REQUIRE(burst < 100);
    }
    CHECK(burst == 3);
    CHECK(small.burst_capacity() == 3 * kMds);
}

TEST_CASE("Pacer: next_send_time is monotone and consistent") {
    Pacer pacer;
    pacer.update(at_ms(0), 36000, ms(30), kMds);
    for (int i = 0; i < 10; ++i) pacer.on_packet_sent(at_ms(0), kMds);  // empty the bucket
    const Time target = pacer.next_send_time(at_ms(0), kMds);
    CHECK(target > at_ms(0));
    // Asking again at any time before the target gives the same target; at or after it, now.
    Time previous = at_ms(0);
    for (Time now = at_ms(0); now < target + Duration(5000); now += Duration(997)) {
        const Time t = pacer.next_send_time(now, kMds);
        CHECK(t >= now);
        CHECK(t >= previous);
        if (now <= target) CHECK(t == target);
        if (now >= target) CHECK(t == now);
        previous = t;
    }
    // Smaller packets may go sooner, never later.
    CHECK(pacer.next_send_time(at_ms(0), 100) <= target);
}

TEST_CASE("Pacer: unpaced before an RTT estimate and with a zero window") {
    Pacer pacer;
    for (int i = 0; i < 100; ++i) {
        CHECK(pacer.next_send_time(at_ms(5), kMds) == at_ms(5));
        pacer.on_packet_sent(at_ms(5), kMds);
    }
    pacer.update(at_ms(5), 0, ms(100), kMds);
    CHECK(pacer.next_send_time(at_ms(5), kMds) == at_ms(5));
    pacer.update(at_ms(5), 12000, Duration::zero(), kMds);
    CHECK(pacer.next_send_time(at_ms(5), kMds) == at_ms(5));
    // Pacing starts with a full bucket.
    pacer.update(at_ms(5), 12000, ms(100), kMds);
    CHECK(pacer.tokens(at_ms(5)) == doctest::Approx(12000));
}

TEST_CASE("Pacer: rate changes settle the credit earned at the old rate") {
    Pacer pacer;
    pacer.update(at_ms(0), 120000, ms(100), kMds);  // 1.5 MB/s = 1500 B/ms
    for (int i = 0; i < 10; ++i) pacer.on_packet_sent(at_ms(0), kMds);
    CHECK(pacer.tokens(at_ms(0)) == doctest::Approx(0));
    pacer.update(at_ms(4), 12000, ms(100), kMds);  // 150 B/ms from now on
    CHECK(pacer.tokens(at_ms(4)) == doctest::Approx(6000));
    CHECK(pacer.tokens(at_ms(8)) == doctest::Approx(6600));
}

TEST_CASE("Pacer: sends past the pacer (probes) are paid back") {
    Pacer pacer;
    pacer.update(at_ms(0), 120000, ms(100), kMds);                      // 1500 B/ms
    for (int i = 0; i < 13; ++i) pacer.on_packet_sent(at_ms(0), kMds);  // 3 beyond the bucket
    CHECK(pacer.tokens(at_ms(0)) == doctest::Approx(-3600));
    // 3600 B of debt plus 1200 B for the next packet at 1500 B/ms: 3.2 ms.
    CHECK(pacer.next_send_time(at_ms(0), kMds) == at_ms(0) + Duration(3'200'000));
}

TEST_CASE("Pacer: a controller's own rate and burst (BBR's pacing rate and send quantum)") {
    Pacer pacer;
    // 1.25 MB/s, bursts of two datagrams: no gain applied, whatever the config says.
    pacer.set_rate(at_ms(0), 1.25e6, 2 * kMds);
    CHECK(pacer.rate_bytes_per_second() == doctest::Approx(1.25e6));
    CHECK(pacer.burst_capacity() == 2 * kMds);
    int burst = 0;
    while (pacer.next_send_time(at_ms(0), kMds) == at_ms(0)) {
        pacer.on_packet_sent(at_ms(0), kMds);
        ++burst;
        REQUIRE(burst < 100);
    }
    CHECK(burst == 2);
    const uint64_t sent = send_greedily(pacer, at_ms(0), at_ms(1000));
    CHECK(std::abs(static_cast<double>(sent) - 1.25e6) <= kMds);
    // A new rate takes over from the credit built up so far; a burst below one datagram is
    // raised to one.
    pacer.set_rate(at_ms(1000), 0.5e6, 100);
    CHECK(pacer.burst_capacity() == kMds);
    const uint64_t slower = send_greedily(pacer, at_ms(1000), at_ms(2000));
    CHECK(std::abs(static_cast<double>(slower) - 0.5e6) <= 2 * kMds);
}
