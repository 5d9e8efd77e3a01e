// BBR (draft-ietf-ccwg-bbr) on synthetic paths: a bottleneck link of fixed rate behind a
// FIFO queue, a fixed base RTT, one ACK per packet, losses declared by the packet threshold
// (RFC 9002 §6.1.1). The controller and a real Pacer are driven packet by packet in virtual
// time, so every state transition of the draft's "BBR Example Test Cases" can be watched.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "cc/bbr.h"
#include "cc/pacer.h"
#include "quic/random.h"

using namespace quic;
using namespace std::chrono_literals;
using State = Bbr::State;

namespace {

constexpr size_t kMds = 1200;
constexpr Time kNever = Time::max();

double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

class SyntheticPath {
  public:
    struct Transition {
        Time at;
        State state;
        uint64_t bytes_in_flight, cwnd, round_count;
        double pacing_gain, cwnd_gain, max_bw;
    };

    SyntheticPath(double rate_bytes_per_second, Duration base_rtt, size_t queue_packets = 1000)
        : random_(1),
          bbr_(kMds, random_),
          rate_(rate_bytes_per_second),
          base_rtt_(base_rtt),
          queue_packets_(queue_packets) {
        transitions_.push_back(snapshot());
    }

    Bbr& bbr() { return bbr_; }
    Time now() const { return now_; }
    const std::vector<Transition>& transitions() const { return transitions_; }
    uint64_t delivered_bytes() const { return delivered_; }
    uint64_t dropped_packets() const { return dropped_count_; }
    Duration latest_rtt() const { return latest_rtt_; }

    void set_rate(double rate_bytes_per_second) { rate_ = rate_bytes_per_second; }
    // The application has data at this rate (bytes per second) from now on; nullopt: always.
    void set_app_rate(std::optional<double> bytes_per_second) {
        app_rate_ = bytes_per_second;
        app_credit_ = 0;
        app_since_ = now_;
    }
    // Packets (by number) the bottleneck drops, and ACKs that report a new CE mark.
    std::function<bool(uint64_t pn)> drop_if;
    std::function<bool(uint64_t pn)> ce_if;
    // Called after every event; stop running when it returns true.
    std::function<bool()> stop_if;

    // Runs events until `end` (or stop_if).
    void run_until(Time end) {
        for (;;) {
            if (stop_if && stop_if()) return;
            const Time next_ack = flight_.empty() ? kNever : flight_.front().ack_at;
            const bool data = has_data();
            Time next_send = kNever;
            if (data && bbr_.can_send(kMds)) next_send = pacer_.next_send_time(now_, kMds);
            if (!data && !app_limited_reported_ && bbr_.available_window() >= kMds) {
                bbr_.on_app_limited(now_);
                app_limited_reported_ = true;
            }
            // Without data, wake up when the application will have some.
            const Time next_data = data || !app_rate_ ? kNever : now_ + 1ms;
            const Time t = std::min({next_ack, next_send, next_data});
            if (t > end) {
                now_ = end;
                return;
            }
            now_ = t;
            if (t == next_ack) {
                deliver_ack();
            } else if (t == next_send) {
                send();
            }
            if (bbr_.state() != transitions_.back().state) transitions_.push_back(snapshot());
        }
    }
    void run_for(Duration d) { run_until(now_ + d); }

    // The times at which `state` was entered.
    std::vector<Time> entries(State state) const {
        std::vector<Time> out;
        for (const Transition& t : transitions_)
            if (t.state == state) out.push_back(t.at);
        return out;
    }
    std::string history() const {
        std::string s;
        for (const Transition& t : transitions_)
            s += std::to_string(seconds(t.at - Time{})) + "s " + Bbr::state_name(t.state) + ", ";
        return s;
    }

  private:
    struct InFlight {
        AckedPacketInfo info;
        Time ack_at;
    };

