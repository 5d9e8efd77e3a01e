// The spin bit's state (RFC 9000 §17.4): server reflects, client inverts, and the RFC's
// random disabling of at least one connection in 16.
#include <doctest/doctest.h>

#include "conn/spin_bit.h"

using namespace quic;

TEST_CASE("spin bit: the server reflects the client's value, the client inverts the server's") {
    SeededRandom r(1);
    // Seed 1's first draws do not disable either (checked below, so the test can fail).
    SpinBit client(Role::kClient, true, r), server(Role::kServer, true, r);
    REQUIRE(client.enabled());
    REQUIRE(server.enabled());
    CHECK_FALSE(client.value());  // §17.4: initialised to 0
    CHECK_FALSE(server.value());
    // One round trip: client sends 0, server reflects 0, client flips to 1, ...
    bool wire = client.value();
    for (int rtt = 0; rtt < 4; ++rtt) {
        server.on_largest_received(wire);
        CHECK(server.value() == wire);
        client.on_largest_received(server.value());
        CHECK(client.value() == !wire);
        wire = client.value();
    }
    client.on_connection_id_changed();
    CHECK_FALSE(client.value());
}

TEST_CASE("spin bit: disabled for about one connection in 16; disabled ignores the peer") {
    size_t disabled = 0;
    constexpr size_t kConnections = 3200;
    for (size_t i = 0; i < kConnections; ++i) {
        SeededRandom r(i + 1);
        disabled += !SpinBit(Role::kClient, true, r).enabled();
    }
    // Expected 200 (1/16); a binomial's standard deviation here is about 14.
    CHECK(disabled >= 140);
    CHECK(disabled <= 260);
    SeededRandom r(7);
    SpinBit off(Role::kServer, false, r);
    CHECK_FALSE(off.enabled());
    const bool v = off.value();
    off.on_largest_received(!v);
    CHECK(off.value() == v);
}
