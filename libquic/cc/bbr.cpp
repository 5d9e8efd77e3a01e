#include "cc/bbr.h"

#include <algorithm>
#include <cmath>

namespace quic {

namespace {

double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

uint64_t saturating_sub(uint64_t a, uint64_t b) {
    return a > b ? a - b : 0;
}

}  // namespace

Bbr::Bbr(size_t max_datagram_size, Random& random)
    : random_(random), mds_(std::max(max_datagram_size, kMinMaxDatagramSize)) {
    // "Initial cwnd": the transport's initial window (RFC 9002 §7.2).
    cwnd_ = initial_cwnd();
    // OnInit: the parts that need no clock. No RTT sample yet: InitPacingRate with 1 ms.
    max_bw_filter_.reset(0, 0);
    extra_acked_filter_.reset(0, 0);
    enter_startup();
    init_pacing_rate(std::chrono::milliseconds(1));
    set_send_quantum();
}

const char* Bbr::state_name(State s) {
    switch (s) {
        case State::kStartup:
            return "startup";
        case State::kDrain:
            return "drain";
        case State::kProbeBwDown:
            return "probe_bw_down";
        case State::kProbeBwCruise:
            return "probe_bw_cruise";
        case State::kProbeBwRefill:
            return "probe_bw_refill";
        case State::kProbeBwUp:
            return "probe_bw_up";
        case State::kProbeRtt:
            return "probe_rtt";
    }
    return "unknown";
}

// OnInit's wall-clock stamps (min_rtt_stamp, extra_acked_interval_start, and the ProbeRTT
// schedule) are "Now()" at initialization; a sans-IO controller first sees the time with its
// first event.
void Bbr::start(Time now) {
    if (started_) return;
    started_ = true;
    min_rtt_stamp_ = now;
    probe_rtt_min_stamp_ = now;
    extra_acked_interval_start_ = now;
    cycle_stamp_ = now;
}

// The pacing and cwnd gains of each state ("Summary of Control Behavior in the State
// Machine").
void Bbr::set_state(State s) {
    state_ = s;
    switch (s) {
        case State::kStartup:
            pacing_gain_ = kStartupPacingGain;
            cwnd_gain_ = kDefaultCwndGain;
            break;
        case State::kDrain:
            pacing_gain_ = kDrainPacingGain;
            cwnd_gain_ = kDefaultCwndGain;
            break;
        case State::kProbeBwDown:
            pacing_gain_ = kProbeBwDownPacingGain;
            cwnd_gain_ = kDefaultCwndGain;
            break;
        case State::kProbeBwCruise:
        case State::kProbeBwRefill:
            pacing_gain_ = 1.0;
            cwnd_gain_ = kDefaultCwndGain;
            break;
        case State::kProbeBwUp:
            pacing_gain_ = kProbeBwUpPacingGain;
            cwnd_gain_ = kProbeBwUpCwndGain;
            break;
        case State::kProbeRtt:
            pacing_gain_ = 1.0;
            cwnd_gain_ = kProbeRttCwndGain;
            break;
    }
}

// --- events ----------------------------------------------------------------------------------

DeliveryStamp Bbr::on_packet_sent(Time now, size_t bytes, bool in_flight) {
    if (!in_flight) return {};  // C.inflight and C.delivered leave pure ACKs out
    start(now);
    handle_restart_from_idle(now);  // OnTransmit
    const DeliveryStamp stamp = sampler_.on_packet_sent(now, bytes, bytes_in_flight_);
    bytes_in_flight_ += bytes;
    // C.is_cwnd_limited: the window had no room for another full-size packet.
    if (bytes_in_flight_ + mds_ > cwnd_) cwnd_limited_this_round_ = true;
    return stamp;
}

// "Per-ACK Steps": UpdateOnACK.
void Bbr::on_packets_acked(std::span<const AckedPacketInfo> acked, Time now,
                           const RttSnapshot& rtt) {
    start(now);
    sampler_.begin_ack();
    bool recovery_over = false;
    for (const AckedPacketInfo& p : acked) {
        bytes_in_flight_ = saturating_sub(bytes_in_flight_, p.bytes);
        sampler_.on_packet_acked(now, p.bytes, p.time_sent, p.delivery);
        // RFC 9002 §7.3.2: a packet sent during the recovery period is acknowledged.
        if (in_loss_recovery_ && p.time_sent > *recovery_start_) recovery_over = true;
    }
    rs_ = sampler_.generate(now, rtt.has_sample ? std::optional(rtt.min) : std::nullopt);
    // "Pacing Rate": the initial rate uses the first smoothed RTT once there is one.
    if (!pacing_rate_from_rtt_ && rtt.has_sample && rtt.smoothed > Duration::zero() &&
        max_bw_ == 0) {
        init_pacing_rate(rtt.smoothed);
        pacing_rate_from_rtt_ = true;
    }
    if (recovery_over) {
        // "Modulating cwnd in Loss Recovery": on exit, back to the last known good cwnd (the
        // model bounds it again below).
        in_loss_recovery_ = false;
        restore_cwnd();
    }
    update_model_and_state(now);
    update_control_parameters();
}

// "Per-Loss Steps": HandleLostPacket for each, once per run of loss detection.
void Bbr::on_packets_lost(std::span<const LostPacketInfo> lost, Time now,
                          bool persistent_congestion) {
    if (lost.empty()) return;
    start(now);
    std::optional<Time> latest_sent;
    std::optional<uint64_t> previous_pn;
    for (const LostPacketInfo& p : lost) {
        bytes_in_flight_ = saturating_sub(bytes_in_flight_, p.bytes);
        sampler_.on_packet_lost(p.bytes);  // C.lost, before RS.lost is computed from it
        // Discontiguous lost ranges ("Exiting Startup Based on Packet Loss"); the detector
        // reports packets in ascending order within a space.
        if (!previous_pn || p.packet_number != *previous_pn + 1) ++loss_ranges_in_round_;
        previous_pn = p.packet_number;
        if (!latest_sent || p.time_sent > *latest_sent) latest_sent = p.time_sent;
        handle_lost_packet(p, now);
    }
    enter_loss_recovery(*latest_sent, now);
    if (persistent_congestion) {
        // OnEnterRTO: "C.cwnd = C.inflight + 1" packet.
        save_cwnd();
        cwnd_ = bytes_in_flight_ + mds_;
    }
}

void Bbr::on_ecn_congestion(Time sent_time_of_largest_acked, Time now) {
    start(now);
    // "ECN": CE marks are congestion. One marked ACK counts as one full-size datagram lost
    // for the loss rate (C.lost), sent with the newest packet this ACK acknowledged.
    sampler_.on_packet_lost(mds_);
    ++loss_ranges_in_round_;
    const LostPacketInfo marked{0, mds_, sent_time_of_largest_acked, rs_.newest};
    handle_lost_packet(marked, now);
    enter_loss_recovery(sent_time_of_largest_acked, now);
}

void Bbr::on_packets_discarded(size_t bytes) {
    bytes_in_flight_ = saturating_sub(bytes_in_flight_, bytes);
}

// "Detecting application-limited phases": the connection ran out of data to send while the
// window had room (CheckIfApplicationLimited).
void Bbr::on_app_limited(Time now) {
    start(now);
    if (bytes_in_flight_ >= cwnd_) return;
    sampler_.mark_app_limited(bytes_in_flight_);
}

void Bbr::set_max_datagram_size(size_t max_datagram_size) {
    const size_t mds = std::max(max_datagram_size, kMinMaxDatagramSize);
    if (mds == mds_) return;
    // RFC 9002 §7.2: an untouched initial window is recomputed for the new size.
    const bool untouched = cwnd_ == initial_cwnd() && sampler_.delivered() == 0;
    mds_ = mds;
    if (untouched) cwnd_ = initial_cwnd();
    cwnd_ = std::max(cwnd_, min_pipe_cwnd());
    set_send_quantum();
}

void Bbr::enter_loss_recovery(Time sent_time, Time now) {
    // A loss of a packet sent before the current recovery period began belongs to it.
    if (in_recovery(sent_time)) return;
    save_cwnd();  // OnEnterFastRecovery (SaveStateUponLoss saves the cwnd too)
    recovery_start_ = now;
    in_loss_recovery_ = true;
}

// --- the model -------------------------------------------------------------------------------

// "Per-ACK Steps": UpdateModelAndState.
void Bbr::update_model_and_state(Time now) {
    update_latest_delivery_signals();
    update_congestion_signals();
    update_ack_aggregation(now);
    check_full_bw_reached();
    check_startup_done();
    check_drain_done(now);
    update_probe_bw_cycle_phase(now);
    update_min_rtt(now);
    check_probe_rtt(now);
    advance_latest_delivery_signals();
    bound_bw_for_model();
}

// "Per-ACK Steps": UpdateControlParameters.
void Bbr::update_control_parameters() {
    set_pacing_rate_with_gain(pacing_gain_);
    set_send_quantum();
    set_cwnd();
}

// "BBR.round_count: Tracking Packet-Timed Round Trips": a round ends when a packet sent after
// the previous round ended is acknowledged.
void Bbr::update_round() {
    if (rs_.has_data && rs_.prior_delivered >= next_round_delivered_) {
        start_round();
        ++round_count_;
        ++rounds_since_probe_up_;
        round_start_ = true;
        cwnd_limited_last_round_ = cwnd_limited_this_round_;
        cwnd_limited_this_round_ = false;
    } else {
        round_start_ = false;
    }
}

void Bbr::start_round() {
    next_round_delivered_ = sampler_.delivered();
}

// "Updating the BBR.max_bw Max Filter": application-limited samples count only when they
// show more bandwidth than the model has.
void Bbr::update_max_bw() {
    update_round();
    if (rs_.delivery_rate > 0 && (rs_.delivery_rate >= max_bw_ || !rs_.is_app_limited))
        max_bw_ = max_bw_filter_.update(rs_.delivery_rate, cycle_count_, kMaxBwFilterLen);
}

// "BBR.extra_acked": data acknowledged beyond what bw predicts since the interval began is
// aggregation, which the cwnd must cover.
void Bbr::update_ack_aggregation(Time now) {
    const double interval = seconds(now - extra_acked_interval_start_);
    double expected_delivered = bw_ * interval;
    // The ACK rate fell below bw: the aggregation episode is over; start a new interval.
    if (static_cast<double>(extra_acked_delivered_) <= expected_delivered) {
        extra_acked_delivered_ = 0;
        extra_acked_interval_start_ = now;
        expected_delivered = 0;
    }
    extra_acked_delivered_ += rs_.newly_acked;
    const double extra_bytes = static_cast<double>(extra_acked_delivered_) - expected_delivered;
    const uint64_t extra = std::min(static_cast<uint64_t>(std::max(extra_bytes, 0.0)), cwnd_);
    const uint64_t filter_len = full_bw_reached_ ? kExtraAckedFilterLen : 1;
    extra_acked_ = extra_acked_filter_.update(extra, round_count_, filter_len);
}

// "Exiting Acceleration Based on Bandwidth Plateau": three non-app-limited rounds in a row
// without 25 % more delivery rate mean the pipe is full. A round-start ACK without a rate
// sample (interval below min_rtt) says nothing and is skipped.
void Bbr::check_full_bw_reached() {
    if (full_bw_now_ || !round_start_ || rs_.is_app_limited || rs_.delivery_rate <= 0) return;
    if (rs_.delivery_rate >= full_bw_ * kFullBwGrowth) {
        reset_full_bw();
        full_bw_ = rs_.delivery_rate;
        return;
    }
    ++full_bw_count_;
    full_bw_now_ = full_bw_count_ >= kFullBwCount;
    if (full_bw_now_) full_bw_reached_ = true;
}

void Bbr::reset_full_bw() {
    full_bw_ = 0;
    full_bw_count_ = 0;
    full_bw_now_ = false;
}

// --- Startup and Drain -----------------------------------------------------------------------

void Bbr::enter_startup() {
    set_state(State::kStartup);
}

void Bbr::check_startup_done() {
    check_startup_high_loss();
    if (state_ == State::kStartup && full_bw_reached_) enter_drain();
}

// "Exiting Startup Based on Packet Loss", judged once per loss round: the round had at least
// kStartupFullLossCount discontiguous lost ranges, losses went on for a full round trip (the
// previous round had losses too: QUIC's recovery period lasts one round, so "in fast
// recovery for a full round" means losses in consecutive rounds), and the loss rate over the
// round (RS.lost against RS.tx_in_flight of the packet that ends it) exceeds BBR.LossThresh.
void Bbr::check_startup_high_loss() {
    if (!loss_round_start_) return;
    const bool high_loss = loss_ranges_in_round_ >= kStartupFullLossCount &&
                           loss_ranges_previous_round_ > 0 &&
                           is_inflight_too_high(rs_.lost, rs_.tx_in_flight);
    loss_ranges_previous_round_ = loss_ranges_in_round_;
    loss_ranges_in_round_ = 0;
    if (state_ != State::kStartup || full_bw_reached_ || !high_loss) return;
    full_bw_now_ = true;
    full_bw_reached_ = true;
    inflight_longterm_ = std::max(bdp_multiple(bw_, 1.0), inflight_latest_);
}

void Bbr::enter_drain() {
    set_state(State::kDrain);
    drain_start_round_ = round_count_;
}

// Drain ends when the queue Startup built is gone (in flight at most one BDP), or after three
// rounds if bw was overestimated.
void Bbr::check_drain_done(Time now) {
    if (state_ == State::kDrain &&
        (bytes_in_flight_ <= inflight(bw_, 1.0) || round_count_ > drain_start_round_ + 3))
        enter_probe_bw(now);
}

// --- min_rtt and ProbeRTT --------------------------------------------------------------------

// "ProbeRTT Logic": UpdateMinRTT. probe_rtt_min_delay is the min over the last 5 s, min_rtt
// over the last 10 s.
void Bbr::update_min_rtt(Time now) {
    probe_rtt_expired_ = now > probe_rtt_min_stamp_ + kProbeRttInterval;
    if (rs_.has_data &&
        (!probe_rtt_min_delay_ || rs_.rtt < *probe_rtt_min_delay_ || probe_rtt_expired_)) {
        probe_rtt_min_delay_ = rs_.rtt;
        probe_rtt_min_stamp_ = now;
    }
    const bool min_rtt_expired = now > min_rtt_stamp_ + kMinRttFilterLen;
    if (probe_rtt_min_delay_ &&
        (!min_rtt_ || *probe_rtt_min_delay_ < *min_rtt_ || min_rtt_expired)) {
        min_rtt_ = probe_rtt_min_delay_;
        min_rtt_stamp_ = probe_rtt_min_stamp_;
    }
}

void Bbr::check_probe_rtt(Time now) {
    if (state_ != State::kProbeRtt && probe_rtt_expired_ && !idle_restart_) {
        enter_probe_rtt();
        save_cwnd();
        probe_rtt_done_stamp_.reset();
        ack_phase_ = AckPhase::kProbeStopping;
        start_round();
    }
    if (state_ == State::kProbeRtt) handle_probe_rtt(now);
    if (rs_.delivered > 0) idle_restart_ = false;
}

void Bbr::enter_probe_rtt() {
    set_state(State::kProbeRtt);
}

void Bbr::handle_probe_rtt(Time now) {
    // Samples taken while inflight is held down say nothing about bandwidth.
    sampler_.mark_app_limited(bytes_in_flight_);
    if (!probe_rtt_done_stamp_ && bytes_in_flight_ <= probe_rtt_cwnd()) {
        // Hold for at least ProbeRTTDuration and one round trip.
        probe_rtt_done_stamp_ = now + kProbeRttDuration;
        probe_rtt_round_done_ = false;
        start_round();
    } else if (probe_rtt_done_stamp_) {
        if (round_start_) probe_rtt_round_done_ = true;
        if (probe_rtt_round_done_) check_probe_rtt_done(now);
    }
}

void Bbr::check_probe_rtt_done(Time now) {
    if (probe_rtt_done_stamp_ && now > *probe_rtt_done_stamp_) {
        probe_rtt_min_stamp_ = now;  // the next ProbeRTT is due ProbeRTTInterval from now
        restore_cwnd();
        exit_probe_rtt(now);
    }
}

// "Exiting ProbeRTT": inflight is below the BDP already, so ProbeBW goes on in CRUISE (with
// the probing clock restarted by DOWN); without a full pipe yet, back to Startup.
void Bbr::exit_probe_rtt(Time now) {
    reset_short_term_model();
    if (full_bw_reached_) {
        start_probe_bw_down(now);
        start_probe_bw_cruise();
    } else {
        enter_startup();
    }
}

// "Restarting From Idle": HandleRestartFromIdle, before an in-flight packet leaves.
void Bbr::handle_restart_from_idle(Time now) {
    if (bytes_in_flight_ != 0 || !sampler_.app_limited()) return;
    idle_restart_ = true;
    extra_acked_interval_start_ = now;
    if (is_in_a_probe_bw_state()) {
        set_pacing_rate_with_gain(1.0);
    } else if (state_ == State::kProbeRtt) {
        check_probe_rtt_done(now);
    }
}

// --- control parameters ----------------------------------------------------------------------

// "Pacing Rate": InitPacingRate.
void Bbr::init_pacing_rate(Duration smoothed_rtt) {
    const double nominal_bandwidth = static_cast<double>(initial_cwnd()) / seconds(smoothed_rtt);
    pacing_rate_ = kStartupPacingGain * nominal_bandwidth;
}

// "Pacing Rate": pace 1 % below bw; before the pipe is known to be full, only ever faster.
void Bbr::set_pacing_rate_with_gain(double gain) {
    const double rate = gain * bw_ * (100 - kPacingMarginPercent) / 100;
    if (full_bw_reached_ || rate > pacing_rate_) pacing_rate_ = rate;
}

// "Send Quantum".
void Bbr::set_send_quantum() {
    const double quantum = pacing_rate_ * seconds(kSendQuantumTime);
    send_quantum_ =
        std::max(std::min(static_cast<uint64_t>(quantum), kMaxSendQuantum), 2 * uint64_t{mds_});
}

// "cwnd Adjustment Mechanism": cut to max_inflight at once, grow towards it by at most what
// each ACK delivered.
void Bbr::set_cwnd() {
    update_max_inflight();
    if (full_bw_reached_) {
        cwnd_ = std::min(cwnd_ + rs_.newly_acked, max_inflight_);
    } else if (cwnd_ < max_inflight_ || sampler_.delivered() < initial_cwnd()) {
        cwnd_ += rs_.newly_acked;
    }
    cwnd_ = std::max(cwnd_, min_pipe_cwnd());
    bound_cwnd_for_probe_rtt();
    bound_cwnd_for_model();
}

// "Computing BBR.max_inflight".
void Bbr::update_max_inflight() {
    const uint64_t inflight_cap = bdp_multiple(bw_, cwnd_gain_) + extra_acked_;
    max_inflight_ = quantization_budget(inflight_cap);
}

uint64_t Bbr::bdp_multiple(double bw, double gain) const {
    if (!min_rtt_) return initial_cwnd();  // no valid RTT sample yet
    const double bdp = bw * seconds(*min_rtt_);
    return static_cast<uint64_t>(gain * bdp);
}

// "QUIC Offload Budget": the send quantum. "Minimum cwnd for Pipelining": MinPipeCwnd.
uint64_t Bbr::quantization_budget(uint64_t inflight_cap) const {
    const uint64_t offload_budget = send_quantum_;
    inflight_cap = std::max(inflight_cap, offload_budget);
    inflight_cap = std::max(inflight_cap, min_pipe_cwnd());
    if (state_ == State::kProbeBwUp) inflight_cap += 2 * uint64_t{mds_};
    return inflight_cap;
}

uint64_t Bbr::inflight(double bw, double gain) const {
    return quantization_budget(bdp_multiple(bw, gain));
}

// "Modulating cwnd in ProbeRTT".
uint64_t Bbr::probe_rtt_cwnd() const {
    return std::max(bdp_multiple(bw_, kProbeRttCwndGain), min_pipe_cwnd());
}

void Bbr::bound_cwnd_for_probe_rtt() {
    if (state_ == State::kProbeRtt) cwnd_ = std::min(cwnd_, probe_rtt_cwnd());
}

// "Bounding cwnd Based on Recent Congestion": the volume caps of the states.
void Bbr::bound_cwnd_for_model() {
    uint64_t cap = kInfiniteBytes;
    if (is_in_a_probe_bw_state() && state_ != State::kProbeBwCruise) {
        cap = inflight_longterm_;
    } else if (state_ == State::kProbeRtt || state_ == State::kProbeBwCruise) {
        cap = inflight_with_headroom();
    }
    cap = std::min(cap, inflight_shortterm_);
    cap = std::max(cap, min_pipe_cwnd());
    cwnd_ = std::min(cwnd_, cap);
}

// SaveCwnd: the last cwnd not modulated by loss recovery or ProbeRTT.
void Bbr::save_cwnd() {
    if (!in_loss_recovery_ && state_ != State::kProbeRtt) {
        prior_cwnd_ = cwnd_;
    } else {
        prior_cwnd_ = std::max(prior_cwnd_, cwnd_);
    }
}

void Bbr::restore_cwnd() {
    cwnd_ = std::max(cwnd_, prior_cwnd_);
}

}  // namespace quic