    Transition snapshot() const {
        return {now_,
                bbr_.state(),
                bbr_.bytes_in_flight(),
                bbr_.congestion_window(),
                bbr_.round_count(),
                bbr_.pacing_gain(),
                bbr_.cwnd_gain(),
                bbr_.max_bw()};
    }

    bool has_data() {
        if (!app_rate_) return true;
        app_credit_ += *app_rate_ * seconds(now_ - app_since_);
        app_since_ = now_;
        return app_credit_ >= kMds;
    }

    void send() {
        const uint64_t pn = next_pn_++;
        const DeliveryStamp stamp = bbr_.on_packet_sent(now_, kMds, true);
        pacer_.on_packet_sent(now_, kMds);
        if (app_rate_) app_credit_ -= kMds;
        app_limited_reported_ = false;
        const AckedPacketInfo info{pn, kMds, now_, stamp};
        while (!in_queue_.empty() && in_queue_.front() <= now_) in_queue_.pop_front();
        if (in_queue_.size() > queue_packets_ || (drop_if && drop_if(pn))) {
            dropped_.push_back({pn, kMds, now_, stamp});
            ++dropped_count_;
            return;
        }
        const Time start = std::max(now_, bottleneck_free_);
        bottleneck_free_ =
            start + Duration(static_cast<Duration::rep>(std::ceil(kMds / rate_ * 1e9)));
        in_queue_.push_back(bottleneck_free_);
        flight_.push_back({info, bottleneck_free_ + base_rtt_});
    }

    void deliver_ack() {
        const InFlight p = flight_.front();
        flight_.pop_front();
        delivered_ += p.info.bytes;
        latest_rtt_ = now_ - p.info.time_sent;
        min_rtt_ = rtt_samples_ == 0 ? latest_rtt_ : std::min(min_rtt_, latest_rtt_);
        smoothed_rtt_ = rtt_samples_ == 0 ? latest_rtt_ : (smoothed_rtt_ * 7 + latest_rtt_) / 8;
        ++rtt_samples_;
        // RFC 9002 §6.1.1: packet threshold 3.
        std::vector<LostPacketInfo> lost;
        while (!dropped_.empty() && dropped_.front().packet_number + 3 <= p.info.packet_number) {
            lost.push_back(dropped_.front());
            dropped_.pop_front();
        }
        if (!lost.empty()) bbr_.on_packets_lost(lost, now_, false);
        bbr_.on_packets_acked(std::span(&p.info, 1), now_,
                              RttSnapshot{smoothed_rtt_, min_rtt_, latest_rtt_, true});
        if (ce_if && ce_if(p.info.packet_number)) bbr_.on_ecn_congestion(p.info.time_sent, now_);
        const auto pacing = bbr_.pacing();
        REQUIRE(pacing);
        pacer_.set_rate(now_, pacing->bytes_per_second, pacing->burst_bytes);
    }

    SeededRandom random_;
    Bbr bbr_;
    Pacer pacer_;
    double rate_;
    Duration base_rtt_;
    size_t queue_packets_;
    Time now_{};
    Time bottleneck_free_{};
    std::deque<Time> in_queue_;
    std::deque<InFlight> flight_;
    std::deque<LostPacketInfo> dropped_;
    uint64_t next_pn_ = 0, delivered_ = 0, dropped_count_ = 0;
    std::optional<double> app_rate_;
    double app_credit_ = 0;
    Time app_since_{};
    bool app_limited_reported_ = false;
    Duration latest_rtt_{}, min_rtt_{}, smoothed_rtt_{};
    uint64_t rtt_samples_ = 0;
    std::vector<Transition> transitions_;
};

// 12 Mbit/s, 40 ms: a BDP of 60,000 bytes (50 packets).
constexpr double kRate = 1.5e6;
constexpr Duration kRtt = 40ms;
constexpr double kBdp = kRate * 0.040;

Time at(Duration d) {
    return Time{} + d;
}

}  // namespace

