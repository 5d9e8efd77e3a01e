// DPLPMTUD's search on its own (conn/pmtud.h; RFC 8899 §5, RFC 9000 §14.3): probe sizes,
// MAX_PROBES, the ceiling, packet-too-big validation and black-hole detection.
#include <doctest/doctest.h>

#include <optional>

#include "conn/pmtud.h"

using namespace quic;
using namespace std::chrono_literals;

namespace {

constexpr size_t kBase = PmtuDiscovery::kBase;

// Answers probes as a path whose largest UDP payload is `path` would, until the search ends.
size_t search(PmtuDiscovery& d, size_t path, Time& now, size_t* probes = nullptr) {
    size_t n = 0;
    for (;;) {
        auto size = d.probe_due(now);
        if (!size && !d.search_complete() && d.next_timeout()) {
            now = *d.next_timeout();  // the wait after a size's first lost probe
            continue;
        }
        if (!size) break;
        d.on_probe_sent(now, *size);
        ++n;
        now += 10ms;
        if (*size <= path)
            d.on_probe_acked(now, *size);
        else
            d.on_probe_lost(now, *size);
        REQUIRE(n < 100);
    }
    if (probes) *probes = n;
    return d.current();
}

}  // namespace

TEST_CASE("pmtud: nothing before start; one probe when the path carries the ceiling") {
    PmtuDiscovery d(1452);
    Time now{};
    CHECK_FALSE(d.probe_due(now));
    CHECK(d.current() == kBase);
    d.start(now);
    size_t probes = 0;
    CHECK(search(d, 1500, now, &probes) == 1452);
    CHECK(probes == 1);
    CHECK(d.search_complete());
    CHECK_FALSE(d.next_timeout());  // the ceiling was reached: nothing to raise
}

TEST_CASE("pmtud: a binary search below the ceiling, three losses refute a size") {
    for (size_t path : {size_t{1280}, size_t{1372}, size_t{1400}, size_t{1201}}) {
        CAPTURE(path);
        PmtuDiscovery d(1452);
        Time now{};
        d.start(now);
        size_t probes = 0;
        const size_t found = search(d, path, now, &probes);
        CHECK(found <= path);
        CHECK(found + PmtuDiscovery::kSearchGranularity > path);
        CHECK(probes <= 20);
        // Not at the ceiling: the raise timer searches again later (RFC 8899 PMTU_RAISE_TIMER).
        REQUIRE(d.next_timeout());
        CHECK(*d.next_timeout() == now + PmtuDiscovery::kRaiseInterval);
        CHECK_FALSE(d.probe_due(now));
        CHECK(d.probe_due(*d.next_timeout()) == 1452u);
    }
}

TEST_CASE("pmtud: one lost probe is retried at the same size") {
    PmtuDiscovery d(1452);
    Time now{};
    d.start(now);
    CHECK(d.probe_due(now) == 1452u);
    d.on_probe_sent(now, 1452);
    CHECK_FALSE(d.probe_due(now));  // one at a time
    d.on_probe_lost(now, 1452);
    // Not at once: a packet too big may still be on its way (kProbeRetryDelay).
    CHECK_FALSE(d.probe_due(now));
    REQUIRE(d.next_timeout() == now + PmtuDiscovery::kProbeRetryDelay);
    now = *d.next_timeout();
    CHECK(d.probe_due(now) == 1452u);
    d.on_probe_sent(now, 1452);
    CHECK(d.on_probe_acked(now, 1452));
    CHECK(d.current() == 1452);
}

TEST_CASE("pmtud: a packet too big that trails the loss of its probe still steers the search") {
    PmtuDiscovery d(1452);
    Time now{};
    d.start(now);
    REQUIRE(d.probe_due(now) == 1452u);
    d.on_probe_sent(now, 1452);
    d.on_probe_lost(now, 1452);  // acknowledgments of later packets came first
    CHECK_FALSE(d.on_packet_too_big(now + 1ms, 1372));
    CHECK_FALSE(d.probe_due(now + 2ms));
    now += PmtuDiscovery::kProbeRetryDelay;
    CHECK(d.probe_due(now) == 1372u);  // exactly what the router said, one probe
    d.on_probe_sent(now, 1372);
    CHECK(d.on_probe_acked(now, 1372));
    CHECK(d.current() == 1372);

    // Without a packet too big, the wait is only after a size's first loss: the second and
    // third probes of it go at once.
    PmtuDiscovery b(1452);
    b.start(now);
    REQUIRE(b.probe_due(now) == 1452u);
    b.on_probe_sent(now, 1452);
    b.on_probe_lost(now, 1452);
    now += PmtuDiscovery::kProbeRetryDelay;
    REQUIRE(b.probe_due(now) == 1452u);
    b.on_probe_sent(now, 1452);
    b.on_probe_lost(now, 1452);
    REQUIRE(b.probe_due(now) == 1452u);
    b.on_probe_sent(now, 1452);
    b.on_probe_lost(now, 1452);  // the third: 1452 refuted, the search halves the gap
    CHECK(b.probe_due(now + PmtuDiscovery::kProbeRetryDelay) < 1452u);
}

