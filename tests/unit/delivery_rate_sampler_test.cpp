// The delivery rate sampler (draft-ietf-ccwg-bbr, "Delivery Rate Samples") on hand-made
// send and ACK sequences whose rates are known.
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "cc/delivery_rate_sampler.h"

using namespace quic;
using namespace std::chrono_literals;

namespace {

constexpr size_t kSize = 1000;

Time at(Duration d) {
    return Time{} + d;
}

struct Sent {
    Time time;
    DeliveryStamp stamp;
};

// One packet of kSize every `gap` from `start`, with `inflight` the bytes already in flight.
std::vector<Sent> send(DeliveryRateSampler& s, Time start, Duration gap, int count,
                       uint64_t& inflight) {
    std::vector<Sent> out;
    for (int i = 0; i < count; ++i) {
        const Time t = start + gap * i;
        out.push_back({t, s.on_packet_sent(t, kSize, inflight)});
        inflight += kSize;
    }
    return out;
}

RateSample ack(DeliveryRateSampler& s, Time now, const std::vector<Sent>& packets,
               uint64_t& inflight, std::optional<Duration> min_rtt = 10ms) {
    s.begin_ack();
    for (const Sent& p : packets) {
        s.on_packet_acked(now, kSize, p.time, p.stamp);
        inflight -= kSize;
    }
    return s.generate(now, min_rtt);
}

}  // namespace

TEST_CASE("delivery rate: ACKs spaced by the bottleneck give its rate") {
    // 1000-byte packets sent every 1 ms (1 MB/s) over a 10 ms path that delivers them at the
    // same pace: once the first flight is acknowledged, every ACK measures 1 MB/s.
    DeliveryRateSampler s;
    uint64_t inflight = 0;
    std::vector<Sent> flight;
    RateSample last;
    for (int i = 0; i < 100; ++i) {
        const Time now = at(1ms * i);
        if (i >= 10) last = ack(s, now, {flight[i - 10]}, inflight);
        auto p = send(s, now, 0ms, 1, inflight);
        flight.push_back(p[0]);
    }
    CHECK(last.has_data);
    CHECK(last.delivered == 10 * kSize);
    CHECK(last.interval == 10ms);
    CHECK(last.delivery_rate == doctest::Approx(1e6));
    CHECK(last.newly_acked == kSize);
    CHECK(last.rtt == 10ms);
    CHECK_FALSE(last.is_app_limited);
    CHECK(s.delivered() == 90 * kSize);
}

TEST_CASE("delivery rate: a compressed ACK cannot claim more than the send rate") {
    // Ten packets sent 1 ms apart, acknowledged at 20 ms; then packet P. The path holds the
    // ACKs of ten more packets (sent 10..19 ms) and P, and releases them in one ACK at 21 ms:
    // eleven packets in 1 ms since P's stamp is an ACK rate of 11 MB/s. The flight was sent
    // at 1 MB/s (from 9 ms, the newest packet acked before P, to P at 20 ms), and that bounds
    // the sample.
    DeliveryRateSampler s;
    uint64_t inflight = 0;
    auto a = send(s, at(0ms), 1ms, 10, inflight);
    auto b = send(s, at(10ms), 1ms, 10, inflight);
    ack(s, at(20ms), a, inflight);
    auto p = send(s, at(20ms), 0ms, 1, inflight);
    std::vector<Sent> compressed = b;
    compressed.push_back(p[0]);
    RateSample rs = ack(s, at(21ms), compressed, inflight, 10ms);
    CHECK(rs.ack_elapsed == 1ms);
    CHECK(rs.send_elapsed == 11ms);
    CHECK(rs.interval == 11ms);
    CHECK(rs.delivered == 11 * kSize);
    CHECK(rs.delivery_rate == doctest::Approx(1e6));
}

TEST_CASE("delivery rate: no rate from an interval shorter than min_rtt, or without an RTT") {
    DeliveryRateSampler s;
    uint64_t inflight = 0;
    auto flight = send(s, at(0ms), 0ms, 2, inflight);
    RateSample rs = ack(s, at(5ms), {flight[0]}, inflight, 10ms);
    CHECK(rs.has_data);
    CHECK(rs.delivery_rate == 0);  // 5 ms interval < 10 ms min_rtt
    rs = ack(s, at(20ms), {flight[1]}, inflight, std::nullopt);
    CHECK(rs.has_data);
    CHECK(rs.delivery_rate == 0);
    CHECK(rs.delivered == 2 * kSize);  // both, since the stamp of the second one
}

