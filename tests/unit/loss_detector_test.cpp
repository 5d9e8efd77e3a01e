#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "recovery/limits.h"
#include "recovery/loss_detector.h"

using namespace quic;
using namespace std::chrono_literals;

namespace {

constexpr auto kInitial = PacketNumberSpaceId::kInitial;
constexpr auto kHandshake = PacketNumberSpaceId::kHandshake;
constexpr auto kApp = PacketNumberSpaceId::kApplicationData;

Time at(Duration d) {
    return Time(d);
}

SentPacket packet(uint64_t pn, bool ack_eliciting = true, size_t bytes = 1200) {
    SentPacket p;
    p.packet_number = pn;
    p.sent_bytes = bytes;
    p.ack_eliciting = ack_eliciting;
    p.in_flight = ack_eliciting;
    return p;
}

// A server after the handshake: confirmed, address validation done.
RecoveryContext confirmed_ctx(Duration max_ack_delay = 25ms) {
    RecoveryContext c;
    c.handshake_confirmed = true;
    c.max_ack_delay = max_ack_delay;
    c.peer_completed_address_validation = true;
    c.has_handshake_keys = true;
    return c;
}

// An ACK frame from (smallest, largest) pairs, descending.
AckFrame ack_of(std::vector<AckRange> ranges) {
    AckFrame a;
    a.largest_acknowledged = ranges.front().largest;
    a.ranges = std::move(ranges);
    return a;
}

std::vector<uint64_t> numbers(const std::vector<SentPacket>& packets) {
    std::vector<uint64_t> out;
    for (const SentPacket& p : packets) out.push_back(p.packet_number);
    return out;
}

}  // namespace

TEST_CASE("LossDetector: packet threshold loss, then time threshold via the timer") {
    LossDetector ld;
    const RecoveryContext ctx = confirmed_ctx();
    for (uint64_t pn = 0; pn <= 5; ++pn) ld.on_packet_sent(kApp, packet(pn), at(0ms));
    CHECK(ld.bytes_in_flight(kApp) == 6 * 1200);

    // ACK of 5 at 50 ms: latest_rtt = smoothed_rtt = 50 ms, loss delay = 56.25 ms.
    auto r = ld.on_ack_received(kApp, ack_of({{5, 5}}), 0ms, at(50ms), ctx);
    REQUIRE(r.ok());
    CHECK(numbers(r->acked) == std::vector<uint64_t>{5});
    // §6.1.1: 5 >= pn + 3 for 0, 1, 2.
    CHECK(numbers(r->lost) == std::vector<uint64_t>{0, 1, 2});
    CHECK(r->rtt_updated);
    CHECK(r->largest_acked_time_sent == at(0ms));
    CHECK_FALSE(r->persistent_congestion);
    CHECK(ld.rtt().smoothed_rtt() == 50ms);
    CHECK(ld.bytes_in_flight(kApp) == 2 * 1200);
    // 3 and 4 wait for the time threshold: sent at 0, lost at 56.25 ms (§6.1.2).
    CHECK(ld.loss_time(kApp) == at(Duration(56'250'000)));
    CHECK(ld.loss_detection_timer() == at(Duration(56'250'000)));

    // Early call: nothing happens.
    auto early = ld.on_loss_detection_timeout(at(56ms), ctx);
    CHECK(early.kind == TimeoutOutcome::Kind::kNone);
    CHECK(ld.tracked_packets(kApp) == 2);

    auto t = ld.on_loss_detection_timeout(at(Duration(56'250'000)), ctx);
    CHECK(t.kind == TimeoutOutcome::Kind::kLoss);
    CHECK(t.space == kApp);
    CHECK(numbers(t.lost) == std::vector<uint64_t>{3, 4});
    CHECK(ld.tracked_packets(kApp) == 0);
    CHECK(ld.bytes_in_flight() == 0);
    CHECK_FALSE(ld.loss_time(kApp).has_value());
    CHECK_FALSE(ld.loss_detection_timer().has_value());  // nothing in flight
    CHECK(ld.pto_count() == 0);
}