TEST_CASE("BBR: Startup finds the bottleneck rate, Drain empties the queue, ProbeBW follows") {
    SyntheticPath path(kRate, kRtt);
    path.run_until(at(2500ms));  // before the first probe for more bandwidth
    INFO(path.history());
    const auto& t = path.transitions();
    REQUIRE(t.size() == 3);
    CHECK(t[0].state == State::kStartup);
    CHECK(t[0].pacing_gain == doctest::Approx(2.77));
    CHECK(t[0].cwnd_gain == doctest::Approx(2.0));
    // "Exiting STARTUP on Bandwidth Plateau": max_bw within 2 % of the bottleneck.
    REQUIRE(t[1].state == State::kDrain);
    CHECK(t[1].max_bw == doctest::Approx(kRate).epsilon(0.02));
    CHECK(t[1].pacing_gain == doctest::Approx(0.5));
    CHECK(path.bbr().full_bw_reached());
    // Doubling per round from a 10-packet window to a 50-packet BDP, plus three rounds of
    // plateau: about 6 rounds.
    CHECK(t[1].round_count <= 10);
    // "Exiting DRAIN Based on Inflight": ProbeBW starts once inflight is at most a BDP (plus
    // the quantization budget, at least 4 packets). Then inflight is below the BDP of max_bw
    // too, so DOWN passes to CRUISE on the same ACK.
    REQUIRE((t[2].state == State::kProbeBwDown || t[2].state == State::kProbeBwCruise));
    CHECK(static_cast<double>(t[2].bytes_in_flight) <= kBdp + 4 * kMds);
    CHECK(t[2].round_count <= t[1].round_count + 3);
    // The path model.
    REQUIRE(path.bbr().min_rtt());
    CHECK(*path.bbr().min_rtt() < kRtt + 1ms);
    CHECK(path.bbr().bw() == doctest::Approx(kRate).epsilon(0.02));
    // No standing queue: the RTT now is the base RTT plus at most a few packets' worth.
    CHECK(path.latest_rtt() < kRtt + 5ms);
    CHECK(path.dropped_packets() == 0);
}

TEST_CASE("BBR: ProbeBW cycles DOWN, CRUISE, REFILL, UP with the draft's gains") {
    SyntheticPath path(kRate, kRtt);
    path.run_until(at(12s));
    INFO(path.history());
    const auto& t = path.transitions();
    int cycles = 0;
    for (size_t i = 1; i < t.size(); ++i) {
        const State s = t[i].state, before = t[i - 1].state;
        switch (s) {
            case State::kProbeBwDown:
                CHECK(t[i].pacing_gain == doctest::Approx(0.9));
                CHECK(t[i].cwnd_gain == doctest::Approx(2.0));
                CHECK((before == State::kDrain || before == State::kProbeBwUp));
                break;
            case State::kProbeBwCruise:
                CHECK(t[i].pacing_gain == doctest::Approx(1.0));
                CHECK(t[i].cwnd_gain == doctest::Approx(2.0));
                CHECK((before == State::kProbeBwDown || before == State::kProbeRtt ||
                       before == State::kDrain));
                break;
            case State::kProbeBwRefill:
                CHECK(t[i].pacing_gain == doctest::Approx(1.0));
                CHECK((before == State::kProbeBwCruise || before == State::kProbeBwDown));
                break;
            case State::kProbeBwUp:
                CHECK(t[i].pacing_gain == doctest::Approx(1.25));
                CHECK(t[i].cwnd_gain == doctest::Approx(2.25));
                CHECK(before == State::kProbeBwRefill);
                // REFILL lasts one round.
                CHECK(t[i].round_count == t[i - 1].round_count + 1);
                ++cycles;
                break;
            default:
                break;
        }
    }
    // "Time Scale for Bandwidth Probing": REFILL at least every min(2-3 s, 50 rounds of
    // 41 ms = 2 s) after DOWN. (A ProbeRTT that falls due may cut a REFILL short.)
    CHECK(cycles >= 3);
    // The cycle's clock starts in DOWN, which the flow may pass through on the same ACK
    // (into CRUISE from Drain or ProbeRTT).
    Time cycle_start{};
    int refills = 0;
    for (size_t i = 1; i < t.size(); ++i) {
        if (t[i].state == State::kProbeBwDown ||
            (t[i].state == State::kProbeBwCruise && t[i - 1].state != State::kProbeBwDown))
            cycle_start = t[i].at;
        if (t[i].state == State::kProbeBwRefill) {
            CHECK(t[i].at - cycle_start <= 3s + 100ms);
            ++refills;
        }
    }
    CHECK(refills >= 4);
    // UP leaves on the bandwidth plateau (three rounds without 25 % growth): no loss here.
    CHECK(path.dropped_packets() == 0);
    CHECK(path.bbr().inflight_longterm() == Bbr::kInfiniteBytes);
    // Cruising paces 1 % below bw.
    path.stop_if = [&] { return path.bbr().state() == State::kProbeBwCruise; };
    path.run_for(5s);
    REQUIRE(path.bbr().state() == State::kProbeBwCruise);
    CHECK(path.bbr().pacing_rate() == doctest::Approx(0.99 * path.bbr().bw()));
}

