// The whole path on a virtual clock, from the runner's scenario strings: both directions,
// their own error models, the NAT's schedule, and nothing before the start.
#include <doctest/doctest.h>

#include "packets.h"
#include "scenario.h"
#include "simulator.h"

using namespace netsim;
using namespace netsim::test;

namespace {

Scenario parse(const std::string& text) {
    std::string error;
    auto s = parse_scenario(text, error);
    INFO(error);
    REQUIRE(s);
    return *s;
}

}  // namespace

TEST_CASE("scenario: every string the runner uses") {
    const Scenario p2p = parse("simple-p2p --delay=15ms --bandwidth=10Mbps --queue=25");
    CHECK(p2p.link.delay == ms(15));
    CHECK(p2p.link.rate_bps == 10'000'000);
    CHECK(p2p.link.queue_packets == 25);
    CHECK(parse("simple-p2p --delay=750ms --bandwidth=10Mbps --queue=25").link.delay == ms(750));

    const Scenario loss = parse(
        "drop-rate --delay=15ms --bandwidth=10Mbps --queue=25 --rate_to_server=30 "
        "--rate_to_client=2 --burst_to_server=3 --burst_to_client=4");
    CHECK(loss.to_server.drop_percent == 30);
    CHECK(loss.to_client.drop_percent == 2);
    CHECK(loss.to_server.drop_burst == 3);
    CHECK(loss.to_client.drop_burst == 4);

    const Scenario corrupt = parse(
        "corrupt-rate --delay=15ms --bandwidth=10Mbps --queue=25 --rate_to_server=2 "
        "--rate_to_client=2 --burst_to_server=3 --burst_to_client=3");
    CHECK(corrupt.to_server.corrupt_percent == 2);
    CHECK(corrupt.to_server.drop_percent == 0);

    const Scenario drops =
        parse("droplist --delay=15ms --bandwidth=10Mbps --queue=25 --drops_to_server=2,3,4,5,6,7");
    CHECK(drops.to_server.droplist == std::set<uint64_t>{2, 3, 4, 5, 6, 7});
    CHECK(drops.to_client.droplist.empty());

    const Scenario hole =
        parse("blackhole --delay=15ms --bandwidth=10Mbps --queue=25 --on=5s --off=2s");
    REQUIRE(hole.to_server.blackholes.size() == 1);
    CHECK(hole.to_server.blackholes[0].from == ms(5000));
    CHECK(hole.to_server.blackholes[0].to == ms(7000));
    CHECK(hole.to_client.blackholes.size() == 1);

    const Scenario rebind = parse(
        "rebind --delay=15ms --bandwidth=10Mbps --queue=25 --first-rebind=1s --rebind-freq=5s "
        "--rebind-addr");
    REQUIRE(rebind.rebind);
    CHECK(rebind.rebind->first == ms(1000));
    CHECK(rebind.rebind->every == ms(5000));
    CHECK(rebind.rebind->change_address);
    CHECK_FALSE(parse("rebind --delay=15ms --bandwidth=10Mbps --queue=25 --first-rebind=1s")
                    .rebind->change_address);
}