TEST_CASE("LossDetector: time threshold alone declares an old packet lost on ACK") {
    LossDetector ld;
    const RecoveryContext ctx = confirmed_ctx();
    ld.on_packet_sent(kApp, packet(0), at(0ms));
    ld.on_packet_sent(kApp, packet(1), at(100ms));
    // latest_rtt = 50 ms, loss delay 56.25 ms: packet 0 (sent at 0) <= 150 - 56.25.
    auto r = ld.on_ack_received(kApp, ack_of({{1, 1}}), 0ms, at(150ms), ctx);
    REQUIRE(r.ok());
    CHECK(numbers(r->lost) == std::vector<uint64_t>{0});
    CHECK_FALSE(ld.loss_time(kApp).has_value());
}

TEST_CASE("LossDetector: non-ack-eliciting acks take no RTT sample (§5.1)") {
    LossDetector ld;
    const RecoveryContext ctx = confirmed_ctx();
    ld.on_packet_sent(kApp, packet(0, /*ack_eliciting=*/false, 50), at(0ms));
    auto r = ld.on_ack_received(kApp, ack_of({{0, 0}}), 0ms, at(30ms), ctx);
    REQUIRE(r.ok());
    CHECK(r->acked.size() == 1);
    CHECK_FALSE(r->rtt_updated);
    CHECK_FALSE(ld.rtt().has_sample());
    // Acking an older packet only (largest not newly acked): no sample either.
    ld.on_packet_sent(kApp, packet(1), at(40ms));
    ld.on_packet_sent(kApp, packet(2), at(41ms));
    r = ld.on_ack_received(kApp, ack_of({{2, 2}}), 0ms, at(60ms), ctx);
    REQUIRE(r.ok());
    CHECK(r->rtt_updated);
    r = ld.on_ack_received(kApp, ack_of({{2, 2}, {1, 1}}), 0ms, at(70ms), ctx);
    REQUIRE(r.ok());
    CHECK(numbers(r->acked) == std::vector<uint64_t>{1});
    CHECK_FALSE(r->rtt_updated);
    CHECK_FALSE(r->largest_acked_time_sent.has_value());
}

TEST_CASE("LossDetector: PTO fires and backs off by 2^pto_count (§6.2.1)") {
    LossDetector ld;
    const RecoveryContext ctx = confirmed_ctx(25ms);
    // on_packet_sent arms the timer with the last context the detector was given.
    CHECK_FALSE(ld.loss_detection_timer().has_value());
    ld.on_context_changed(ctx, at(0ms));
    ld.on_packet_sent(kApp, packet(0), at(0ms));
    // Initial RTT: 333 + 4*166.5 + 25 = 1024 ms.
    CHECK(ld.loss_detection_timer() == at(1024ms));

    auto t = ld.on_loss_detection_timeout(at(1024ms), ctx);
    CHECK(t.kind == TimeoutOutcome::Kind::kPto);
    CHECK(t.space == kApp);
    CHECK(t.probe_datagrams == 2);
    CHECK(t.probe_spaces[2]);
    CHECK_FALSE(t.probe_spaces[0]);
    CHECK(t.lost.empty());  // §6.2: a PTO declares nothing lost
    CHECK(ld.pto_count() == 1);
    CHECK(ld.tracked_packets(kApp) == 1);
    // (999 + 25) * 2 from the last ack-eliciting send.
    CHECK(ld.loss_detection_timer() == at(2048ms));

    ld.on_packet_sent(kApp, packet(1), at(1024ms));  // the probe
    CHECK(ld.loss_detection_timer() == at(1024ms + 2048ms));
    t = ld.on_loss_detection_timeout(at(3072ms), ctx);
    CHECK(t.kind == TimeoutOutcome::Kind::kPto);
    CHECK(ld.pto_count() == 2);
    CHECK(ld.loss_detection_timer() == at(1024ms + 4096ms));

    // An ACK resets the backoff (§6.2.1).
    auto r = ld.on_ack_received(kApp, ack_of({{1, 1}}), 0ms, at(3100ms), ctx);
    REQUIRE(r.ok());
    CHECK(ld.pto_count() == 0);
}

TEST_CASE("LossDetector: a client unsure of address validation keeps its PTO backoff") {
    LossDetector ld;
    RecoveryContext ctx;  // client: nothing confirmed or validated
    ld.on_packet_sent(kInitial, packet(0), at(0ms));
    ld.on_packet_sent(kInitial, packet(1), at(0ms));
    CHECK(ld.loss_detection_timer() == at(999ms));  // no max_ack_delay for Initial
    auto t = ld.on_loss_detection_timeout(at(999ms), ctx);
    CHECK(t.kind == TimeoutOutcome::Kind::kPto);
    CHECK(t.space == kInitial);
    CHECK(ld.pto_count() == 1);
    auto r = ld.on_ack_received(kInitial, ack_of({{0, 0}}), 0ms, at(1100ms), ctx);
    REQUIRE(r.ok());
    CHECK(ld.pto_count() == 1);  // §6.2.1: not reset at such a client
}