TEST_CASE("BBR: ProbeRTT after 5 s without a lower RTT, held 200 ms and a round at half a BDP") {
    SyntheticPath path(kRate, kRtt);
    uint64_t max_cwnd_in_probe_rtt = 0;
    path.stop_if = [&] {
        if (path.bbr().state() == State::kProbeRtt)
            max_cwnd_in_probe_rtt = std::max(max_cwnd_in_probe_rtt, path.bbr().congestion_window());
        return false;
    };
    path.run_until(at(12s));
    INFO(path.history());
    const auto entries = path.entries(State::kProbeRtt);
    // "Entering and Exiting PROBE_RTT": the base RTT never gets lower, so ProbeRTT comes
    // 5 s after the first sample, then 5 s after the previous ProbeRTT ended.
    REQUIRE(entries.size() == 2);
    CHECK(entries[0] > at(5s));
    CHECK(entries[0] < at(5s + 500ms));
    const auto& t = path.transitions();
    for (size_t i = 0; i + 1 < t.size(); ++i) {
        if (t[i].state != State::kProbeRtt) continue;
        CHECK(t[i].cwnd_gain == doctest::Approx(0.5));
        CHECK(t[i].pacing_gain == doctest::Approx(1.0));
        CHECK(t[i + 1].at - t[i].at >= 200ms);
        CHECK(t[i + 1].round_count >= t[i].round_count + 1);
        // The pipe was full already: back to ProbeBW (CRUISE), not Startup.
        CHECK(t[i + 1].state == State::kProbeBwCruise);
    }
    CHECK(entries[1] - entries[0] > 5s);
    // "Modulating cwnd in ProbeRTT": at most half the estimated BDP (or 4 packets).
    REQUIRE(path.bbr().min_rtt());
    const double bdp = path.bbr().bw() * seconds(*path.bbr().min_rtt());
    CHECK(bdp == doctest::Approx(kBdp).epsilon(0.05));
    CHECK(max_cwnd_in_probe_rtt > 0);
    CHECK(static_cast<double>(max_cwnd_in_probe_rtt) <= std::max(bdp / 2, 4.0 * kMds) + 1);
    // After ProbeRTT the cwnd is restored.
    CHECK(static_cast<double>(path.bbr().congestion_window()) > kBdp);
}