TEST_CASE("scenario: bad input gives one line, no scenario") {
    for (const char* bad :
         {"", "nope --delay=15ms --bandwidth=10Mbps --queue=25",
          "simple-p2p --bandwidth=10Mbps --queue=25",
          "simple-p2p --delay=15 --bandwidth=10Mbps --queue=25",
          "simple-p2p --delay=15ms --bandwidth=fast --queue=25",
          "simple-p2p --delay=15ms --bandwidth=10Mbps --queue=25 --typo=1",
          "drop-rate --delay=15ms --bandwidth=10Mbps --queue=25 --rate_to_server=30",
          "drop-rate --delay=15ms --bandwidth=10Mbps --queue=25 "
          "--rate_to_server=130 --rate_to_client=1",
          "droplist --delay=15ms --bandwidth=10Mbps --queue=25 --drops_to_server=0",
          "blackhole --delay=15ms --bandwidth=10Mbps --queue=25 --on=5s"}) {
        std::string error;
        CHECK_MESSAGE(!parse_scenario(bad, error), bad);
        CHECK(!error.empty());
        CHECK(error.find('\n') == std::string::npos);
    }
    CHECK(parse_rate("1.5Gbps") == 1'500'000'000u);
    CHECK(parse_time("100us") == quic::Duration(100'000));
}

TEST_CASE("simulator: nothing crosses before start; then each direction has its own impairments") {
    Simulator sim(parse("drop-rate --delay=15ms --bandwidth=10Mbps --queue=25 --rate_to_server=100 "
                        "--rate_to_client=0"),
                  1);
    std::vector<Delivery> out;
    sim.send(at_ms(0), Direction::kToClient, numbered(1));
    sim.poll(at_ms(100), out);
    CHECK(out.empty());
    CHECK(sim.stats(Direction::kToClient).dropped_not_started == 1);

    sim.start(at_ms(100));
    for (uint32_t i = 0; i < 5; ++i) {
        sim.send(at_ms(100), Direction::kToServer, numbered(i));
        sim.send(at_ms(100), Direction::kToClient,
                 numbered(10 + i, 1250, kServer, 443, kClient, 50000));
    }
    sim.poll(at_ms(200), out);
    REQUIRE(out.size() == 5);  // everything to the server dropped, nothing to the client
    for (uint32_t i = 0; i < 5; ++i) {
        CHECK(out[i].direction == Direction::kToClient);
        CHECK(number_of(out[i].packet) == 10 + i);
        CHECK(out[i].at == at_ms(100 + 15 + 1 + i));
    }
}

TEST_CASE("simulator: rebinding at 1 s and then every 5 s of the scenario clock") {
    Simulator sim(parse("rebind --delay=15ms --bandwidth=10Mbps --queue=25 --first-rebind=1s "
                        "--rebind-freq=5s"),
                  3);
    std::vector<std::string> log;
    sim.set_log([&](const std::string& line) { log.push_back(line); });
    sim.start(at_ms(2000));
    std::vector<uint16_t> ports;
    std::vector<Delivery> out;
    // A packet every 100 ms for 12.5 s; note the port the server sees.
    for (double t = 2000; t < 14500; t += 100) {
        sim.send(at_ms(t), Direction::kToServer, numbered(0));
        out.clear();
        sim.poll(at_ms(t + 50), out);
        REQUIRE(out.size() == 1);
        const auto v = parse_udp(out[0].packet);
        if (ports.empty() || ports.back() != source_port(out[0].packet, *v))
            ports.push_back(source_port(out[0].packet, *v));
    }
    CHECK(ports.size() == 4);  // the original, then at 1 s, 6 s and 11 s
    CHECK(ports[0] == 50000);
    int rebinds = 0;
    for (const auto& l : log) rebinds += l.find("rebind") != std::string::npos ? 1 : 0;
    CHECK(rebinds == 3);
    CHECK(log[0].rfind("1.000000 s: rebind", 0) == 0);
}

TEST_CASE("simulator: the same seed gives the same run") {
    const Scenario s = parse(
        "drop-rate --delay=15ms --bandwidth=10Mbps --queue=25 --rate_to_server=30 "
        "--rate_to_client=30 --burst_to_server=3 --burst_to_client=3");
    auto run = [&](uint64_t seed) {
        Simulator sim(s, seed);
        sim.start(at_ms(0));
        std::vector<Delivery> out;
        for (uint32_t i = 0; i < 2000; ++i) {
            sim.send(at_ms(i * 2.0), Direction::kToServer, numbered(i));
            sim.send(at_ms(i * 2.0), Direction::kToClient,
                     numbered(i, 1250, kServer, 443, kClient, 50000));
            sim.poll(at_ms(i * 2.0), out);
        }
        sim.poll(at_ms(10000), out);
        std::vector<std::pair<int, uint32_t>> seen;
        for (const auto& d : out)
            seen.emplace_back(static_cast<int>(d.direction), number_of(d.packet));
        return seen;
    };
    const auto a = run(5), b = run(5), c = run(6);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(a.size() > 2400);
    CHECK(a.size() < 3000);
}