TEST_CASE("LossDetector: PTO per space, Application Data only once confirmed (§6.2.1)") {
    LossDetector ld;
    RecoveryContext ctx;
    ctx.peer_completed_address_validation = true;  // a server
    ctx.has_handshake_keys = true;
    ld.on_context_changed(ctx, at(0ms));
    ld.on_packet_sent(kApp, packet(0), at(0ms));
    // Only Application Data in flight, handshake not confirmed: no timer.
    CHECK_FALSE(ld.loss_detection_timer().has_value());

    ld.on_packet_sent(kInitial, packet(0), at(5ms));
    CHECK(ld.loss_detection_timer() == at(5ms + 999ms));  // no max_ack_delay (§6.2.1)
    ld.on_packet_sent(kHandshake, packet(0), at(10ms));
    CHECK(ld.loss_detection_timer() == at(5ms + 999ms));  // the earlier space wins

    auto t = ld.on_loss_detection_timeout(at(1004ms), ctx);
    CHECK(t.kind == TimeoutOutcome::Kind::kPto);
    CHECK(t.space == kInitial);
    // §6.2.4: also probe the other spaces with ack-eliciting packets in flight.
    CHECK(t.probe_spaces[0]);
    CHECK(t.probe_spaces[1]);
    CHECK(t.probe_spaces[2]);

    // Discarding Initial and Handshake (§6.4) and confirming the handshake arms the
    // Application Data PTO, with max_ack_delay.
    auto removed = ld.discard_space(kInitial, at(1100ms));
    CHECK(removed.size() == 1);
    CHECK(ld.pto_count() == 0);
    ld.discard_space(kHandshake, at(1100ms));
    CHECK_FALSE(ld.loss_detection_timer().has_value());
    ctx.handshake_confirmed = true;
    ld.on_context_changed(ctx, at(1100ms));
    CHECK(ld.loss_detection_timer() == at(999ms + 25ms));  // from the send at 0
}

TEST_CASE("LossDetector: anti-amplification and the client's anti-deadlock PTO (§6.2.2.1)") {
    SUBCASE("a blocked server arms no PTO until unblocked") {
        LossDetector ld;
        RecoveryContext ctx;
        ctx.peer_completed_address_validation = true;
        ctx.amplification_blocked = true;
        ld.on_context_changed(ctx, at(0ms));
        ld.on_packet_sent(kInitial, packet(0), at(0ms));
        CHECK_FALSE(ld.loss_detection_timer().has_value());
        ctx.amplification_blocked = false;
        ld.on_context_changed(ctx, at(2000ms));         // a datagram arrived
        CHECK(ld.loss_detection_timer() == at(999ms));  // in the past: run it now
        auto t = ld.on_loss_detection_timeout(at(2000ms), ctx);
        CHECK(t.kind == TimeoutOutcome::Kind::kPto);
    }
    SUBCASE("a client with nothing in flight still arms a PTO") {
        LossDetector ld;
        RecoveryContext ctx;  // client, address validation not known complete
        ld.on_packet_sent(kInitial, packet(0), at(0ms));
        auto r = ld.on_ack_received(kInitial, ack_of({{0, 0}}), 0ms, at(100ms), ctx);
        REQUIRE(r.ok());
        CHECK_FALSE(ld.has_ack_eliciting_in_flight());
        // srtt 100, rttvar 50: PTO 300 ms from now.
        CHECK(ld.loss_detection_timer() == at(400ms));
        auto t = ld.on_loss_detection_timeout(at(400ms), ctx);
        CHECK(t.kind == TimeoutOutcome::Kind::kPto);
        CHECK(t.anti_deadlock);
        CHECK(t.space == kInitial);
        CHECK(t.probe_datagrams == 1);
        CHECK(ld.pto_count() == 1);
        CHECK(ld.loss_detection_timer() == at(400ms + 600ms));

        ctx.has_handshake_keys = true;
        t = ld.on_loss_detection_timeout(at(1000ms), ctx);
        CHECK(t.anti_deadlock);
        CHECK(t.space == kHandshake);

        // Once the server validated the address, no timer without packets in flight.
        ctx.peer_completed_address_validation = true;
        ld.on_context_changed(ctx, at(1100ms));
        CHECK_FALSE(ld.loss_detection_timer().has_value());
    }
}

