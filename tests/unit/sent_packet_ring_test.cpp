#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "recovery/sent_packet_ring.h"

using namespace quic;

namespace {

SentPacket packet(uint64_t pn) {
    SentPacket p;
    p.packet_number = pn;
    p.sent_bytes = 1000 + pn;
    p.frames.push_back(SentStreamData{0, pn * 1000, 1000, false});
    return p;
}

// The packet numbers held, walking every position.
std::vector<uint64_t> held(const SentPacketRing& r) {
    std::vector<uint64_t> out;
    for (auto at = r.begin(); at < r.end(); ++at)
        if (r.holds(at)) out.push_back(r.at(at).packet_number);
    return out;
}

}  // namespace

TEST_CASE("sent packet ring: packets leave from anywhere; lower_bound finds ranges past holes") {
    SentPacketRing r;
    for (uint64_t pn : {0, 1, 2, 4, 5, 6, 9}) r.push_back(packet(pn));  // 3, 7, 8 skipped
    CHECK(r.size() == 7);
    CHECK(r.packet_number(r.lower_bound(3)) == 4);
    CHECK(r.lower_bound(10) == r.end());
    SentPacket p = r.take(r.lower_bound(5));
    CHECK(p.packet_number == 5);
    CHECK(p.sent_bytes == 1005);
    REQUIRE(p.frames.size() == 1);
    CHECK(std::get<SentStreamData>(p.frames[0]).offset == 5000);
    // The hole keeps its packet number: a range [5, 6] starts at it.
    CHECK(r.packet_number(r.lower_bound(5)) == 5);
    CHECK_FALSE(r.holds(r.lower_bound(5)));
    CHECK(held(r) == std::vector<uint64_t>{0, 1, 2, 4, 6, 9});
    // The front leaves: holes at the front go with it.
    r.take(r.lower_bound(1));
    r.take(r.lower_bound(0));
    CHECK(r.packet_number(r.begin()) == 2);
    CHECK(held(r) == std::vector<uint64_t>{2, 4, 6, 9});
}

TEST_CASE("sent packet ring: a walk may take every packet it passes, the last one included") {
    SentPacketRing r;
    for (uint64_t pn = 0; pn < 40; ++pn) r.push_back(packet(pn));
    std::vector<uint64_t> taken;
    for (auto at = r.lower_bound(0); at < r.end() && r.packet_number(at) <= 39; ++at)
        if (r.holds(at)) taken.push_back(r.take(at).packet_number);
    CHECK(taken.size() == 40);
    CHECK(r.empty());
    CHECK(r.begin() == r.end());
    // Reused after emptying, growing again, positions still counting up.
    const auto before = r.end();
    for (uint64_t pn = 100; pn < 2100; ++pn) r.push_back(packet(pn));
    CHECK(r.begin() == before);
    CHECK(r.size() == 2000);
    CHECK(r.take_all().size() == 2000);
    r.push_back(packet(5000));  // the grown ring is released and a small one made
    CHECK(held(r) == std::vector<uint64_t>{5000});
}

// The ring against std::map (what the loss detector used before): the same random pushes
// (with skipped numbers), takes from anywhere and range walks, through many wrap-arounds
// and growths, hold the same packets in the same order.
TEST_CASE("sent packet ring: behaves as a map from packet number to packet") {
    std::mt19937_64 rng(14);
    SentPacketRing r;
    std::map<uint64_t, uint64_t> model;  // pn -> sent_bytes
    uint64_t next_pn = 0;
    for (int step = 0; step < 20000; ++step) {
        const int op = static_cast<int>(rng() % 10);
        if (op < 5 || model.empty()) {
            next_pn += 1 + (rng() % 8 == 0 ? rng() % 3 : 0);
            r.push_back(packet(next_pn));
            model[next_pn] = 1000 + next_pn;
        } else if (op < 8) {
            // Take one packet, anywhere.
            auto it = model.begin();
            std::advance(it, static_cast<long>(rng() % model.size()));
            const auto at = r.lower_bound(it->first);
            REQUIRE(r.holds(at));
            CHECK(r.take(at).sent_bytes == it->second);
            model.erase(it);
        } else {
            // An ACK range: take everything in [lo, hi].
            const uint64_t lo = model.begin()->first + rng() % 16;
            const uint64_t hi = lo + rng() % 32;
            for (auto at = r.lower_bound(lo); at < r.end() && r.packet_number(at) <= hi; ++at)
                if (r.holds(at)) r.take(at);
            model.erase(model.lower_bound(lo), model.upper_bound(hi));
        }
        REQUIRE(r.size() == model.size());
        if (!model.empty()) REQUIRE(r.packet_number(r.begin()) == model.begin()->first);
    }
    std::vector<uint64_t> want;
    for (const auto& [pn, bytes] : model) want.push_back(pn);
    CHECK(held(r) == want);
}

TEST_CASE("sent packet ring: release frees the slots; the ring is usable again afterwards") {
    SentPacketRing r;
    CHECK(r.capacity() == 0);  // nothing allocated before the first packet
    for (uint64_t pn = 0; pn < 40; ++pn) r.push_back(packet(pn));
    CHECK(r.capacity() >= 40);
    r.release();
    CHECK(r.capacity() == 0);
    CHECK(r.empty());
    CHECK(r.begin() == r.end());
    CHECK(r.lower_bound(7) == r.end());
    CHECK(held(r).empty());
    // Packet numbers keep increasing after a release (a space never reuses one).
    for (uint64_t pn = 50; pn < 55; ++pn) r.push_back(packet(pn));
    CHECK(held(r) == std::vector<uint64_t>{50, 51, 52, 53, 54});
    CHECK(r.take(r.lower_bound(52)).packet_number == 52);
    CHECK(held(r) == std::vector<uint64_t>{50, 51, 53, 54});
}
