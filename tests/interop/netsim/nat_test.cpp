// The rebind scenario's NAT: new random ports (and addresses) at each rebinding, stale
// mappings dropped, checksums right, ECN bits kept.
#include <doctest/doctest.h>

#include "nat.h"
#include "packets.h"

using namespace netsim;
using namespace netsim::test;

namespace {

struct Seen {
    IpAddress address;
    uint16_t port;
};

Seen out_through(Nat& nat, uint16_t client_port, uint8_t tos = 0) {
    Packet p = numbered(1, 1250, kClient, client_port, kServer, 443, tos);
    REQUIRE(nat.outbound(p) == std::nullopt);
    const auto v = parse_udp(p);
    REQUIRE(v);
    CHECK(checksums_valid(p, *v));
    CHECK(p[1] == tos);
    return {*source_address(p), source_port(p, *v)};
}

std::optional<NatDrop> back_through(Nat& nat, const Seen& to, uint16_t expect_port) {
    Packet p = numbered(2, 1250, kServer, 443, to.address, to.port, 0x01);
    const auto drop = nat.inbound(p);
    if (!drop) {
        const auto v = parse_udp(p);
        CHECK(*destination_address(p) == kClient);
        CHECK(destination_port(p, *v) == expect_port);
        CHECK(checksums_valid(p, *v));
        CHECK(p[1] == 0x01);
    }
    return drop;
}

}  // namespace

TEST_CASE("nat: a flow keeps its port until the first rebinding, then gets a new one") {
    Nat nat({ms(1000), ms(5000), false}, 11);
    const Seen before = out_through(nat, 50000, 0x02);
    CHECK(before.address == kClient);
    CHECK(before.port == 50000);
    CHECK(back_through(nat, before, 50000) == std::nullopt);

    CHECK(nat.next_rebind() == ms(1000));
    nat.rebind();
    CHECK(nat.next_rebind() == ms(6000));
    const Seen after = out_through(nat, 50000);
    CHECK(after.address == kClient);  // rebind-port: the address stays
    CHECK(after.port != 50000);
    CHECK(back_through(nat, after, 50000) == std::nullopt);
    CHECK(back_through(nat, before, 50000) == NatDrop::kStaleMapping);  // the old path is gone

    nat.rebind();
    CHECK(nat.next_rebind() == ms(11000));
    const Seen third = out_through(nat, 50000);
    CHECK(third.port != after.port);
    CHECK(back_through(nat, after, 50000) == NatDrop::kStaleMapping);
}

TEST_CASE("nat: rebind-addr moves every flow to a new address in the client's /24") {
    Nat nat({ms(1000), ms(5000), true}, 5);
    out_through(nat, 50000);
    out_through(nat, 50001);
    IpAddress previous = kClient;
    for (int i = 0; i < 20; ++i) {
        nat.rebind();
        const Seen a = out_through(nat, 50000), b = out_through(nat, 50001);
        CHECK(a.address == b.address);
        CHECK(a.address != previous);
        CHECK(a.address != kClient);
        CHECK((a.address.v4_value() & 0xffffff00u) == 0xc1a70000u);  // 193.167.0.0/24
        CHECK((a.address.v4_value() & 0xff) != 0);
        CHECK((a.address.v4_value() & 0xff) != 255);
        CHECK(a.port != b.port);
        CHECK(back_through(nat, a, 50000) == std::nullopt);
        CHECK(back_through(nat, b, 50001) == std::nullopt);
        CHECK(back_through(nat, {previous, a.port}, 50000) == NatDrop::kStaleMapping);
        previous = a.address;
    }
}

TEST_CASE("nat: the same seed rebinds to the same ports; unknown sources are dropped") {
    Nat a({ms(1000), ms(0), false}, 99), b({ms(1000), ms(0), false}, 99);
    out_through(a, 4000);
    out_through(b, 4000);
    a.rebind();
    b.rebind();
    CHECK(out_through(a, 4000).port == out_through(b, 4000).port);
    CHECK(a.next_rebind() == quic::Duration::max());  // no --rebind-freq: only once

    Packet stranger = numbered(1, 1250, *IpAddress::parse("193.167.0.90"), 4000, kServer, 443);
    CHECK(a.outbound(stranger) == NatDrop::kUnknownSource);
    // IPv6 passes untouched: the runner's rebinding is IPv4 only.
    Packet v6 = numbered(1, 1250, *IpAddress::parse("fd00:cafe:cafe::100"), 4000,
                         *IpAddress::parse("fd00:cafe:cafe:100::100"), 443);
    const Packet before = v6;
    CHECK(a.outbound(v6) == std::nullopt);
    CHECK(v6 == before);
}

TEST_CASE("nat: a new address is never one another host has") {
    RebindConfig c{ms(1000), ms(5000), true};
    // Every address of the /24 but two is taken: the NAT must alternate between those two.
    for (uint32_t i = 1; i <= 254; ++i)
        if (i != 100 && i != 7 && i != 8) c.reserved.push_back(IpAddress::v4(0xc1a70000u | i));
    Nat nat(c, 1);
    out_through(nat, 50000);
    for (int i = 0; i < 10; ++i) {
        nat.rebind();
        const Seen s = out_through(nat, 50000);
        const uint32_t host = s.address.v4_value() & 0xff;
        CHECK((host == 7 || host == 8));
    }
}