TEST_CASE("LossDetector: ACK of an unsent or skipped packet is a PROTOCOL_VIOLATION") {
    LossDetector ld;
    const RecoveryContext ctx = confirmed_ctx();
    ld.on_packet_sent(kApp, packet(0), at(0ms));
    ld.on_packet_number_skipped(kApp, 1);
    ld.on_packet_sent(kApp, packet(2), at(1ms));
    ld.on_packet_sent(kApp, packet(5), at(2ms));  // 3 and 4 jumped over: skipped too

    auto unsent = ld.on_ack_received(kApp, ack_of({{6, 6}}), 0ms, at(10ms), ctx);
    REQUIRE_FALSE(unsent.ok());
    CHECK(unsent.error().is_transport(TransportErrorCode::kProtocolViolation));
    CHECK(unsent.error().frame_type == 0x02);

    auto skipped = ld.on_ack_received(kApp, ack_of({{0, 2}}), 0ms, at(10ms), ctx);
    REQUIRE_FALSE(skipped.ok());
    CHECK(skipped.error().is_transport(TransportErrorCode::kProtocolViolation));
    auto jumped = ld.on_ack_received(kApp, ack_of({{4, 5}}), 0ms, at(10ms), ctx);
    CHECK_FALSE(jumped.ok());
    // Nothing changed by the rejected frames.
    CHECK(ld.tracked_packets(kApp) == 3);
    CHECK_FALSE(ld.largest_acked(kApp).has_value());

    auto fine = ld.on_ack_received(kApp, ack_of({{5, 5}, {2, 2}, {0, 0}}), 0ms, at(10ms), ctx);
    REQUIRE(fine.ok());
    CHECK(numbers(fine->acked) == std::vector<uint64_t>{0, 2, 5});

    // Nothing sent at all in a space.
    auto none = ld.on_ack_received(kHandshake, ack_of({{0, 0}}), 0ms, at(10ms), ctx);
    CHECK_FALSE(none.ok());
}

TEST_CASE("LossDetector: huge ACK ranges cost O(ranges), not O(packet numbers)") {
    LossDetector ld;
    const RecoveryContext ctx = confirmed_ctx();
    constexpr uint64_t kMaxPn = (uint64_t{1} << 62) - 1;
    for (uint64_t pn = 0; pn < 5; ++pn) ld.on_packet_sent(kApp, packet(pn), at(0ms));

    // [0, 2^62-1] against 5 sent packets: rejected at once.
    auto r = ld.on_ack_received(kApp, ack_of({{0, kMaxPn}}), 0ms, at(10ms), ctx);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is_transport(TransportErrorCode::kProtocolViolation));

    // A packet number near the top: a range spanning ~2^62 numbers is valid and fast.
    ld.on_packet_sent(kApp, packet(kMaxPn - 1), at(1ms));
    r = ld.on_ack_received(kApp, ack_of({{kMaxPn - 1, kMaxPn - 1}, {0, kMaxPn - 1000}}), 0ms,
                           at(10ms), ctx);
    REQUIRE(r.ok());
    CHECK(numbers(r->acked) == std::vector<uint64_t>{0, 1, 2, 3, 4, kMaxPn - 1});
    CHECK(ld.tracked_packets(kApp) == 0);
}

TEST_CASE("LossDetector: many packets and many ranges") {
    LossDetector ld;
    const RecoveryContext ctx = confirmed_ctx();
    for (uint64_t pn = 0; pn < 20000; ++pn) ld.on_packet_sent(kApp, packet(pn), at(0ms));
    // ACK every other packet from the top: 256 ranges of one packet each.
    std::vector<AckRange> ranges;
    for (uint64_t i = 0; i < 256; ++i) ranges.push_back({19999 - 2 * i, 19999 - 2 * i});
    auto r = ld.on_ack_received(kApp, ack_of(ranges), 0ms, at(20ms), ctx);
    REQUIRE(r.ok());
    CHECK(r->acked.size() == 256);
    // Lowest acked: 19489. Lost by packet threshold: 0..19488 and the even numbers
    // 19490..19996; 19998 waits for the time threshold.
    CHECK(r->lost.size() == 19489 + 254);
    CHECK(ld.tracked_packets(kApp) == 1);
}

