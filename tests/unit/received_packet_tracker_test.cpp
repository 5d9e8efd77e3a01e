#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "recovery/limits.h"
#include "recovery/received_packet_tracker.h"

using namespace quic;
using namespace std::chrono_literals;

namespace {

constexpr auto kInitial = PacketNumberSpaceId::kInitial;
constexpr auto kHandshake = PacketNumberSpaceId::kHandshake;
constexpr auto kApp = PacketNumberSpaceId::kApplicationData;

Time at(Duration d) {
    return Time(d);
}

}  // namespace

TEST_CASE("ReceivedPacketTracker: ranges from out-of-order arrivals and the ACK frame") {
    ReceivedPacketTracker t(kApp);
    for (uint64_t pn : {0, 1, 2, 5, 4, 8})
        CHECK(t.on_packet_received(pn, true, Ecn::kNotEct, at(1ms)));
    REQUIRE(t.ranges().size() == 3);
    auto ack = t.build_ack_frame(at(1ms), kDefaultAckDelayExponent);
    REQUIRE(ack.has_value());
    CHECK(ack->largest_acknowledged == 8);
    CHECK(ack->ranges == std::vector<AckRange>{{8, 8}, {4, 5}, {0, 2}});
    CHECK_FALSE(ack->ecn.has_value());
    CHECK(ack->ack_delay == 0);

    // A gap filled later merges the ranges.
    t.on_packet_received(3, true, Ecn::kNotEct, at(2ms));
    ack = t.build_ack_frame(at(2ms), 3);
    CHECK(ack->ranges == std::vector<AckRange>{{8, 8}, {0, 5}});

    ReceivedPacketTracker empty(kApp);
    CHECK_FALSE(empty.build_ack_frame(at(0ms), 3).has_value());
}

TEST_CASE("ReceivedPacketTracker: ACK Delay from the largest packet's arrival (§13.2.5)") {
    ReceivedPacketTracker app(kApp);
    app.on_packet_received(7, true, Ecn::kNotEct, at(10ms));
    app.on_packet_received(3, true, Ecn::kNotEct, at(12ms));  // not the largest: no effect
    auto ack = app.build_ack_frame(at(10ms) + 800us, 3);
    CHECK(ack->ack_delay == 800 / 8);
    ack = app.build_ack_frame(at(10ms) + 800us, 0);
    CHECK(ack->ack_delay == 800);
    ack = app.build_ack_frame(at(10ms) + 800us, 200);  // clamped to 20
    CHECK(ack->ack_delay == 0);

    // Initial and Handshake ACKs report no delay: they are not delayed (§13.2.1).
    for (auto space : {kInitial, kHandshake}) {
        ReceivedPacketTracker hs(space);
        hs.on_packet_received(0, true, Ecn::kNotEct, at(10ms));
        CHECK(hs.build_ack_frame(at(50ms), 3)->ack_delay == 0);
    }
}