TEST_CASE("pmtud: the peer's max_udp_payload_size caps the search; below 1200 is never used") {
    PmtuDiscovery d(1452);
    d.lower_ceiling(1350);
    Time now{};
    d.start(now);
    CHECK(d.probe_due(now) == 1350u);
    PmtuDiscovery tiny(1452);
    tiny.lower_ceiling(1000);  // a peer cannot send us below QUIC's minimum
    CHECK(tiny.ceiling() == kBase);
    tiny.start(now);
    CHECK_FALSE(tiny.enabled());
    CHECK_FALSE(tiny.probe_due(now));
}

TEST_CASE("pmtud: packet too big: below 1200 ignored, a smaller PMTU taken, a probe redirected") {
    PmtuDiscovery d(1452);
    Time now{};
    d.start(now);
    search(d, 1500, now);
    REQUIRE(d.current() == 1452);
    // RFC 9000 §14.2.1 (checklist 24, CVE-2024-53259): claims below 1200 change nothing.
    for (size_t bogus : {size_t{0}, size_t{68}, size_t{548}, size_t{1199}})
        CHECK_FALSE(d.on_packet_too_big(now, bogus));
    CHECK(d.current() == 1452);
    // A claim no smaller than what we send says nothing.
    CHECK_FALSE(d.on_packet_too_big(now, 1500));
    CHECK(d.current() == 1452);
    // A plausible one lowers it at once.
    CHECK(d.on_packet_too_big(now, 1372));
    CHECK(d.current() == 1372);
    CHECK(d.search_complete());

    // During a search: a probe larger than the claim is given up; the next probe tries the
    // claimed size exactly.
    PmtuDiscovery s(1452);
    s.start(now);
    REQUIRE(s.probe_due(now) == 1452u);
    s.on_probe_sent(now, 1452);
    CHECK_FALSE(s.on_packet_too_big(now, 1372));
    CHECK(s.probe_due(now) == 1372u);
}

TEST_CASE("pmtud: black hole: consecutive large losses while a smaller packet got through") {
    PmtuDiscovery d(1452);
    Time now{};
    d.start(now);
    search(d, 1500, now);
    REQUIRE(d.current() == 1452);
    uint64_t pn = 100;
    // An ordinary loss burst: later large packets are acknowledged, no black hole.
    for (int i = 0; i < 10; ++i) CHECK_FALSE(d.on_packet_lost(now, pn + i, 1452));
    CHECK_FALSE(d.on_packet_acked(pn + 10, 1452));
    CHECK_FALSE(d.on_packet_acked(pn + 11, 1000));
    CHECK(d.current() == 1452);
    pn = 200;
    // Large packets vanish; a small one sent after them (a PTO probe) is acknowledged.
    CHECK_FALSE(d.on_packet_acked(pn + 10, 1200));
    bool fell_back = false;
    for (unsigned i = 0; i < PmtuDiscovery::kBlackHoleLosses; ++i)
        fell_back |= d.on_packet_lost(now, pn + i, 1452);
    CHECK(fell_back);
    CHECK(d.current() == kBase);
    CHECK(d.black_holes() == 1);
    // A new search starts below the size that stopped working.
    const auto next = d.probe_due(now);
    REQUIRE(next);
    CHECK(*next < 1452);
    // Losses of small packets never count.
    PmtuDiscovery e(1452);
    e.start(now);
    search(e, 1500, now);
    e.on_packet_acked(50, 1200);
    for (int i = 0; i < 10; ++i) CHECK_FALSE(e.on_packet_lost(now, 10 + i, 1200));
    CHECK(e.current() == 1452);
}
