// The endpoint's tables (libquic/endpoint/): the timer heap against a plain model, and the
// keyed hash (one key gives one hash; another key, other buckets).
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "endpoint/keyed_hash.h"
#include "endpoint/timer_heap.h"
#include "quic/random.h"

using namespace quic;
using namespace std::chrono_literals;

TEST_CASE("timer heap: 100,000 random sets, clears and pops agree with a sorted model") {
    SeededRandom rng(7);
    TimerHeap heap;
    std::map<uint32_t, Time> model;  // id -> deadline
    const Time t0 = Time{} + 1s;
    Time now = t0;
    auto model_earliest = [&]() -> std::optional<Time> {
        std::optional<Time> e;
        for (const auto& [id, t] : model)
            if (!e || t < *e) e = t;
        return e;
    };
    for (int step = 0; step < 100'000; ++step) {
        const uint32_t id = static_cast<uint32_t>(rng.uniform(2000));
        switch (rng.uniform(4)) {
            case 0:
            case 1: {  // set or move a deadline (often to an equal time: ties must be fine)
                const Time t = now + std::chrono::milliseconds(rng.uniform(50));
                heap.set(id, t);
                model[id] = t;
                break;
            }
            case 2:
                heap.set(id, std::nullopt);
                model.erase(id);
                break;
            case 3: {  // time passes; pop everything due
                now += std::chrono::milliseconds(rng.uniform(10));
                std::set<uint32_t> popped;
                while (auto p = heap.pop_due(now)) {
                    REQUIRE(model.count(*p));
                    CHECK(model[*p] <= now);
                    popped.insert(*p);
                    model.erase(*p);
                }
                for (const auto& [mid, t] : model) CHECK(t > now);
                break;
            }
        }
        REQUIRE(heap.size() == model.size());
        REQUIRE(heap.earliest() == model_earliest());
        if (step % 997 == 0) {
            for (const auto& [mid, t] : model) CHECK(heap.deadline(mid) == t);
            heap.shrink();
        }
    }
}

TEST_CASE("timer heap: pops in deadline order; clearing an absent id is harmless") {
    TimerHeap heap;
    const Time t0 = Time{} + 1s;
    heap.set(5, std::nullopt);
    CHECK(heap.empty());
    for (uint32_t i = 0; i < 100; ++i) heap.set(i, t0 + std::chrono::milliseconds((i * 37) % 100));
    Time last = t0;
    size_t n = 0;
    while (auto id = heap.pop_due(t0 + 1s)) {
        const Time t = t0 + std::chrono::milliseconds((*id * 37) % 100);
        CHECK(t >= last);
        last = t;
        ++n;
    }
    CHECK(n == 100);
    CHECK_FALSE(heap.earliest());
}

TEST_CASE("keyed hash: the same key hashes alike, another key differently") {
    SeededRandom a1(1), a2(1), b(2);
    KeyedHash ha1(a1), ha2(a2), hb(b);
    uint8_t bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ConnectionId cid(bytes);
    CHECK(ha1(cid) == ha2(cid));
    CHECK(ha1(cid) != hb(cid));
    // IPv6 sources count by /64: two addresses in one /64 are one source.
    std::array<uint8_t, 16> ip{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1};
    auto x = SocketAddress::ipv6(ip, 1000);
    ip[15] = 9;
    auto y = SocketAddress::ipv6(ip, 2000);
    ip[7] = 2;
    auto z = SocketAddress::ipv6(ip, 2000);
    CHECK(SourceKey::of(x) == SourceKey::of(y));
    CHECK_FALSE(SourceKey::of(x) == SourceKey::of(z));
    CHECK_FALSE(SourceKey::of(SocketAddress::ipv4({10, 0, 0, 1}, 1)) ==
                SourceKey::of(SocketAddress::ipv4({10, 0, 0, 2}, 1)));
    // IPv4-mapped IPv6 addresses count as their IPv4 address, not as one shared /64.
    const std::array<uint8_t, 16> m1{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
    const std::array<uint8_t, 16> m2{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
    CHECK(SourceKey::of(SocketAddress::ipv6(m1, 5)) ==
          SourceKey::of(SocketAddress::ipv4({10, 0, 0, 1}, 7)));
    CHECK_FALSE(SourceKey::of(SocketAddress::ipv6(m1, 5)) ==
                SourceKey::of(SocketAddress::ipv6(m2, 5)));
}