TEST_CASE("ReceivedPacketTracker: when to acknowledge (§13.2.1, §13.2.2)") {
    SUBCASE("second ack-eliciting packet, else within max_ack_delay") {
        ReceivedPacketTracker t(kApp, {20ms, 2});
        t.on_packet_received(0, true, Ecn::kNotEct, at(100ms));
        CHECK(t.ack_deadline() == at(120ms));
        CHECK_FALSE(t.ack_needed(at(119ms)));
        CHECK(t.ack_needed(at(120ms)));
        t.on_packet_received(1, true, Ecn::kNotEct, at(105ms));
        CHECK(t.ack_deadline() == at(105ms));  // immediately
        t.on_ack_sent();
        CHECK_FALSE(t.ack_deadline().has_value());
        CHECK_FALSE(t.has_new_packets());
        t.on_packet_received(2, true, Ecn::kNotEct, at(110ms));
        CHECK(t.ack_deadline() == at(130ms));
    }
    SUBCASE("non-ack-eliciting packets never ask for an ACK on their own") {
        ReceivedPacketTracker t(kApp);
        for (uint64_t pn = 0; pn < 10; pn += 2) t.on_packet_received(pn, false, Ecn::kCe, at(1ms));
        CHECK_FALSE(t.ack_deadline().has_value());
        CHECK(t.has_new_packets());
        CHECK(t.build_ack_frame(at(1ms), 3).has_value());
    }
    SUBCASE("configurable threshold") {
        ReceivedPacketTracker t(kApp, {25ms, 10});
        for (uint64_t pn = 0; pn < 9; ++pn) t.on_packet_received(pn, true, Ecn::kNotEct, at(1ms));
        CHECK(t.ack_deadline() == at(26ms));
        t.on_packet_received(9, true, Ecn::kNotEct, at(2ms));
        CHECK(t.ack_deadline() == at(2ms));
    }
    SUBCASE("out of order: a gap above the largest ack-eliciting packet") {
        ReceivedPacketTracker t(kApp);
        t.on_packet_received(0, true, Ecn::kNotEct, at(1ms));
        t.on_ack_sent();
        t.on_packet_received(2, true, Ecn::kNotEct, at(5ms));  // 1 is missing
        CHECK(t.ack_deadline() == at(5ms));
    }
    SUBCASE("no gap when the packet in between arrived (even non-ack-eliciting)") {
        ReceivedPacketTracker t(kApp);
        t.on_packet_received(0, true, Ecn::kNotEct, at(1ms));
        t.on_packet_received(1, false, Ecn::kNotEct, at(1ms));
        t.on_ack_sent();
        t.on_packet_received(2, true, Ecn::kNotEct, at(5ms));
        CHECK(t.ack_deadline() == at(30ms));
    }
    SUBCASE("out of order: below an ack-eliciting packet already received") {
        ReceivedPacketTracker t(kApp);
        t.on_packet_received(5, true, Ecn::kNotEct, at(1ms));
        t.on_ack_sent();
        t.on_packet_received(3, true, Ecn::kNotEct, at(4ms));
        CHECK(t.ack_deadline() == at(4ms));
    }
    SUBCASE("CE marks on ack-eliciting packets") {
        ReceivedPacketTracker t(kApp);
        t.on_packet_received(0, true, Ecn::kCe, at(3ms));
        CHECK(t.ack_deadline() == at(3ms));
        CHECK(t.ecn_counts() == EcnCounts{0, 0, 1});
    }
    SUBCASE("Initial and Handshake: every ack-eliciting packet at once") {
        for (auto space : {kInitial, kHandshake}) {
            ReceivedPacketTracker t(space);
            t.on_packet_received(0, true, Ecn::kNotEct, at(7ms));
            CHECK(t.ack_deadline() == at(7ms));
            t.on_ack_sent();
            t.on_packet_received(1, false, Ecn::kNotEct, at(8ms));
            CHECK_FALSE(t.ack_deadline().has_value());
        }
    }
}

TEST_CASE("ReceivedPacketTracker: duplicates and ECN counts") {
    ReceivedPacketTracker t(kApp);
    CHECK_FALSE(t.is_duplicate(3));
    CHECK(t.on_packet_received(3, true, Ecn::kEct0, at(1ms)));
    CHECK(t.on_packet_received(4, true, Ecn::kEct1, at(1ms)));
    CHECK(t.on_packet_received(6, false, Ecn::kCe, at(1ms)));
    CHECK(t.is_duplicate(3));
    CHECK_FALSE(t.on_packet_received(3, true, Ecn::kEct0, at(2ms)));  // counted once
    CHECK(t.ecn_counts() == EcnCounts{1, 1, 1});
    auto ack = t.build_ack_frame(at(2ms), 3);
    REQUIRE(ack->ecn.has_value());
    CHECK(*ack->ecn == EcnCounts{1, 1, 1});
    CHECK(t.largest_received() == 6);
}

