// BBR's ProbeBW state machine and its response to loss (draft-ietf-ccwg-bbr, "ProbeBW",
// "ProbeBW Algorithm Details" and "Updating the Model Upon Packet Loss").
#include <algorithm>
#include <cmath>

#include "cc/bbr.h"

namespace quic {

namespace {

uint64_t scale(uint64_t bytes, double factor) {
    return static_cast<uint64_t>(static_cast<double>(bytes) * factor);
}

}  // namespace

// --- entering the ProbeBW states -------------------------------------------------------------

void Bbr::enter_probe_bw(Time now) {
    cwnd_gain_ = kDefaultCwndGain;
    start_probe_bw_down(now);
}

void Bbr::start_probe_bw_down(Time now) {
    reset_congestion_signals();
    probe_up_acked_per_inc_ = kInfiniteBytes;  // not growing inflight_longterm
    pick_probe_wait();
    cycle_stamp_ = now;  // the wall clock of this cycle
    ack_phase_ = AckPhase::kProbeStopping;
    start_round();
    set_state(State::kProbeBwDown);
}

void Bbr::start_probe_bw_cruise() {
    set_state(State::kProbeBwCruise);
}

// REFILL drops the short-term model, which holds the losses cross traffic caused, and sends
// at bw for a round so that the pipe is full before UP pushes.
void Bbr::start_probe_bw_refill() {
    reset_short_term_model();
    bw_probe_up_rounds_ = 0;
    bw_probe_up_acked_ = 0;
    prev_probe_precautionary_ = false;
    ack_phase_ = AckPhase::kRefilling;
    start_round();
    set_state(State::kProbeBwRefill);
}

void Bbr::start_probe_bw_up() {
    ack_phase_ = AckPhase::kProbeStarting;
    start_round();
    reset_full_bw();
    full_bw_ = rs_.delivery_rate;
    set_state(State::kProbeBwUp);
    raise_inflight_longterm_slope();
}

// --- the cycle -------------------------------------------------------------------------------

// UpdateProbeBWCyclePhase, on each ACK.
void Bbr::update_probe_bw_cycle_phase(Time now) {
    if (!full_bw_reached_) return;  // only steady-state behavior here
    if (adapt_long_term_model()) return;
    if (!is_in_a_probe_bw_state()) return;
    switch (state_) {
        case State::kProbeBwDown:
            if (is_time_to_probe_bw(now)) return;
            if (is_time_to_cruise()) start_probe_bw_cruise();
            break;
        case State::kProbeBwCruise:
            (void)is_time_to_probe_bw(now);
            break;
        case State::kProbeBwRefill:
            // After one round of REFILL, start UP.
            if (round_start_) {
                is_bw_probe_sample_ = true;
                start_probe_bw_up();
            }
            break;
        case State::kProbeBwUp:
            if (is_time_to_go_down()) {
                prev_probe_too_high_ = false;  // no high loss (yet)
                start_probe_bw_down(now);
            }
            break;
        default:
            break;
    }
}

bool Bbr::is_in_a_probe_bw_state() const {
    return state_ == State::kProbeBwDown || state_ == State::kProbeBwCruise ||
           state_ == State::kProbeBwRefill || state_ == State::kProbeBwUp;
}

bool Bbr::is_probing_bw() const {
    return state_ == State::kStartup || state_ == State::kProbeBwRefill ||
           state_ == State::kProbeBwUp;
}

// "Time Scale for Bandwidth Probing": IsTimeToProbeBW, from DOWN or CRUISE to REFILL after
// 2-3 s, or sooner after as many rounds as a Reno flow would need to fill the BDP.
bool Bbr::is_time_to_probe_bw(Time now) {
    if (now > cycle_stamp_ + bw_probe_wait_ || is_reno_coexistence_probe_time()) {
        start_probe_bw_refill();
        return true;
    }
    return false;
}

void Bbr::pick_probe_wait() {
    // A random round-trip bound (62 or 63 rounds) and a random wall-clock one (2 to 3 s).
    rounds_since_probe_up_ = random_.uniform(2);
    bw_probe_wait_ = kBwProbeBaseWait +
                     Duration(static_cast<Duration::rep>(
                         random_.uniform(static_cast<uint64_t>(kBwProbeRandomWait.count()) + 1)));
}

// The draft's TargetInflight is in bytes; a Reno flow grows one packet per round, so its
// rounds are counted in packets.
bool Bbr::is_reno_coexistence_probe_time() const {
    const uint64_t reno_rounds = target_inflight() / mds_;
    const uint64_t rounds = std::min(reno_rounds, kRenoCoexistenceMaxRounds);
    return rounds_since_probe_up_ >= rounds;
}

// How much to keep in flight: the BDP, unless congestion cut the cwnd.
uint64_t Bbr::target_inflight() const {
    return std::min(bdp_multiple(bw_, 1.0), cwnd_);
}

// From DOWN to CRUISE once inflight leaves headroom below inflight_longterm and the queue is
// drained (inflight at most the BDP of max_bw).
bool Bbr::is_time_to_cruise() const {
    if (bytes_in_flight_ > inflight_with_headroom()) return false;
    if (bytes_in_flight_ > inflight(max_bw_, 1.0)) return false;
    return true;
}

// From UP to DOWN: the bandwidth plateaued, or (precautionary probing, after a probe that
// went too high) inflight reached the level that caused the loss.
bool Bbr::is_time_to_go_down() {
    if (prev_probe_too_high_ && bytes_in_flight_ >= inflight_longterm_) {
        prev_probe_precautionary_ = true;
        return true;
    }
    if (is_cwnd_limited() && cwnd_ >= inflight_longterm_) {
        // bw is limited by inflight_longterm, not the path: keep probing.
        reset_full_bw();
        full_bw_ = rs_.delivery_rate;
    } else if (full_bw_now_) {
        return true;  // the path's bandwidth is in use
    }
    return false;
}

// Free headroom for other flows below inflight_longterm (BBR.Headroom = 15 %).
uint64_t Bbr::inflight_with_headroom() const {
    if (inflight_longterm_ == kInfiniteBytes) return kInfiniteBytes;
    const uint64_t headroom = std::max<uint64_t>(mds_, scale(inflight_longterm_, kHeadroom));
    const uint64_t below = inflight_longterm_ > headroom ? inflight_longterm_ - headroom : 0;
    return std::max(below, min_pipe_cwnd());
}

// inflight_longterm grows by 1, 2, 4, ... segments per round while UP uses all of it.
void Bbr::raise_inflight_longterm_slope() {
    const uint64_t growth_this_round = uint64_t{1} << bw_probe_up_rounds_;
    bw_probe_up_rounds_ = std::min(bw_probe_up_rounds_ + 1, kMaxProbeUpRounds);
    probe_up_acked_per_inc_ = std::max<uint64_t>(cwnd_ / growth_this_round, mds_);
}

void Bbr::probe_inflight_longterm_upward() {
    if (!is_cwnd_limited() || cwnd_ < inflight_longterm_) return;  // not using it all
    bw_probe_up_acked_ += rs_.newly_acked;
    if (bw_probe_up_acked_ >= probe_up_acked_per_inc_) {
        const uint64_t delta = bw_probe_up_acked_ / probe_up_acked_per_inc_;
        bw_probe_up_acked_ -= delta * probe_up_acked_per_inc_;
        inflight_longterm_ += delta * mds_;
    }
    if (round_start_) raise_inflight_longterm_slope();
}

// AdaptLongTermModel: track what the ACKs say about the last probe, advance the max_bw window
// once per cycle, and raise inflight_longterm while the loss rate is safe. True when it
// decided a state transition.
bool Bbr::adapt_long_term_model() {
    if (ack_phase_ == AckPhase::kProbeStarting && round_start_) {
        ack_phase_ = AckPhase::kProbeFeedback;  // starting to get bw probing samples
    }
    if (ack_phase_ == AckPhase::kProbeStopping && round_start_) {
        // The end of the samples from the bw probing phase.
        is_bw_probe_sample_ = false;
        ack_phase_ = AckPhase::kInit;
        // "Tracking Time for the BBR.max_bw Max Filter": AdvanceMaxBwFilter.
        if (is_in_a_probe_bw_state() && !rs_.is_app_limited) ++cycle_count_;
        // Precautionary bandwidth probing, acceleration: the careful probe caused no excess
        // loss, so probe again right away and hold inflight_longterm this time.
        if (is_in_a_probe_bw_state() && prev_probe_precautionary_ && !prev_probe_too_high_) {
            start_probe_bw_refill();
            return true;
        }
    }
    if (!is_inflight_too_high(rs_.lost, rs_.tx_in_flight)) {
        if (inflight_longterm_ == kInfiniteBytes) return false;  // no upper bound to raise
        if (rs_.tx_in_flight > inflight_longterm_) inflight_longterm_ = rs_.tx_in_flight;
        if (state_ == State::kProbeBwUp) probe_inflight_longterm_upward();
    }
    return false;
}

// --- loss ------------------------------------------------------------------------------------

// "Probing for Bandwidth In ProbeBW": HandleLostPacket. A loss while probing that puts the
// loss rate since the packet was sent above LossThresh sets inflight_longterm to where the
// threshold was crossed.
void Bbr::handle_lost_packet(const LostPacketInfo& p, Time now) {
    note_loss();
    if (!is_bw_probe_sample_) return;                 // not a packet sent while probing bandwidth
    uint64_t tx_in_flight = p.delivery.tx_in_flight;  // C.inflight at transmit
    // Lost since transmit, P included (0 for a stamp of an earlier controller).
    const uint64_t lost = sampler_.lost() > p.delivery.lost ? sampler_.lost() - p.delivery.lost : 0;
    if (!is_inflight_too_high(lost, tx_in_flight)) return;
    // InflightAtLoss: the prefix of P at which lost / inflight reached LossThresh. P may be
    // counted lost for only a part of it: a negative prefix (the threshold was crossed before
    // P) is taken as 0.
    const double size = static_cast<double>(p.bytes);
    const double inflight_prev = std::max(static_cast<double>(tx_in_flight) - size, 0.0);
    const double lost_prev = std::max(static_cast<double>(lost) - size, 0.0);
    const double lost_prefix =
        std::max((kLossThresh * inflight_prev - lost_prev) / (1 - kLossThresh), 0.0);
    tx_in_flight = static_cast<uint64_t>(inflight_prev + lost_prefix);
    handle_inflight_too_high(p.delivery.is_app_limited, tx_in_flight, now);
}

// IsInflightTooHigh (QUIC always has selective acknowledgments).
bool Bbr::is_inflight_too_high(uint64_t lost, uint64_t tx_in_flight) const {
    return static_cast<double>(lost) > static_cast<double>(tx_in_flight) * kLossThresh;
}

void Bbr::handle_inflight_too_high(bool is_app_limited, uint64_t tx_in_flight, Time now) {
    prev_probe_too_high_ = true;
    is_bw_probe_sample_ = false;  // only react once per bw probe
    // Not below what CUBIC would keep (Beta = 0.7).
    if (!is_app_limited)
        inflight_longterm_ = std::max(tx_in_flight, scale(target_inflight(), kBeta));
    if (state_ == State::kProbeBwUp) start_probe_bw_down(now);
}

// NoteLoss: the first loss of a round starts a loss round and saves the state to restore.
void Bbr::note_loss() {
    if (!is_loss_in_round_) {
        loss_round_delivered_ = sampler_.delivered();
        save_cwnd();  // SaveStateUponLoss (without the undo state, see bbr.h)
    }
    is_loss_in_round_ = true;
}

// "When not Probing for Bandwidth": bw_latest and inflight_latest are 1-round maxima of the
// delivery rate and volume.
void Bbr::update_latest_delivery_signals() {
    loss_round_start_ = false;
    bw_latest_ = std::max(bw_latest_, rs_.delivery_rate);
    inflight_latest_ = std::max(inflight_latest_, rs_.delivered);
    if (rs_.prior_delivered >= loss_round_delivered_) {
        loss_round_delivered_ = sampler_.delivered();
        loss_round_start_ = true;
    }
}

void Bbr::advance_latest_delivery_signals() {
    if (loss_round_start_) {
        bw_latest_ = rs_.delivery_rate;
        inflight_latest_ = rs_.delivered;
    }
}

void Bbr::reset_congestion_signals() {
    is_loss_in_round_ = false;
    bw_latest_ = 0;
    inflight_latest_ = 0;
}

void Bbr::update_congestion_signals() {
    update_max_bw();
    if (!loss_round_start_) return;  // wait until the end of the round trip
    adapt_lower_bounds_from_congestion();
    is_loss_in_round_ = false;
}

// Once per round with loss, outside probing: bw_shortterm and inflight_shortterm move
// towards the latest delivery process, by at most Beta per round.
void Bbr::adapt_lower_bounds_from_congestion() {
    if (is_probing_bw()) return;
    if (!is_loss_in_round_) return;
    // InitLowerBounds: the first congestion episode of this cycle.
    if (std::isinf(bw_shortterm_)) bw_shortterm_ = max_bw_;
    if (inflight_shortterm_ == kInfiniteBytes) inflight_shortterm_ = cwnd_;
    // LossLowerBounds.
    bw_shortterm_ = std::max(bw_latest_, kBeta * bw_shortterm_);
    inflight_shortterm_ = std::max(inflight_latest_, scale(inflight_shortterm_, kBeta));
}

void Bbr::reset_short_term_model() {
    bw_shortterm_ = std::numeric_limits<double>::infinity();
    inflight_shortterm_ = kInfiniteBytes;
}

void Bbr::bound_bw_for_model() {
    bw_ = std::min(max_bw_, bw_shortterm_);
}

}  // namespace quic
