// The link model on a virtual clock: rate, one-way delay, the drop-tail queue.
#include <doctest/doctest.h>

#include "link.h"
#include "packets.h"

using namespace netsim;
using namespace netsim::test;

namespace {

// Everything that arrives by `until`, polled every `step` (late polls must not matter).
std::vector<std::pair<Time, uint32_t>> drain(Link& link, Time until, quic::Duration step) {
    std::vector<std::pair<Time, uint32_t>> out;
    for (Time t = at_ms(0); t <= until; t += step)
        while (auto a = link.pop_arrival(t)) out.emplace_back(a->first, number_of(a->second));
    return out;
}

}  // namespace

TEST_CASE("link: packets leave at the configured rate and arrive after the one-way delay") {
    // 1250 bytes at 10 Mbit/s: 1 ms on the wire each.
    Link link({10'000'000, ms(15), 25});
    CHECK(link.serialisation_time(1250) == ms(1));
    for (uint32_t i = 0; i < 10; ++i) REQUIRE(link.send(at_ms(0), numbered(i)));
    const auto arrivals = drain(link, at_ms(100), ms(0.1));
    REQUIRE(arrivals.size() == 10);
    for (uint32_t i = 0; i < 10; ++i) {
        CHECK(arrivals[i].second == i);                 // in order
        CHECK(arrivals[i].first == at_ms(15 + 1 + i));  // delay + (i + 1) transmissions
    }
}

TEST_CASE("link: a late poll sees the same virtual arrival times") {
    Link link({10'000'000, ms(15), 25});
    for (uint32_t i = 0; i < 5; ++i) link.send(at_ms(0), numbered(i));
    const auto arrivals = drain(link, at_ms(500), ms(250));  // first poll long after
    REQUIRE(arrivals.size() == 5);
    for (uint32_t i = 0; i < 5; ++i) CHECK(arrivals[i].first == at_ms(16 + i));
}

TEST_CASE("link: an idle link sends at once; a busy one queues behind the packet on the wire") {
    Link link({1'000'000, ms(750), 25});  // longrtt's delay; 10 ms per packet at 1 Mbit/s
    link.send(at_ms(3), numbered(0));
    link.send(at_ms(4), numbered(1));   // the transmitter is busy until 13 ms
    link.send(at_ms(40), numbered(2));  // idle again
    const auto arrivals = drain(link, at_ms(2000), ms(1));
    REQUIRE(arrivals.size() == 3);
    CHECK(arrivals[0].first == at_ms(3 + 10 + 750));
    CHECK(arrivals[1].first == at_ms(13 + 10 + 750));
    CHECK(arrivals[2].first == at_ms(40 + 10 + 750));
    CHECK(link.next_arrival() == std::nullopt);
}

TEST_CASE("link: drop-tail queue of N packets behind the one being sent") {
    Link link({10'000'000, ms(15), 25});
    int accepted = 0;
    for (uint32_t i = 0; i < 40; ++i) accepted += link.send(at_ms(0), numbered(i)) ? 1 : 0;
    CHECK(accepted == 26);  // one on the wire, 25 waiting
    CHECK(link.stats().dropped_queue == 14);
    CHECK(link.stats().max_waiting == 25);
    // Once a packet has left, one more fits.
    CHECK(link.send(at_ms(1), numbered(100)));
    CHECK_FALSE(link.send(at_ms(1), numbered(101)));
    const auto arrivals = drain(link, at_ms(100), ms(1));
    REQUIRE(arrivals.size() == 27);
    for (uint32_t i = 0; i < 26; ++i) CHECK(arrivals[i].second == i);  // the tail was dropped
    CHECK(arrivals[26].second == 100);
}

TEST_CASE("link: rate 0 means no serialisation delay, only the propagation delay") {
    Link link({0, ms(2), 1});
    for (uint32_t i = 0; i < 100; ++i) REQUIRE(link.send(at_ms(1), numbered(i)));
    const auto arrivals = drain(link, at_ms(10), ms(1));
    REQUIRE(arrivals.size() == 100);
    for (const auto& a : arrivals) CHECK(a.first == at_ms(3));
}

TEST_CASE("link: a long run keeps the exact rate (no rounding drift)") {
    // 1 Gbit/s, 1500-byte packets: 12 us each; 100000 packets: exactly 1.2 s.
    Link link({1'000'000'000, ms(0), 200000});
    for (uint32_t i = 0; i < 100000; ++i) link.send(at_ms(0), numbered(i, 1500));
    std::optional<Time> last;
    while (auto a = link.pop_arrival(at_ms(5000))) last = a->first;
    REQUIRE(last);
    CHECK(*last == at_ms(1200));
}