TEST_CASE("BBR: an application-limited sender stays in Startup without loss") {
    // "Never Exiting PROBE_UP (or STARTUP) When Application-Limited With No Loss".
    SyntheticPath path(kRate, kRtt);
    path.set_app_rate(kRate / 6);  // 2 Mbit/s of data on a 12 Mbit/s path
    path.run_until(at(5s));
    INFO(path.history());
    CHECK(path.bbr().state() == State::kStartup);
    CHECK_FALSE(path.bbr().full_bw_reached());
    CHECK(path.transitions().size() == 1);
    CHECK(path.bbr().sampler().app_limited());
    // The model still learned the rate that was offered, no more.
    CHECK(path.bbr().max_bw() <= kRate / 6 * 1.3);
}

TEST_CASE("BBR: heavy loss ends an application-limited Startup") {
    // "Exiting STARTUP on Loss When Application-Limited": 20 % loss, more than six lost
    // ranges per round, for more than a round.
    SyntheticPath path(kRate, kRtt);
    path.set_app_rate(kRate * 2 / 3);  // 8 Mbit/s of data: about 33 packets per round
    path.drop_if = [](uint64_t pn) { return pn > 40 && pn % 5 == 0; };
    path.stop_if = [&] { return path.bbr().state() != State::kStartup; };
    path.run_until(at(5s));
    INFO(path.history());
    // Startup ends in Drain; inflight is already below the BDP (the sender is
    // application-limited), so ProbeBW follows at once.
    const auto& t = path.transitions();
    REQUIRE(t.size() >= 2);
    CHECK(t[1].state != State::kProbeRtt);
    CHECK(t[1].at < at(1s));
    CHECK(path.bbr().full_bw_reached());
    // Not the plateau (every sample is application-limited): the loss exit, which alone sets
    // inflight_longterm in Startup, to max(BDP, the data delivered in the last round).
    CHECK(path.bbr().inflight_longterm() < Bbr::kInfiniteBytes);
    CHECK(static_cast<double>(path.bbr().inflight_longterm()) >= 0.5 * kRate * 2 / 3 * 0.040);
}

TEST_CASE("BBR: loss above 2 % while probing ends ProbeBW_UP and bounds inflight") {
    // "Handling Loss During PROBE_UP": losses from the first UP on.
    SyntheticPath path(kRate, kRtt);
    path.stop_if = [&] { return path.bbr().state() == State::kProbeBwUp; };
    path.run_until(at(10s));
    REQUIRE(path.bbr().state() == State::kProbeBwUp);
    const Time up_at = path.now();
    const uint64_t rounds_at_up = path.bbr().round_count();
    uint64_t drops_from = 0;
    path.drop_if = [&](uint64_t pn) {
        if (drops_from == 0) drops_from = pn;
        return pn >= drops_from && pn < drops_from + 20 && pn % 4 == 0;  // 25 % of 20 packets
    };
    path.stop_if = [&] { return path.bbr().state() != State::kProbeBwUp; };
    path.run_for(2s);
    INFO(path.history());
    CHECK(path.bbr().state() == State::kProbeBwDown);
    // Well before the plateau rule (three rounds) would have ended UP.
    CHECK(path.bbr().round_count() < rounds_at_up + 3);
    CHECK(path.now() - up_at < 3 * kRtt);
    // inflight_longterm: where the loss rate crossed 2 %, not below 0.7 * the BDP.
    const uint64_t longterm = path.bbr().inflight_longterm();
    REQUIRE(longterm < Bbr::kInfiniteBytes);
    CHECK(static_cast<double>(longterm) >= 0.7 * kBdp - kMds);
    CHECK(static_cast<double>(longterm) <= 1.25 * kBdp + 4 * kMds);
    // CRUISE keeps 15 % headroom below it.
    path.drop_if = nullptr;
    path.stop_if = [&] { return path.bbr().state() == State::kProbeBwCruise; };
    path.run_for(3s);
    REQUIRE(path.bbr().state() == State::kProbeBwCruise);
    path.stop_if = nullptr;
    path.run_for(100ms);
    CHECK(path.bbr().congestion_window() <=
          std::max<uint64_t>(path.bbr().inflight_longterm() * 85 / 100 + 1, 4 * kMds));
}

