#include <doctest/doctest.h>

#include <cmath>
#include <deque>
#include <string>
#include <vector>

#include "cc/congestion_controller.h"
#include "cc/cubic.h"
#include "cc/new_reno.h"
#include "quic/random.h"

using namespace quic;

namespace {

constexpr size_t kMds = 1200;

constexpr Time at_ms(int64_t ms) {
    return time_from_ns(ms * 1'000'000);
}
constexpr Duration ms(int64_t n) {
    return Duration(n * 1'000'000);
}

RttSnapshot rtt_of(Duration d) {
    return RttSnapshot{d, d, d, true};
}

// Sends `count` full-size in-flight packets at `now`, numbered from `pn`.
std::vector<AckedPacketInfo> send(CongestionController& cc, Time now, size_t count, uint64_t& pn) {
    std::vector<AckedPacketInfo> sent;
    for (size_t i = 0; i < count; ++i) {
        cc.on_packet_sent(now, kMds, true);
        sent.push_back({pn++, kMds, now});
    }
    return sent;
}

void ack(CongestionController& cc, std::span<const AckedPacketInfo> packets, Time now,
         Duration rtt = ms(100)) {
    cc.on_packets_acked(packets, now, rtt_of(rtt));
}

void lose(CongestionController& cc, const AckedPacketInfo& p, Time now, bool persistent = false) {
    const LostPacketInfo lost{p.packet_number, p.bytes, p.time_sent};
    cc.on_packets_lost(std::span(&lost, 1), now, persistent);
}

// A bulk sender on a path with a fixed RTT and no queue: it keeps the window full, and every
// packet is acknowledged (one ACK per packet) exactly one RTT after it was sent.
struct BulkSim {
    CongestionController& cc;
    Duration rtt;
    Time now = at_ms(0);
    uint64_t next_pn = 0;
    std::deque<AckedPacketInfo> in_flight;