TEST_CASE("ReceivedPacketTracker: the range cap holds with thousands of gapped packets") {
    ReceivedPacketTracker t(kApp);
    for (uint64_t pn = 0; pn < 10000; pn += 2)
        t.on_packet_received(pn, true, Ecn::kNotEct, at(1ms));
    CHECK(t.ranges().size() == kMaxAckRangesTracked);
    // The newest ranges are kept; everything below them counts as a duplicate.
    const uint64_t lowest = 10000 - 2 * kMaxAckRangesTracked;
    CHECK(t.min_tracked() == lowest);
    CHECK(t.ranges().front()->start == lowest);
    CHECK(t.is_duplicate(lowest - 2));
    CHECK(t.is_duplicate(1));
    CHECK_FALSE(t.on_packet_received(101, true, Ecn::kNotEct, at(2ms)));
    // At the cap, a number below the lowest range is not tracked either.
    CHECK(t.is_duplicate(lowest - 2));
    // A gap inside the window can still be filled (merging two ranges).
    CHECK(t.on_packet_received(lowest + 1, true, Ecn::kNotEct, at(2ms)));
    CHECK(t.ranges().size() == kMaxAckRangesTracked - 1);
    // A new top range drops the oldest.
    CHECK(t.on_packet_received(20000, true, Ecn::kNotEct, at(2ms)));
    CHECK(t.ranges().size() == kMaxAckRangesTracked);
    auto ack = t.build_ack_frame(at(3ms), 3);
    CHECK(ack->ranges.size() == kMaxAckRangesTracked);
    CHECK(ack->largest_acknowledged == 20000);
}

TEST_CASE("ReceivedPacketTracker: pruning after an ACK of our ACK (§13.2.4)") {
    ReceivedPacketTracker t(kApp);
    for (uint64_t pn = 0; pn < 10; ++pn)
        if (pn != 5) t.on_packet_received(pn, true, Ecn::kNotEct, at(1ms));
    auto ack = t.build_ack_frame(at(1ms), 3);
    CHECK(ack->ranges == std::vector<AckRange>{{6, 9}, {0, 4}});
    t.on_ack_sent();

    t.on_ack_frame_acked(3);  // an older ACK with Largest Acknowledged 3
    CHECK(t.build_ack_frame(at(2ms), 3)->ranges == std::vector<AckRange>{{6, 9}, {4, 4}});
    CHECK(t.is_duplicate(2));

    t.on_ack_frame_acked(ack->largest_acknowledged);
    CHECK_FALSE(t.build_ack_frame(at(2ms), 3).has_value());  // nothing left to report
    CHECK(t.min_tracked() == 5);                             // 0-4 folded: received without a gap
    for (uint64_t pn : {0, 4, 6, 9}) CHECK(t.is_duplicate(pn));
    CHECK(t.largest_received() == 9);
    CHECK(t.on_packet_received(10, true, Ecn::kNotEct, at(3ms)));
    CHECK(t.build_ack_frame(at(3ms), 3)->ranges == std::vector<AckRange>{{10, 10}});
    // The gap at 5 stays open: a packet sent on another path can arrive after newer ones
    // were acknowledged (a PATH_RESPONSE during a migration). It is processed, once, and not
    // reported (the peer stopped waiting for it); then 5-9 fold as well.
    CHECK_FALSE(t.is_duplicate(5));
    CHECK(t.on_packet_received(5, true, Ecn::kNotEct, at(3ms)));
    CHECK(t.is_duplicate(5));
    CHECK(t.build_ack_frame(at(3ms), 3)->ranges == std::vector<AckRange>{{10, 10}});
    t.on_ack_frame_acked(10);
    CHECK(t.min_tracked() == 11);
    CHECK(t.ranges().empty());

    // A value above anything received is clamped: 11 stays acceptable.
    t.on_ack_frame_acked(1000);
    CHECK_FALSE(t.is_duplicate(11));
}
