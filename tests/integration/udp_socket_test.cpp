// quic::uv::UdpSocket on loopback: GSO batches arrive as separate datagrams (or coalesced by
// GRO and split back), ECN codepoints survive the round trip, IPv4-mapped addresses show as
// IPv4.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "uv/udp_socket.h"

using namespace quic;
using quic::uv::InDatagram;
using quic::uv::OutDatagram;
using quic::uv::UdpSocket;

namespace {

struct Received {
    SocketAddress from;
    Ecn ecn;
    std::vector<uint8_t> bytes;
};

// Receives until `want` datagrams arrived or two seconds passed.
std::vector<Received> receive(UdpSocket& s, size_t want) {
    std::vector<Received> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
        auto n = s.receive([&](const InDatagram& d) {
            out.push_back({d.from, d.ecn, {d.data.begin(), d.data.end()}});
        });
        REQUIRE(n.ok());
        if (*n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return out;
}

SocketAddress loopback4(uint16_t port) {
    return SocketAddress::ipv4({127, 0, 0, 1}, port);
}
SocketAddress loopback6(uint16_t port) {
    std::array<uint8_t, 16> ip{};
    ip[15] = 1;
    return SocketAddress::ipv6(ip, port);
}

}  // namespace

TEST_CASE("GSO: equal-size datagrams to one peer go in one send and arrive one by one") {
    auto rx = UdpSocket::bind(loopback4(0));
    auto tx = UdpSocket::bind(loopback4(0));
    REQUIRE(rx.ok());
    REQUIRE(tx.ok());
    // Five 1200-byte segments and a shorter last one, each filled with its index.
    std::vector<std::vector<uint8_t>> payloads;
    for (int i = 0; i < 6; ++i) payloads.emplace_back(i == 5 ? 300 : 1200, static_cast<uint8_t>(i));
    std::vector<OutDatagram> out;
    for (auto& p : payloads) out.push_back({rx->local_address(), Ecn::kNotEct, p});
    CHECK(tx->send(out) == out.size());
    if (tx->gso_enabled()) {
        CHECK(tx->stats().gso_batches == 1);
        CHECK(tx->stats().send_calls == 1);
    }
    auto got = receive(*rx, out.size());
    REQUIRE(got.size() == out.size());
    for (size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].bytes == payloads[i]);
        CHECK(got[i].from == tx->local_address());
    }
    const std::string note = std::string("GSO ") + (tx->gso_enabled() ? "on" : "off") + ", GRO " +
                             (rx->gro_enabled() ? "on" : "off") +
                             ", GRO batches received: " + std::to_string(rx->stats().gro_batches);
    MESSAGE(note);
}

TEST_CASE("GSO: a run breaks at another destination, another mark or a larger datagram") {
    auto a = UdpSocket::bind(loopback4(0));
    auto b = UdpSocket::bind(loopback4(0));
    auto tx = UdpSocket::bind(loopback4(0));
    REQUIRE((a.ok() && b.ok() && tx.ok()));
    std::vector<uint8_t> big(1000, 1), small(500, 2);
    std::vector<OutDatagram> out = {
        {a->local_address(), Ecn::kNotEct, big}, {a->local_address(), Ecn::kNotEct, big},
        {b->local_address(), Ecn::kNotEct, big}, {a->local_address(), Ecn::kEct0, big},
        {a->local_address(), Ecn::kEct0, small}, {a->local_address(), Ecn::kEct0, big},
    };
    CHECK(tx->send(out) == out.size());
    auto at_a = receive(*a, 5);
    auto at_b = receive(*b, 1);
    REQUIRE(at_a.size() == 5);
    REQUIRE(at_b.size() == 1);
    CHECK(at_a[0].bytes == big);
    CHECK(at_a[3].bytes == small);
    CHECK(at_a[4].bytes == big);
    CHECK(at_a[2].ecn == Ecn::kEct0);
}

TEST_CASE("ECN codepoints survive the round trip (IPv4 and IPv6)") {
    for (bool v6 : {false, true}) {
        CAPTURE(v6);
        auto rx = UdpSocket::bind(v6 ? loopback6(0) : loopback4(0));
        if (v6 && !rx.ok()) {
            MESSAGE("no IPv6 loopback here: skipped");
            continue;
        }
        REQUIRE(rx.ok());
        auto tx = UdpSocket::bind(v6 ? loopback6(0) : loopback4(0));
        REQUIRE(tx.ok());
        std::vector<uint8_t> p(100, 7);
        const Ecn marks[] = {Ecn::kNotEct, Ecn::kEct0, Ecn::kEct1, Ecn::kCe};
        std::vector<OutDatagram> out;
        for (Ecn e : marks) out.push_back({rx->local_address(), e, p});
        CHECK(tx->send(out) == out.size());
        auto got = receive(*rx, out.size());
        REQUIRE(got.size() == out.size());
        for (size_t i = 0; i < got.size(); ++i) CHECK(got[i].ecn == marks[i]);
    }
}

TEST_CASE("a dual-stack socket shows IPv4 peers as IPv4, and sends to them") {
    auto dual = UdpSocket::bind(SocketAddress::ipv6({}, 0));
    if (!dual.ok()) {
        MESSAGE("no IPv6 here: skipped");
        return;
    }
    auto v4 = UdpSocket::bind(loopback4(0));
    REQUIRE(v4.ok());
    std::vector<uint8_t> p(10, 1);
    OutDatagram to_dual{loopback4(dual->local_address().port()), Ecn::kEct0, p};
    CHECK(v4->send({&to_dual, 1}) == 1);
    auto got = receive(*dual, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].from.family() == SocketAddress::Family::kIpv4);
    CHECK(got[0].from == v4->local_address());
    CHECK(got[0].ecn == Ecn::kEct0);
    OutDatagram back{got[0].from, Ecn::kEct1, p};
    CHECK(dual->send({&back, 1}) == 1);
    auto reply = receive(*v4, 1);
    REQUIRE(reply.size() == 1);
    CHECK(reply[0].ecn == Ecn::kEct1);
}