TEST_CASE("delivery rate: application-limited samples until the bubble is delivered") {
    DeliveryRateSampler s;
    uint64_t inflight = 0;
    auto a = send(s, at(0ms), 1ms, 4, inflight);
    // The sender runs out of data with 4000 bytes in flight.
    s.mark_app_limited(inflight);
    CHECK(s.app_limited());
    auto b = send(s, at(5ms), 1ms, 4, inflight);  // sent inside the bubble
    for (const Sent& p : a) CHECK_FALSE(p.stamp.is_app_limited);
    for (const Sent& p : b) CHECK(p.stamp.is_app_limited);
    RateSample rs = ack(s, at(20ms), a, inflight);
    CHECK_FALSE(rs.is_app_limited);
    // Delivered == 4000 == the mark: not yet past it.
    CHECK(s.app_limited());
    rs = ack(s, at(25ms), {b[0]}, inflight);
    CHECK(rs.is_app_limited);
    CHECK_FALSE(s.app_limited());  // 5000 delivered > 4000: the bubble is gone
    auto c = send(s, at(26ms), 1ms, 1, inflight);
    CHECK_FALSE(c[0].stamp.is_app_limited);
}

TEST_CASE("delivery rate: loss and inflight at send time of the newest acked packet") {
    DeliveryRateSampler s;
    uint64_t inflight = 0;
    auto flight = send(s, at(0ms), 1ms, 10, inflight);
    CHECK(flight[0].stamp.tx_in_flight == kSize);
    CHECK(flight[9].stamp.tx_in_flight == 10 * kSize);
    // Packets 3 and 4 are lost; 5..9 acked out of order in one ACK.
    s.on_packet_lost(kSize);
    s.on_packet_lost(kSize);
    inflight -= 2 * kSize;
    std::vector<Sent> later(flight.begin() + 5, flight.end());
    std::swap(later[0], later[4]);
    RateSample rs = ack(s, at(20ms), later, inflight);
    CHECK(rs.newest.send_sequence == flight[9].stamp.send_sequence);
    CHECK(rs.tx_in_flight == 10 * kSize);
    CHECK(rs.lost == 2 * kSize);
    CHECK(rs.newly_lost == 2 * kSize);
    CHECK(rs.newly_acked == 5 * kSize);
    CHECK(rs.rtt == 11ms);  // 20 ms - 9 ms: the newest packet's RTT
    // Two packets sent at the same instant: the one sent later is the newer one.
    auto pair = send(s, at(30ms), 0ms, 2, inflight);
    rs = ack(s, at(40ms), {pair[1], pair[0]}, inflight);
    CHECK(rs.newest.send_sequence == pair[1].stamp.send_sequence);
}

TEST_CASE("delivery rate: a stamp from another sampler gives no sample and no overflow") {
    // The connection replaces its controller on a new path (RFC 9000 §9.4) while packets
    // stamped by the old one are still in flight.
    DeliveryRateSampler old_sampler, fresh;
    uint64_t old_inflight = 0, inflight = 0;
    std::vector<Sent> warm;
    for (int i = 0; i < 50; ++i)
        warm.push_back(send(old_sampler, at(1ms * i), 0ms, 1, old_inflight)[0]);
    ack(old_sampler, at(100ms), warm, old_inflight);
    auto stale = send(old_sampler, at(101ms), 0ms, 1, old_inflight);
    REQUIRE(stale[0].stamp.delivered == 50 * kSize);
    auto mine = send(fresh, at(102ms), 0ms, 1, inflight);
    inflight += kSize;  // the stale packet counts in flight for the new controller too
    RateSample rs = ack(fresh, at(130ms), stale, inflight);
    CHECK_FALSE(rs.has_data);
    CHECK(rs.delivery_rate == 0);
    CHECK(rs.newly_acked == kSize);
    CHECK(fresh.delivered() == kSize);
    rs = ack(fresh, at(135ms), mine, inflight);
    CHECK(rs.has_data);
    CHECK(rs.delivered == 2 * kSize);  // its own stamp: delivered 0 when it was sent
}
