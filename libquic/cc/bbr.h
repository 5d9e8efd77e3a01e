// BBR congestion control, draft-ietf-ccwg-bbr (BBRv3; the editors' copy after -06, whose
// section titles are cited below in quotes). BBR builds a model of the path, the bottleneck
// bandwidth (BBR.max_bw, a windowed max of delivery rate samples) and the round-trip
// propagation delay (BBR.min_rtt, a windowed min of RTT samples), and sends at the rate and
// with the amount in flight that the model says fill the pipe without a standing queue. Loss
// and ECN-CE are not the main signal, as for Reno and CUBIC, but bound the model: 1 % random
// loss costs BBR about a fifth of the link where it costs CUBIC more than half
// (tests/sim/bbr_test).
//
// The state machine ("State Transition Diagram"):
//   Startup -> Drain -> ProbeBW (DOWN -> CRUISE -> REFILL -> UP -> DOWN ...), and ProbeRTT
//   from any state when min_rtt has not been refreshed for 5 s.
//
// Wiring into QUIC:
// - Delivery rate samples come from cc/delivery_rate_sampler.h: on_packet_sent returns the
//   per-packet stamp, the connection keeps it with the sent packet and hands it back.
// - Pacing: pacing() gives BBR's pacing rate and send quantum; the connection's pacer
//   (cc/pacer.h) follows them.
// - QUIC has no fast recovery state. Here a loss recovery episode is the RFC 9002 §7.3.2
//   recovery period: it starts when a packet sent after the previous one began is lost, and
//   ends when a packet sent after it began is acknowledged ("Modulating cwnd in Loss
//   Recovery": SaveCwnd on entry, RestoreCwnd on exit). Persistent congestion (RFC 9002
//   §7.6) is QUIC's counterpart of TCP's retransmission timeout (OnEnterRTO).
// - ECN ("ECN": CE marks MUST be treated as congestion): an ACK reporting new CE marks is
//   handled like the loss of one full-size datagram sent when the newest acknowledged packet
//   was, except that nothing leaves bytes in flight.
// - Application-limited phases come from CongestionController::on_app_limited. The connection
//   also reports a sender blocked by the peer's flow control that way, where the draft
//   ("Considerations Related to Receiver Flow Control Limits") would count it as a path limit:
//   while blocked, Startup cannot see its plateau.
// - Not done: spurious loss recovery ("Updating the Model Upon Detecting a Spurious Loss
//   Recovery") needs a loss detector that notices ACKs of packets declared lost, which
//   recovery/ does not; the undo state is therefore not kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include "cc/congestion_controller.h"
#include "cc/delivery_rate_sampler.h"
#include "cc/windowed_filter.h"
#include "quic/random.h"

namespace quic {

class Bbr final : public CongestionController {
  public:
    enum class State : uint8_t {
        kStartup,
        kDrain,
        kProbeBwDown,
        kProbeBwCruise,
        kProbeBwRefill,
        kProbeBwUp,
        kProbeRtt,
    };

    // "Terminology" and "Summary of Control Behavior in the State Machine".
    static constexpr double kStartupPacingGain = 2.77;  // 4 * ln(2)
    static constexpr double kDrainPacingGain = 0.5;
    static constexpr double kDefaultCwndGain = 2.0;
    static constexpr double kProbeBwDownPacingGain = 0.9;
    static constexpr double kProbeBwUpPacingGain = 1.25;
    static constexpr double kProbeBwUpCwndGain = 2.25;
    static constexpr double kProbeRttCwndGain = 0.5;
    static constexpr double kPacingMarginPercent = 1;
    static constexpr double kLossThresh = 0.02;
    static constexpr double kBeta = 0.7;
    static constexpr double kHeadroom = 0.15;
    static constexpr uint64_t kMaxBwFilterLen = 2;        // ProbeBW cycles
    static constexpr uint64_t kExtraAckedFilterLen = 10;  // round trips
    static constexpr Duration kMinRttFilterLen = std::chrono::seconds(10);
    static constexpr Duration kProbeRttDuration = std::chrono::milliseconds(200);
    static constexpr Duration kProbeRttInterval = std::chrono::seconds(5);
    // "Exiting Startup Based on Packet Loss": BBRStartupFullLossCnt.
    static constexpr uint64_t kStartupFullLossCount = 6;
    // "Exiting Acceleration Based on Bandwidth Plateau": three rounds under 25 % growth.
    static constexpr uint64_t kFullBwCount = 3;
    static constexpr double kFullBwGrowth = 1.25;
    // "Send Quantum": pacing_rate * 1 ms, within [2 * SMSS, 64 KB].
    static constexpr Duration kSendQuantumTime = std::chrono::milliseconds(1);
    static constexpr uint64_t kMaxSendQuantum = 64 * 1024;
    // "Time Scale for Bandwidth Probing": at most 63 rounds between probes (62 or 63, at
    // random), and 2 s plus up to 1 s at random.
    static constexpr uint64_t kRenoCoexistenceMaxRounds = 63;
    static constexpr Duration kBwProbeBaseWait = std::chrono::seconds(2);
    static constexpr Duration kBwProbeRandomWait = std::chrono::seconds(1);
    // "RaiseInflightLongtermSlope": the doubling stops at 2^30 segments per round.
    static constexpr uint64_t kMaxProbeUpRounds = 30;