TEST_CASE("BBR: ECN-CE while probing ends ProbeBW_UP; while cruising it lowers bw_shortterm") {
    SyntheticPath path(kRate, kRtt);
    path.stop_if = [&] { return path.bbr().state() == State::kProbeBwUp; };
    path.run_until(at(10s));
    REQUIRE(path.bbr().state() == State::kProbeBwUp);
    // Three ACKs in a row report new CE marks: 3 of about 60 packets in flight, above 2 %.
    int marks = 3;
    path.ce_if = [&](uint64_t) { return marks-- > 0; };
    path.stop_if = [&] { return path.bbr().state() != State::kProbeBwUp; };
    path.run_for(1s);
    INFO(path.history());
    CHECK(path.bbr().state() == State::kProbeBwDown);
    CHECK(path.bbr().inflight_longterm() < Bbr::kInfiniteBytes);
    CHECK(path.dropped_packets() == 0);

    // In CRUISE, a CE mark cuts the short-term model at the end of the round.
    path.ce_if = nullptr;
    path.stop_if = [&] { return path.bbr().state() == State::kProbeBwCruise; };
    path.run_for(3s);
    REQUIRE(path.bbr().state() == State::kProbeBwCruise);
    CHECK(std::isinf(path.bbr().bw_shortterm()));
    marks = 1;
    path.ce_if = [&](uint64_t) { return marks-- > 0; };
    path.stop_if = nullptr;
    path.run_for(3 * kRtt);
    REQUIRE(path.bbr().state() == State::kProbeBwCruise);
    CHECK_FALSE(std::isinf(path.bbr().bw_shortterm()));
    CHECK(path.bbr().bw_shortterm() <= path.bbr().max_bw());
    CHECK(path.bbr().bw_shortterm() >= 0.7 * path.bbr().max_bw());
}

TEST_CASE("BBR: 1 % random loss costs little throughput") {
    SyntheticPath path(kRate, kRtt);
    SeededRandom loss(3);
    path.drop_if = [&](uint64_t) { return loss.uniform(100) == 0; };
    path.run_until(at(20s));
    INFO(path.history());
    CHECK(path.dropped_packets() > 100);
    const double goodput = static_cast<double>(path.delivered_bytes()) / 20.0;
    MESSAGE("BBR at 1 % loss on a synthetic 12 Mbit/s path: " << goodput / kRate * 100
                                                              << " % of the link");
    CHECK(goodput > 0.75 * kRate);
}

TEST_CASE("BBR: max_bw follows a 10x bandwidth decrease within two ProbeBW cycles") {
    // "Decreasing Bandwidth 10x and Ensuring Max Bandwidth Adapts Down".
    SyntheticPath path(kRate * 10, kRtt, 100);
    path.run_until(at(3s));
    REQUIRE(path.bbr().max_bw() == doctest::Approx(kRate * 10).epsilon(0.02));
    path.set_rate(kRate);
    path.run_for(10s);
    INFO(path.history());
    CHECK(path.bbr().max_bw() == doctest::Approx(kRate).epsilon(0.05));
    CHECK(path.bbr().bw() <= kRate * 1.05);
}

TEST_CASE("BBR: after an idle period it resumes at bw and skips ProbeRTT") {
    // "Skipping PROBE_RTT Due to Application-Limited Sending".
    SyntheticPath path(kRate, kRtt);
    path.run_until(at(2s));
    REQUIRE(path.bbr().full_bw_reached());
    const double bw = path.bbr().bw();
    path.set_app_rate(0.0);  // silence for 6 s: ProbeRTTInterval passes
    path.run_for(6s);
    CHECK(path.bbr().bytes_in_flight() == 0);
    const size_t transitions = path.transitions().size();
    path.set_app_rate(std::nullopt);
    path.run_for(1ms);  // the first packets leave
    CHECK(path.bbr().pacing_rate() == doctest::Approx(0.99 * bw));
    path.run_for(1s);
    INFO(path.history());
    for (size_t i = transitions; i < path.transitions().size(); ++i)
        CHECK(path.transitions()[i].state != State::kProbeRtt);
}