namespace {

// RFC 9002 §7.6.2's example, with time units of one second. The estimator is primed so
// that smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay = 2 s when the ACK of
// packet 1 is processed: a first sample of 0.4 s (packet 0), then packet 1's ACK at 1.2 s
// with ACK Delay 0.8 s gives adjusted_rtt 0.4 s: smoothed 0.4, rttvar 0.15, and
// max_ack_delay is 1 s.
struct PcExample {
    LossDetector ld;
    RecoveryContext ctx = confirmed_ctx(1000ms);
    static constexpr Duration kT0 = 10s;

    PcExample() {
        ld.on_context_changed(ctx, at(0ms));
        ld.on_packet_sent(kApp, packet(0), at(0ms));
        REQUIRE(ld.on_ack_received(kApp, ack_of({{0, 0}}), 0ms, at(400ms), ctx).ok());
    }
    void send(uint64_t pn, Duration t) { ld.on_packet_sent(kApp, packet(pn), at(kT0 + t)); }
    Result<AckOutcome> ack(std::vector<AckRange> ranges, Duration t, Duration delay = 0ms) {
        return ld.on_ack_received(kApp, ack_of(std::move(ranges)), delay, at(kT0 + t), ctx);
    }
};

}  // namespace

TEST_CASE("LossDetector: persistent congestion, RFC 9002 §7.6.2 example") {
    PcExample ex;
    ex.send(1, 0ms);
    ex.send(2, 1000ms);
    auto a1 = ex.ack({{1, 1}}, 1200ms, 800ms);
    REQUIRE(a1.ok());
    CHECK(ex.ld.rtt().smoothed_rtt() == 400ms);
    CHECK(ex.ld.rtt().rttvar() == 150ms);
    CHECK(ex.ld.rtt().pto_duration(true, ex.ctx.max_ack_delay) == 2s);

    for (uint64_t pn = 3; pn <= 7; ++pn) ex.send(pn, std::chrono::seconds(pn - 1));
    ex.send(8, 8s);   // PTO 1
    ex.send(9, 12s);  // PTO 2

    SUBCASE("established: packets 2..8 lost over 7 s > 3 * 2 s") {
        auto r = ex.ack({{9, 9}}, 12200ms);
        REQUIRE(r.ok());
        CHECK(numbers(r->lost) == std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8});
        CHECK(r->persistent_congestion);
        // §5.2: min_rtt restarts from the newest sample (0.2 s).
        CHECK(ex.ld.rtt().min_rtt() == 200ms);
    }
    SUBCASE("not established when a packet in between was acknowledged") {
        auto r = ex.ack({{9, 9}, {5, 5}}, 12200ms);
        REQUIRE(r.ok());
        CHECK(numbers(r->lost) == std::vector<uint64_t>{2, 3, 4, 6, 7, 8});
        CHECK_FALSE(r->persistent_congestion);
    }
}

TEST_CASE("LossDetector: persistent congestion needs the duration and a prior RTT sample") {
    SUBCASE("span too short") {
        PcExample ex;
        ex.send(1, 0ms);
        ex.send(2, 1000ms);
        REQUIRE(ex.ack({{1, 1}}, 1200ms, 800ms).ok());
        ex.send(3, 2s);
        ex.send(4, 3s);
        ex.send(5, 4s);
        auto r = ex.ack({{5, 5}}, 4200ms);
        REQUIRE(r.ok());
        CHECK(numbers(r->lost) == std::vector<uint64_t>{2, 3, 4});
        CHECK_FALSE(r->persistent_congestion);
    }
    SUBCASE("all lost packets sent before the first RTT sample") {
        LossDetector ld;
        const RecoveryContext ctx = confirmed_ctx(1000ms);
        for (uint64_t pn = 0; pn <= 8; ++pn)
            ld.on_packet_sent(kApp, packet(pn), at(std::chrono::seconds(pn)));
        ld.on_packet_sent(kApp, packet(9), at(12s));
        auto r = ld.on_ack_received(kApp, ack_of({{9, 9}}), 0ms, at(12200ms), ctx);
        REQUIRE(r.ok());
        CHECK(r->lost.size() == 9);
        CHECK_FALSE(r->persistent_congestion);
    }
    SUBCASE("a skipped packet number does not break the run") {
        PcExample ex;
        ex.send(1, 0ms);
        ex.send(2, 1000ms);
        REQUIRE(ex.ack({{1, 1}}, 1200ms, 800ms).ok());
        ex.send(3, 2s);
        ex.ld.on_packet_number_skipped(kApp, 4);
        for (uint64_t pn = 5; pn <= 8; ++pn) ex.send(pn, std::chrono::seconds(pn - 2));
        ex.send(9, 8s);
        ex.send(10, 12s);
        auto r = ex.ack({{10, 10}}, 12200ms);
        REQUIRE(r.ok());
        CHECK(numbers(r->lost) == std::vector<uint64_t>{2, 3, 5, 6, 7, 8, 9});
        CHECK(r->persistent_congestion);
    }
}