    static constexpr uint64_t kInfiniteBytes = std::numeric_limits<uint64_t>::max();

    // random: picks how long to wait between bandwidth probes; must outlive the controller.
    Bbr(size_t max_datagram_size, Random& random);

    DeliveryStamp on_packet_sent(Time now, size_t bytes, bool in_flight) override;
    void on_packets_acked(std::span<const AckedPacketInfo> acked, Time now,
                          const RttSnapshot& rtt) override;
    void on_packets_lost(std::span<const LostPacketInfo> lost, Time now,
                         bool persistent_congestion) override;
    void on_ecn_congestion(Time sent_time_of_largest_acked, Time now) override;
    void on_packets_discarded(size_t bytes) override;
    void on_app_limited(Time now) override;
    void set_max_datagram_size(size_t max_datagram_size) override;

    uint64_t congestion_window() const override { return cwnd_; }
    uint64_t bytes_in_flight() const override { return bytes_in_flight_; }
    bool in_slow_start() const override { return state_ == State::kStartup; }
    bool in_recovery(Time sent_time) const override {
        return recovery_start_.has_value() && sent_time <= *recovery_start_;
    }
    std::optional<PacingParameters> pacing() const override {
        return PacingParameters{pacing_rate_, send_quantum_};
    }
    const char* name() const override { return "bbr"; }
    const char* state_name() const override { return state_name(state_); }

    // The qlog names: "startup", "drain", "probe_bw_down", "probe_bw_cruise",
    // "probe_bw_refill", "probe_bw_up", "probe_rtt".
    static const char* state_name(State s);

    // The model, for tests and diagnostics.
    State state() const { return state_; }
    double max_bw() const { return max_bw_; }  // bytes per second
    double bw() const { return bw_; }
    double bw_shortterm() const { return bw_shortterm_; }
    std::optional<Duration> min_rtt() const { return min_rtt_; }
    uint64_t inflight_longterm() const { return inflight_longterm_; }
    uint64_t inflight_shortterm() const { return inflight_shortterm_; }
    uint64_t max_inflight() const { return max_inflight_; }
    uint64_t extra_acked() const { return extra_acked_; }
    bool full_bw_reached() const { return full_bw_reached_; }
    uint64_t round_count() const { return round_count_; }
    double pacing_gain() const { return pacing_gain_; }
    double cwnd_gain() const { return cwnd_gain_; }
    double pacing_rate() const { return pacing_rate_; }  // bytes per second
    uint64_t send_quantum() const { return send_quantum_; }
    const RateSample& last_rate_sample() const { return rs_; }
    const DeliveryRateSampler& sampler() const { return sampler_; }
    size_t max_datagram_size() const { return mds_; }

  private:
    // "ProbeBW State": what the ACKs now arriving say about bandwidth probing.
    enum class AckPhase : uint8_t {
        kInit,
        kRefilling,
        kProbeStarting,
        kProbeFeedback,
        kProbeStopping
    };

    // --- bbr.cpp: events, the model, control parameters, Startup, Drain, ProbeRTT ---------
    void start(Time now);
    void set_state(State s);
    void update_model_and_state(Time now);
    void update_control_parameters();
    void update_round();
    void start_round();
    void update_max_bw();
    void update_ack_aggregation(Time now);
    void check_full_bw_reached();
    void reset_full_bw();
    void check_startup_done();
    void check_startup_high_loss();
    void enter_startup();
    void enter_drain();
    void check_drain_done(Time now);
    void update_min_rtt(Time now);
    void check_probe_rtt(Time now);
    void enter_probe_rtt();
    void handle_probe_rtt(Time now);
    void check_probe_rtt_done(Time now);
    void exit_probe_rtt(Time now);
    void handle_restart_from_idle(Time now);
    void init_pacing_rate(Duration smoothed_rtt);
    void set_pacing_rate_with_gain(double gain);
    void set_send_quantum();
    void set_cwnd();
    void update_max_inflight();
    void bound_cwnd_for_probe_rtt();
    void bound_cwnd_for_model();
    void save_cwnd();
    void restore_cwnd();
    void enter_loss_recovery(Time sent_time, Time now);
    uint64_t bdp_multiple(double bw, double gain) const;
    uint64_t quantization_budget(uint64_t inflight_cap) const;
    uint64_t inflight(double bw, double gain) const;
    uint64_t probe_rtt_cwnd() const;
    uint64_t min_pipe_cwnd() const { return 4 * uint64_t{mds_}; }
    uint64_t initial_cwnd() const { return initial_congestion_window(mds_); }
    bool is_cwnd_limited() const { return cwnd_limited_this_round_ || cwnd_limited_last_round_; }