TEST_CASE("BBR: control parameters at the edges") {
    SeededRandom random(1);
    Bbr bbr(kMds, random);
    // Initial values: the RFC 9002 initial window, Startup, paced at 2.77 * cwnd / 1 ms.
    CHECK(bbr.congestion_window() == 12000);
    CHECK(bbr.state() == State::kStartup);
    CHECK(std::string(bbr.state_name()) == "startup");
    CHECK(std::string(bbr.name()) == "bbr");
    REQUIRE(bbr.pacing());
    CHECK(bbr.pacing()->bytes_per_second == doctest::Approx(2.77 * 12000 / 0.001));
    // Send quantum: pacing_rate * 1 ms, within [2 * SMSS, 64 KB].
    CHECK(bbr.pacing()->burst_bytes == 33240);

    // "Modulating cwnd in Loss Recovery": persistent congestion (QUIC's RTO) leaves room for
    // one packet beyond what is in flight.
    std::vector<LostPacketInfo> lost;
    for (uint64_t pn = 0; pn < 10; ++pn) {
        const DeliveryStamp s = bbr.on_packet_sent(at(1ms), kMds, true);
        lost.push_back({pn, kMds, at(1ms), s});
    }
    const DeliveryStamp s = bbr.on_packet_sent(at(2ms), kMds, true);
    CHECK(bbr.bytes_in_flight() == 11 * kMds);
    bbr.on_packets_lost(lost, at(500ms), true);
    CHECK(bbr.bytes_in_flight() == kMds);
    CHECK(bbr.congestion_window() == 2 * kMds);
    CHECK(bbr.in_recovery(at(1ms)));
    // The recovery ends when a packet sent after it began is acknowledged: the last known
    // good cwnd comes back (then bounded by the model; here no bandwidth sample exists yet).
    const DeliveryStamp later = bbr.on_packet_sent(at(501ms), kMds, true);
    const AckedPacketInfo acked[] = {{10, kMds, at(2ms), s}, {11, kMds, at(501ms), later}};
    bbr.on_packets_acked(acked, at(540ms), RttSnapshot{39ms, 39ms, 39ms, true});
    CHECK(bbr.bytes_in_flight() == 0);
    CHECK(bbr.congestion_window() >= 12000);
    // ACK-only packets are neither in flight nor stamped.
    const DeliveryStamp none = bbr.on_packet_sent(at(600ms), 50, false);
    CHECK(bbr.bytes_in_flight() == 0);
    CHECK(none.send_sequence == 0);
    CHECK(none.tx_in_flight == 0);
}

TEST_CASE("BBR: the cwnd never goes below 4 packets on a path with a sub-packet BDP") {
    // "Correctly Managing Sub-Packet BDPs": 96 kbit/s, 40 ms: a BDP of 480 bytes.
    SyntheticPath path(12000, kRtt, 1000);
    uint64_t min_cwnd = std::numeric_limits<uint64_t>::max();
    path.stop_if = [&] {
        if (path.bbr().full_bw_reached())
            min_cwnd = std::min(min_cwnd, path.bbr().congestion_window());
        return false;
    };
    path.run_until(at(30s));
    INFO(path.history());
    REQUIRE(path.bbr().full_bw_reached());
    CHECK(min_cwnd == 4 * kMds);
    CHECK(path.bbr().max_bw() == doctest::Approx(12000).epsilon(0.05));
    // Paced at the path's rate, the link stays busy.
    CHECK(static_cast<double>(path.delivered_bytes()) > 0.8 * 12000 * 30);
}