TEST_CASE("LossDetector: discard_space removes in-flight packets and ignores the space") {
    LossDetector ld;
    RecoveryContext ctx;
    ctx.peer_completed_address_validation = true;
    ld.on_packet_sent(kInitial, packet(0), at(0ms));
    ld.on_packet_sent(kInitial, packet(1, false, 40), at(1ms));  // ACK-only: not in flight
    ld.on_packet_sent(kInitial, packet(2), at(2ms));
    ld.on_packet_sent(kHandshake, packet(0), at(3ms));
    CHECK(ld.bytes_in_flight() == 3 * 1200);
    CHECK(ld.on_loss_detection_timeout(at(1001ms), ctx).kind == TimeoutOutcome::Kind::kPto);
    CHECK(ld.pto_count() == 1);

    auto removed = ld.discard_space(kInitial, at(1100ms));
    CHECK(numbers(removed) == std::vector<uint64_t>{0, 2});
    CHECK(ld.bytes_in_flight(kInitial) == 0);
    CHECK(ld.bytes_in_flight() == 1200);
    CHECK(ld.tracked_packets(kInitial) == 0);
    CHECK(ld.pto_count() == 0);
    // Timer now from the Handshake packet: 3 ms + 999 ms.
    CHECK(ld.loss_detection_timer() == at(1002ms));

    // Later sends and ACKs in the discarded space are ignored.
    ld.on_packet_sent(kInitial, packet(3), at(1200ms));
    CHECK(ld.tracked_packets(kInitial) == 0);
    auto r = ld.on_ack_received(kInitial, ack_of({{2, 2}}), 0ms, at(1200ms), ctx);
    REQUIRE(r.ok());
    CHECK(r->acked.empty());
}

TEST_CASE("LossDetector: Retry resets recovery state but keeps packet numbers going") {
    LossDetector ld;
    RecoveryContext ctx;
    ld.on_packet_sent(kInitial, packet(0), at(0ms));
    ld.on_packet_sent(kApp, packet(0), at(0ms));  // 0-RTT
    auto removed = ld.on_retry_received(at(50ms));
    CHECK(removed.size() == 2);
    CHECK(ld.bytes_in_flight() == 0);
    ld.on_packet_sent(kInitial, packet(1), at(50ms));
    auto r = ld.on_ack_received(kInitial, ack_of({{1, 1}}), 0ms, at(100ms), ctx);
    REQUIRE(r.ok());
    CHECK(r->acked.size() == 1);
}

TEST_CASE("LossDetector: ECN-CE increase is reported once per increase") {
    LossDetector ld;
    const RecoveryContext ctx = confirmed_ctx();
    for (uint64_t pn = 0; pn < 3; ++pn) ld.on_packet_sent(kApp, packet(pn), at(0ms));
    AckFrame a = ack_of({{0, 0}});
    a.ecn = EcnCounts{1, 0, 1};
    auto r = ld.on_ack_received(kApp, a, 0ms, at(10ms), ctx);
    REQUIRE(r.ok());
    CHECK(r->ecn_ce_increased);
    a = ack_of({{1, 1}});
    a.ecn = EcnCounts{2, 0, 1};
    r = ld.on_ack_received(kApp, a, 0ms, at(11ms), ctx);
    REQUIRE(r.ok());
    CHECK_FALSE(r->ecn_ce_increased);
}

TEST_CASE("LossDetector: packets not in flight are capped") {
    LossDetector ld;
    for (uint64_t pn = 0; pn < 5000; ++pn) ld.on_packet_sent(kApp, packet(pn, false, 30), at(0ms));
    CHECK(ld.tracked_packets(kApp) == kMaxNonInFlightPacketsTracked);
    CHECK(ld.bytes_in_flight() == 0);
    CHECK_FALSE(ld.loss_detection_timer().has_value());
}