    void fill() {
        while (cc.can_send(kMds)) {
            cc.on_packet_sent(now, kMds, true);
            in_flight.push_back({next_pn++, kMds, now});
        }
    }
    // Acknowledges the oldest packet at its arrival time without sending anything after it.
    void ack_next() {
        const AckedPacketInfo p = in_flight.front();
        in_flight.pop_front();
        now = p.time_sent + rtt;
        cc.on_packets_acked(std::span(&p, 1), now, rtt_of(rtt));
    }
    void run_until(Time end) {
        fill();
        while (!in_flight.empty() && in_flight.front().time_sent + rtt <= end) {
            ack_next();
            fill();
        }
        now = end;
    }
    // Runs until the window reaches `bytes` (slow start).
    void grow_to(uint64_t bytes) {
        fill();
        while (cc.congestion_window() < bytes) {
            ack_next();
            fill();
        }
    }
    // The oldest packet in flight is declared lost now (a single loss event).
    void lose_oldest() {
        const AckedPacketInfo p = in_flight.front();
        in_flight.pop_front();
        lose(cc, p, now);
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared: windows, factory, parsing

TEST_CASE("cc: initial and minimum window (RFC 9002 §7.2)") {
    CHECK(initial_congestion_window(1200) == 12000);
    CHECK(initial_congestion_window(1472) == 14720);
    CHECK(initial_congestion_window(1500) == 14720);  // capped at max(14720, 2 * mds)
    CHECK(initial_congestion_window(9000) == 18000);  // 2 * mds above 14720
    CHECK(minimum_congestion_window(1200) == 2400);

    for (auto algo : {CongestionControlAlgorithm::kNewReno, CongestionControlAlgorithm::kCubic}) {
        SeededRandom random(1);
        auto cc = make_congestion_controller(algo, kMds, random);
        CHECK(cc->congestion_window() == 12000);
        CHECK(cc->bytes_in_flight() == 0);
        CHECK(cc->ssthresh() == kInfiniteSsthresh);
        CHECK(cc->in_slow_start());
        CHECK(std::string(cc->state_name()) == "slow_start");
        CHECK(cc->available_window() == 12000);
        CHECK(cc->can_send(12000));
        CHECK_FALSE(cc->can_send(12001));
    }
    // Below the QUIC minimum the controllers use 1200 (Appendix B.2).
    NewReno tiny(100);
    CHECK(tiny.max_datagram_size() == 1200);
    CHECK(tiny.congestion_window() == 12000);
}

TEST_CASE("cc: factory, names and parsing") {
    SeededRandom random(1);
    for (auto algo : {CongestionControlAlgorithm::kNewReno, CongestionControlAlgorithm::kCubic,
                      CongestionControlAlgorithm::kBbr})
        CHECK(std::string(make_congestion_controller(algo, kMds, random)->name()) ==
              congestion_control_name(algo));
    CHECK(std::string(congestion_control_name(CongestionControlAlgorithm::kBbr)) == "bbr");
    CHECK(parse_congestion_control("newreno") == CongestionControlAlgorithm::kNewReno);
    CHECK(parse_congestion_control("NewReno") == CongestionControlAlgorithm::kNewReno);
    CHECK(parse_congestion_control("cubic") == CongestionControlAlgorithm::kCubic);
    CHECK(parse_congestion_control("CUBIC") == CongestionControlAlgorithm::kCubic);
    CHECK(parse_congestion_control("bbr") == CongestionControlAlgorithm::kBbr);
    CHECK(parse_congestion_control("BBR") == CongestionControlAlgorithm::kBbr);
    CHECK_FALSE(parse_congestion_control("bbr2").has_value());
    CHECK_FALSE(parse_congestion_control("").has_value());
    CHECK_FALSE(parse_congestion_control("cubic ").has_value());
    for (auto algo : {CongestionControlAlgorithm::kNewReno, CongestionControlAlgorithm::kCubic,
                      CongestionControlAlgorithm::kBbr})
        CHECK(parse_congestion_control(congestion_control_name(algo)) == algo);
}

TEST_CASE("cc: maximum datagram size changes (RFC 9002 §7.2)") {
    NewReno cc(1200);
    cc.set_max_datagram_size(1500);  // untouched initial window is recalculated
    CHECK(cc.congestion_window() == 14720);
    CHECK(cc.minimum_window() == 3000);
    cc.set_max_datagram_size(1200);  // and again on a decrease
    CHECK(cc.congestion_window() == 12000);

    uint64_t pn = 0;
    auto flight = send(cc, at_ms(0), 10, pn);
    ack(cc, flight, at_ms(100));
    REQUIRE(cc.congestion_window() == 24000);
    cc.set_max_datagram_size(1400);  // a grown window stays
    CHECK(cc.congestion_window() == 24000);
    CHECK(cc.max_datagram_size() == 1400);
}

// ---------------------------------------------------------------------------------------------
// NewReno (RFC 9002 §7, Appendix B)

TEST_CASE("NewReno: slow start doubles the window per round trip of ACKs") {
    NewReno cc(kMds);
    uint64_t pn = 0;
    uint64_t expected = 12000;
    for (int round = 0; round < 5; ++round) {
        const Time t = at_ms(100 * round);
        auto flight = send(cc, t, expected / kMds, pn);
        CHECK(cc.bytes_in_flight() == expected);
        CHECK_FALSE(cc.can_send(kMds));
        ack(cc, flight, t + ms(100));
        expected *= 2;
        CHECK(cc.congestion_window() == expected);
        CHECK(cc.bytes_in_flight() == 0);
        CHECK(cc.in_slow_start());
    }
}

TEST_CASE("NewReno: one reduction per recovery period (RFC 9002 §7.3.2)") {
    NewReno cc(kMds);
    uint64_t pn = 0;
    ack(cc, send(cc, at_ms(0), 10, pn), at_ms(100));
    REQUIRE(cc.congestion_window() == 24000);

    auto flight = send(cc, at_ms(100), 20, pn);  // packets 10..29
    lose(cc, flight[0], at_ms(150));
    CHECK(cc.congestion_window() == 12000);  // kLossReductionFactor 0.5
    CHECK(cc.ssthresh() == 12000);
    CHECK_FALSE(cc.in_slow_start());
    CHECK(std::string(cc.state_name()) == "recovery");
    CHECK(cc.in_recovery(at_ms(100)));
    CHECK(cc.in_recovery(at_ms(150)));
    CHECK_FALSE(cc.in_recovery(at_ms(151)));

    // A second loss from the same flight is part of the same congestion event.
    lose(cc, flight[1], at_ms(160));
    CHECK(cc.congestion_window() == 12000);

    // ACKs of packets sent before the recovery started do not grow the window and do not end
    // the recovery period.
    ack(cc, std::span(flight).subspan(2, 8), at_ms(200));
    CHECK(cc.congestion_window() == 12000);
    CHECK(std::string(cc.state_name()) == "recovery");

    // A packet sent during recovery is acknowledged: the period ends (congestion avoidance).
    auto after = send(cc, at_ms(170), 1, pn);
    ack(cc, after, at_ms(270));
    CHECK(std::string(cc.state_name()) == "congestion_avoidance");
    CHECK(cc.congestion_window() == 12000);  // 1200 of 12000 bytes counted so far

    // Late loss reports of packets sent before the recovery started still do not reduce.
    lose(cc, flight[10], at_ms(280));
    CHECK(cc.congestion_window() == 12000);
    CHECK(std::string(cc.state_name()) == "congestion_avoidance");

    // A loss of a packet sent after the recovery start is a new event.
    auto later = send(cc, at_ms(290), 1, pn);
    lose(cc, later[0], at_ms(300));
    CHECK(cc.congestion_window() == 6000);
    CHECK(cc.ssthresh() == 6000);
}

TEST_CASE("NewReno: congestion avoidance grows one datagram per window acknowledged") {
    NewReno cc(kMds);
    uint64_t pn = 0;
    auto first = send(cc, at_ms(0), 10, pn);
    lose(cc, first[0], at_ms(50));  // ssthresh = cwnd = 6000
    REQUIRE(cc.congestion_window() == 6000);
    ack(cc, std::span(first).subspan(1), at_ms(100));  // in flight before recovery: ignored
    REQUIRE(cc.congestion_window() == 6000);

    // Acknowledge 5 packets (one window) sent after the recovery start: +1 mds exactly.
    ack(cc, send(cc, at_ms(100), 5, pn), at_ms(200));
    CHECK(cc.congestion_window() == 7200);
    // The next 1200 * 6 bytes give the next increment, not sooner.
    ack(cc, send(cc, at_ms(200), 5, pn), at_ms(300));
    CHECK(cc.congestion_window() == 7200);
    ack(cc, send(cc, at_ms(300), 1, pn), at_ms(400));
    CHECK(cc.congestion_window() == 8400);

    // Small packets add up without rounding loss (RFC 3465 byte counting, Appendix B.5).
    for (int i = 0; i < 84; ++i) {
        cc.on_packet_sent(at_ms(400), 100, true);
        const AckedPacketInfo p{pn++, 100, at_ms(400)};
        ack(cc, std::span(&p, 1), at_ms(500));
    }
    CHECK(cc.congestion_window() == 9600);
    CHECK(cc.bytes_in_flight() == 0);
}

TEST_CASE("NewReno: persistent congestion collapses to the minimum window (§7.6.2)") {
    NewReno cc(kMds);
    uint64_t pn = 0;
    ack(cc, send(cc, at_ms(0), 10, pn), at_ms(100));
    auto flight = send(cc, at_ms(100), 20, pn);
    std::vector<LostPacketInfo> lost;
    for (const auto& p : flight) lost.push_back({p.packet_number, p.bytes, p.time_sent});
    cc.on_packets_lost(lost, at_ms(2000), true);
    CHECK(cc.congestion_window() == 2400);
    CHECK(cc.ssthresh() == 12000);
    CHECK(cc.bytes_in_flight() == 0);
    CHECK(cc.in_slow_start());
    CHECK(std::string(cc.state_name()) == "slow_start");
    CHECK_FALSE(cc.in_recovery(at_ms(100)));

    // Back in slow start: the window grows by the bytes acknowledged.
    ack(cc, send(cc, at_ms(2000), 2, pn), at_ms(2100));
    CHECK(cc.congestion_window() == 4800);
}

TEST_CASE("NewReno: ECN-CE increase is a congestion event (Appendix B.7)") {
    NewReno cc(kMds);
    uint64_t pn = 0;
    auto flight = send(cc, at_ms(0), 10, pn);
    cc.on_ecn_congestion(at_ms(0), at_ms(100));
    CHECK(cc.congestion_window() == 6000);
    CHECK(std::string(cc.state_name()) == "recovery");
    // Another CE report for a packet sent before the recovery start: no second reduction.
    cc.on_ecn_congestion(at_ms(0), at_ms(110));
    CHECK(cc.congestion_window() == 6000);
    // Later events keep halving, but never below the minimum window.
    cc.on_ecn_congestion(at_ms(120), at_ms(200));
    CHECK(cc.congestion_window() == 3000);
    cc.on_ecn_congestion(at_ms(220), at_ms(300));
    CHECK(cc.congestion_window() == 2400);
    CHECK(cc.ssthresh() == 1500);
    cc.on_ecn_congestion(at_ms(320), at_ms(400));
    CHECK(cc.congestion_window() == 2400);
    CHECK(cc.bytes_in_flight() == 12000);  // ECN does not touch bytes in flight
}

TEST_CASE("NewReno: bytes in flight accounting, including discarded keys") {
    NewReno cc(kMds);
    cc.on_packet_sent(at_ms(0), 50, false);  // ACK-only: not in flight
    CHECK(cc.bytes_in_flight() == 0);
    cc.on_packet_sent(at_ms(0), 1200, true);  // Initial
    cc.on_packet_sent(at_ms(0), 1200, true);  // Initial
    cc.on_packet_sent(at_ms(1), 1000, true);  // Handshake
    cc.on_packet_sent(at_ms(2), 500, true);   // 1-RTT
    CHECK(cc.bytes_in_flight() == 3900);
    CHECK(cc.available_window() == 12000 - 3900);
    CHECK(cc.can_send(8100));
    CHECK_FALSE(cc.can_send(8101));

    cc.on_packets_discarded(2400);  // Initial keys discarded (§6.4)
    CHECK(cc.bytes_in_flight() == 1500);
    CHECK(cc.congestion_window() == 12000);  // not a congestion signal

    const AckedPacketInfo acked{3, 500, at_ms(2)};
    ack(cc, std::span(&acked, 1), at_ms(50));
    CHECK(cc.bytes_in_flight() == 1000);
    const LostPacketInfo lost{2, 1000, at_ms(1)};
    cc.on_packets_lost(std::span(&lost, 1), at_ms(60), false);
    CHECK(cc.bytes_in_flight() == 0);

    // Over-reporting saturates at zero instead of wrapping.
    cc.on_packets_discarded(100);
    CHECK(cc.bytes_in_flight() == 0);

    // Probes may exceed the window (§7.5); the available window is then 0, not negative.
    for (int i = 0; i < 12; ++i) cc.on_packet_sent(at_ms(70), 1200, true);
    CHECK(cc.bytes_in_flight() > cc.congestion_window());
    CHECK(cc.available_window() == 0);
    CHECK_FALSE(cc.can_send(1));
}

TEST_CASE("NewReno: an application-limited window does not grow (§7.8)") {
    NewReno cc(kMds);
    uint64_t pn = 0;
    auto flight = send(cc, at_ms(0), 2, pn);
    cc.on_app_limited(at_ms(0));  // nothing more to send, 9600 bytes of window unused
    CHECK(cc.app_limited());
    CHECK(std::string(cc.state_name()) == "application_limited");
    ack(cc, flight, at_ms(100));
    CHECK(cc.congestion_window() == 12000);

    // Sending again ends the period; ACKs of that data grow the window.
    auto more = send(cc, at_ms(100), 10, pn);
    CHECK_FALSE(cc.app_limited());
    ack(cc, more, at_ms(200));
    CHECK(cc.congestion_window() == 24000);

    // ACK-only packets do not end the period.
    cc.on_app_limited(at_ms(200));
    cc.on_packet_sent(at_ms(210), 40, false);
    CHECK(cc.app_limited());
    cc.on_packet_sent(at_ms(220), 1200, true);
    CHECK_FALSE(cc.app_limited());

    // With the window full the report is ignored: the window is in use.
    send(cc, at_ms(220), 19, pn);
    REQUIRE(cc.available_window() == 0);
    cc.on_app_limited(at_ms(220));
    CHECK_FALSE(cc.app_limited());

    // Also in congestion avoidance: bytes acknowledged during the period do not count toward
    // the next increment.
    NewReno ca(kMds);
    uint64_t pn2 = 0;
    auto f = send(ca, at_ms(0), 5, pn2);
    lose(ca, f[0], at_ms(10));                     // cwnd = ssthresh = 6000
    ack(ca, std::span(f).subspan(1), at_ms(100));  // sent before the recovery: ignored
    auto g = send(ca, at_ms(100), 4, pn2);         // 4800 of 6000 bytes
    ca.on_app_limited(at_ms(100));
    CHECK(ca.app_limited());
    ack(ca, g, at_ms(200));  // ends recovery, not counted
    CHECK(ca.congestion_window() == 6000);
    ack(ca, send(ca, at_ms(200), 2, pn2), at_ms(300));  // 2400 counted (7200 had g counted)
    CHECK(ca.congestion_window() == 6000);
    ack(ca, send(ca, at_ms(300), 3, pn2), at_ms(400));  // 6000 counted: one datagram more
    CHECK(ca.congestion_window() == 7200);
}

// ---------------------------------------------------------------------------------------------
// CUBIC (RFC 9438)

TEST_CASE("CUBIC: a loss reduces the window to beta * W_max (§4.6)") {
    Cubic cc(kMds);
    BulkSim sim{cc, ms(100)};
    sim.grow_to(100 * kMds);
    const uint64_t w = cc.congestion_window();
    sim.lose_oldest();
    CHECK(cc.w_max() == doctest::Approx(static_cast<double>(w)));
    CHECK(cc.congestion_window() == static_cast<uint64_t>(static_cast<double>(w) * 0.7));
    CHECK(cc.ssthresh() == cc.congestion_window());
    CHECK(std::string(cc.state_name()) == "recovery");
    CHECK(Cubic::kAlpha == doctest::Approx(0.9 / 1.7));

    // ECN-CE reacts the same way, once per recovery period.
    Cubic ecn(kMds);
    ecn.on_ecn_congestion(at_ms(0), at_ms(10));
    CHECK(ecn.congestion_window() == 8400);
    ecn.on_ecn_congestion(at_ms(5), at_ms(20));
    CHECK(ecn.congestion_window() == 8400);
}

TEST_CASE("CUBIC: the window follows W_cubic and reaches W_max at t = K (§4.2, §4.4, §4.5)") {
    Cubic cc(kMds);
    const Duration rtt = ms(100);
    BulkSim sim{cc, rtt};
    sim.grow_to(160 * kMds);
    const double w_max = static_cast<double>(cc.congestion_window());
    sim.lose_oldest();
    const double cwnd_epoch = static_cast<double>(cc.congestion_window());

    // The stage starts at the first ACK of a packet sent after the loss.
    sim.run_until(sim.now + 3 * rtt);
    REQUIRE(cc.epoch_start().has_value());
    const Time epoch = *cc.epoch_start();
    const double k = std::cbrt((w_max - cwnd_epoch) / kMds / Cubic::kC);
    CHECK(cc.k_seconds() == doctest::Approx(k));
    CHECK(k == doctest::Approx(std::cbrt(160 * 0.3 / 0.4)).epsilon(0.01));
    CHECK(cc.w_cubic(Duration::zero()) == doctest::Approx(cwnd_epoch));
    CHECK(cc.w_cubic(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(k))) ==
          doctest::Approx(w_max));

    auto at_epoch = [&](double seconds) {
        return epoch + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
    };
    std::vector<double> samples;  // cwnd at K-2, K-1, K, K+1, K+2 seconds
    for (int i = -2; i <= 2; ++i) {
        sim.run_until(at_epoch(k + i));
        const double cwnd = static_cast<double>(cc.congestion_window());
        samples.push_back(cwnd);
        // The window tracks the curve one RTT ahead, within a few datagrams of ACK granularity.
        const double t = k + i;
        const double ahead = cc.w_cubic(
            std::chrono::duration_cast<Duration>(std::chrono::duration<double>(t)) + rtt);
        CHECK(cwnd == doctest::Approx(ahead).epsilon(0.02));
    }
    // At t = K the window is back at W_max (the plateau).
    CHECK(samples[2] == doctest::Approx(w_max).epsilon(0.02));
    // Concave below W_max: growth slows down approaching the plateau ...
    CHECK(samples[1] - samples[0] > 2 * (samples[2] - samples[1]));
    // ... convex above it: growth speeds up probing beyond.
    CHECK(samples[4] - samples[3] > 2 * (samples[3] - samples[2]));
    CHECK(samples[4] > w_max);
}

TEST_CASE("CUBIC: Reno-friendly region with a small RTT (§4.3)") {
    Cubic cc(kMds);
    const Duration rtt = ms(1);
    BulkSim sim{cc, rtt};
    sim.grow_to(100 * kMds);
    const double w_prior = static_cast<double>(cc.congestion_window());
    sim.lose_oldest();
    // The window stays at cwnd_epoch through the recovery period, until the stage starts.
    const double start = static_cast<double>(cc.congestion_window());
    sim.run_until(sim.now + 3 * rtt);
    REQUIRE(cc.epoch_start().has_value());
    const Time epoch = *cc.epoch_start();

    // 20 RTTs: the cubic curve has barely moved (t = 20 ms against K ~ 4.2 s), but the window
    // grows at least at the AIMD(alpha_cubic) rate: alpha_cubic datagrams per RTT.
    sim.run_until(epoch + 20 * rtt);
    const double after20 = static_cast<double>(cc.congestion_window());
    CHECK(cc.w_cubic(20 * rtt) < after20);
    CHECK(after20 - start >= 0.95 * 20 * Cubic::kAlpha * kMds);
    CHECK(after20 - start <= 1.1 * 20 * Cubic::kAlpha * kMds);

    // Once W_est has passed the window before the reduction, alpha becomes 1: Reno's rate, one
    // datagram per RTT.
    const int rtts_to_prior =
        static_cast<int>(std::ceil((w_prior - start) / kMds / Cubic::kAlpha)) + 5;
    sim.run_until(epoch + rtts_to_prior * rtt);
    REQUIRE(cc.w_est() > w_prior);
    const double before = static_cast<double>(cc.congestion_window());
    sim.run_until(epoch + (rtts_to_prior + 10) * rtt);
    const double growth = static_cast<double>(cc.congestion_window()) - before;
    CHECK(growth >= 9.5 * kMds);
    CHECK(growth <= 10.5 * kMds);
}

TEST_CASE("CUBIC: fast convergence lowers W_max after an early loss (§4.7)") {
    Cubic cc(kMds);
    const Duration rtt = ms(100);
    BulkSim sim{cc, rtt};
    sim.grow_to(100 * kMds);
    const double w1 = static_cast<double>(cc.congestion_window());
    sim.lose_oldest();
    REQUIRE(cc.w_max() == doctest::Approx(w1));

    // Grow for a while, but not back to W_max, then lose again.
    sim.run_until(sim.now + 10 * rtt);
    const double w2 = static_cast<double>(cc.congestion_window());
    REQUIRE(w2 < w1);
    REQUIRE(w2 > 0.7 * w1);
    sim.lose_oldest();
    CHECK(*cc.w_max() == doctest::Approx(w2 * (1 + Cubic::kBeta) / 2).epsilon(0.001));
    CHECK(static_cast<double>(cc.congestion_window()) ==
          doctest::Approx(w2 * Cubic::kBeta).epsilon(0.001));
    // The next stage aims lower, so K is shorter than without fast convergence.
    sim.run_until(sim.now + 3 * rtt);
    REQUIRE(cc.epoch_start().has_value());
    CHECK(cc.k_seconds() < std::cbrt(w2 * 0.3 / kMds / Cubic::kC));
}

TEST_CASE("CUBIC: persistent congestion resets to the minimum window (§4.8)") {
    Cubic cc(kMds);
    const Duration rtt = ms(100);
    BulkSim sim{cc, rtt};
    sim.grow_to(100 * kMds);
    sim.lose_oldest();
    sim.run_until(sim.now + 5 * rtt);
    REQUIRE(cc.epoch_start().has_value());

    std::vector<LostPacketInfo> lost;
    for (const auto& p : sim.in_flight) lost.push_back({p.packet_number, p.bytes, p.time_sent});
    sim.in_flight.clear();
    sim.now += ms(2000);
    cc.on_packets_lost(lost, sim.now, true);
    CHECK(cc.congestion_window() == 2400);
    CHECK(cc.bytes_in_flight() == 0);
    CHECK(cc.in_slow_start());
    CHECK_FALSE(cc.w_max().has_value());
    CHECK_FALSE(cc.epoch_start().has_value());
    const uint64_t ssthresh = cc.ssthresh();

    // Slow start up to ssthresh, then a stage with K = 0 around the window at its start.
    sim.grow_to(ssthresh);
    sim.run_until(sim.now + 2 * rtt);
    REQUIRE(cc.epoch_start().has_value());
    CHECK(cc.k_seconds() == doctest::Approx(0.0));
    REQUIRE(cc.w_max().has_value());
    CHECK(*cc.w_max() >= static_cast<double>(ssthresh));
}

TEST_CASE("CUBIC: application-limited time does not count in t") {
    Cubic cc(kMds);
    const Duration rtt = ms(100);
    BulkSim sim{cc, rtt};
    sim.grow_to(50 * kMds);
    sim.lose_oldest();
    sim.run_until(sim.now + 5 * rtt);
    REQUIRE(cc.epoch_start().has_value());
    const Time epoch = *cc.epoch_start();

    sim.ack_next();  // room for one datagram, and nothing to send
    cc.on_app_limited(sim.now);
    REQUIRE(cc.app_limited());
    const Time idle_start = sim.now;
    const uint64_t cwnd = cc.congestion_window();
    while (!sim.in_flight.empty()) sim.ack_next();  // no growth while application limited
    CHECK(cc.congestion_window() == cwnd);
    sim.now = idle_start + ms(3000);
    sim.fill();  // sending resumes: the idle 3 s are taken out of the stage
    CHECK(*cc.epoch_start() == epoch + ms(3000));
}