    // --- bbr_probe_bw.cpp: ProbeBW and the response to loss -------------------------------
    void enter_probe_bw(Time now);
    void start_probe_bw_down(Time now);
    void start_probe_bw_cruise();
    void start_probe_bw_refill();
    void start_probe_bw_up();
    void update_probe_bw_cycle_phase(Time now);
    bool adapt_long_term_model();
    bool is_in_a_probe_bw_state() const;
    bool is_probing_bw() const;
    bool is_time_to_probe_bw(Time now);
    bool is_reno_coexistence_probe_time() const;
    bool is_time_to_cruise() const;
    bool is_time_to_go_down();
    void pick_probe_wait();
    uint64_t target_inflight() const;
    uint64_t inflight_with_headroom() const;
    void raise_inflight_longterm_slope();
    void probe_inflight_longterm_upward();
    void handle_lost_packet(const LostPacketInfo& p, Time now);
    bool is_inflight_too_high(uint64_t lost, uint64_t tx_in_flight) const;
    void handle_inflight_too_high(bool is_app_limited, uint64_t tx_in_flight, Time now);
    void note_loss();
    void update_latest_delivery_signals();
    void advance_latest_delivery_signals();
    void reset_congestion_signals();
    void update_congestion_signals();
    void adapt_lower_bounds_from_congestion();
    void reset_short_term_model();
    void bound_bw_for_model();

    Random& random_;
    size_t mds_;
    DeliveryRateSampler sampler_;
    RateSample rs_;  // the rate sample of the ACK being processed
    bool started_ = false;

    // Connection state (C.*) and control parameters.
    uint64_t cwnd_;
    uint64_t bytes_in_flight_ = 0;
    double pacing_rate_ = 0;  // bytes per second
    uint64_t send_quantum_ = 0;
    bool pacing_rate_from_rtt_ = false;  // InitPacingRate ran with a real smoothed RTT
    bool cwnd_limited_this_round_ = false, cwnd_limited_last_round_ = false;
    std::optional<Time> recovery_start_;
    bool in_loss_recovery_ = false;

    // General algorithm state.
    State state_ = State::kStartup;
    double pacing_gain_ = kStartupPacingGain;
    double cwnd_gain_ = kDefaultCwndGain;
    uint64_t round_count_ = 0;
    bool round_start_ = false;
    uint64_t next_round_delivered_ = 0;
    bool idle_restart_ = false;
    uint64_t drain_start_round_ = 0;

    // Data rate model.
    WindowedMaxFilter<double> max_bw_filter_;
    uint64_t cycle_count_ = 0;
    double max_bw_ = 0;
    double bw_shortterm_ = std::numeric_limits<double>::infinity();
    double bw_ = 0;
    double bw_latest_ = 0;

    // Data volume model.
    std::optional<Duration> min_rtt_;  // nullopt: Infinity
    Time min_rtt_stamp_{};
    WindowedMaxFilter<uint64_t> extra_acked_filter_;
    uint64_t extra_acked_ = 0;
    Time extra_acked_interval_start_{};
    uint64_t extra_acked_delivered_ = 0;
    uint64_t max_inflight_ = 0;
    uint64_t inflight_longterm_ = kInfiniteBytes;
    uint64_t inflight_shortterm_ = kInfiniteBytes;
    uint64_t inflight_latest_ = 0;
    uint64_t prior_cwnd_ = 0;

    // Congestion signals.
    uint64_t loss_round_delivered_ = 0;
    bool loss_round_start_ = false;
    bool is_loss_in_round_ = false;
    // "Exiting Startup Based on Packet Loss": discontiguous lost ranges in this loss round and
    // in the previous one (losses in both stand for "in recovery for a full round trip").
    uint64_t loss_ranges_in_round_ = 0;
    uint64_t loss_ranges_previous_round_ = 0;

    // Startup.
    bool full_bw_reached_ = false;
    bool full_bw_now_ = false;
    double full_bw_ = 0;
    uint64_t full_bw_count_ = 0;

    // ProbeBW.
    AckPhase ack_phase_ = AckPhase::kInit;
    bool is_bw_probe_sample_ = false;
    uint64_t bw_probe_up_acked_ = 0;
    uint64_t probe_up_acked_per_inc_ = kInfiniteBytes;
    uint64_t bw_probe_up_rounds_ = 0;
    uint64_t rounds_since_probe_up_ = 0;
    Duration bw_probe_wait_{};
    Time cycle_stamp_{};
    bool prev_probe_too_high_ = false;
    bool prev_probe_precautionary_ = false;

    // ProbeRTT.
    std::optional<Duration> probe_rtt_min_delay_;  // nullopt: Infinity
    Time probe_rtt_min_stamp_{};
    bool probe_rtt_expired_ = false;
    std::optional<Time> probe_rtt_done_stamp_;
    bool probe_rtt_round_done_ = false;
};

}  // namespace quic
