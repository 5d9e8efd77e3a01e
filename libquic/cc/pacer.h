// Pacing (RFC 9002 §7.7): spreads the packets the congestion window allows over the RTT instead
// of sending them in one burst.
//
// A token bucket ("leaky bucket" in §7.7) filled at rate = N * congestion_window / smoothed_rtt
// bytes per second, holding at most the burst allowance (by default the initial congestion
// window, §7.7: "Senders SHOULD limit bursts to the initial congestion window"). A packet may
// leave when the bucket holds its size; sending takes its size out.
//
// No drift: the bucket's content is kept as a real number at a reference instant and refilled
// from the exact elapsed nanoseconds, so rounding never loses or gains credit from one packet
// to the next, and a late send keeps the credit built up meanwhile (up to the burst allowance).
// Deterministic: plain arithmetic on the given times, no clock, no randomness.
//
// Only in-flight packets are paced; §7.7: ACK-only packets "SHOULD therefore not be paced", so
// the connection neither asks nor reports them. PTO probes are not blocked either (§7.5); when
// the caller sends anyway, the bucket goes into debt and later packets wait for it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cc/congestion_controller.h"
#include "quic/time.h"

namespace quic {

struct PacerConfig {
    // N of §7.7: "small, but at least 1 (for example, 1.25)", so that variations in the RTT do
    // not leave the window underused.
    double gain = 1.25;
    // The bucket size in bytes; 0 means the initial congestion window for the current maximum
    // datagram size (§7.2, §7.7). Never less than one datagram.
    size_t max_burst_bytes = 0;
};

class Pacer {
  public:
    explicit Pacer(PacerConfig config = {});

    // New inputs from the congestion controller and the RTT estimator; call after every change
    // (each processed ACK, loss, PMTU change). Credit built up until `now` counts at the old
    // rate. A zero window or RTT turns pacing off until the next update.
    void update(Time now, uint64_t congestion_window, Duration smoothed_rtt,
                size_t max_datagram_size);

    // A rate chosen by the congestion controller itself (CongestionController::pacing(): BBR
    // paces at its own pacing rate, with its send quantum as the burst), instead of the §7.7
    // formula; config.gain does not apply. Credit built up until `now` counts at the old rate.
    void set_rate(Time now, double bytes_per_second, uint64_t burst_bytes);

    // The earliest time at or after `now` when a packet of `bytes` may be sent: `now` when it
    // may go at once. For unchanged state the answer is the same instant whatever `now` (up to
    // that instant), so it can arm a timer. A packet larger than the bucket needs a full bucket.
    Time next_send_time(Time now, size_t bytes) const;

    // An in-flight packet left at `now`.
    void on_packet_sent(Time now, size_t bytes);

    // 0 when not pacing.
    double rate_bytes_per_second() const { return rate_ * 1e9; }
    uint64_t burst_capacity() const { return static_cast<uint64_t>(capacity_); }
    // The credit in bytes at `now` (negative: debt).
    double tokens(Time now) const;

  private:
    PacerConfig config_;
    double rate_ = 0;  // bytes per nanosecond; 0: not pacing
    double capacity_;
    double tokens_;  // the bucket's content at last_
    Time last_{};
};

}  // namespace quic
