// The congestion controller interface (RFC 9002 §7) and its factory. One controller per path
// (§7: "The congestion controller is per path"). The connection drives it with the events of
// loss recovery (sent, acknowledged, lost, ECN-CE, discarded) and asks it how much may be in
// flight; the pacer (cc/pacer.h) spreads what the window allows over the RTT (§7.7).
//
// Sans-IO like the rest of the core: every event carries `Time now`, nothing reads a clock.
//
// Contract with the caller (loss recovery / the connection):
// - on_packet_sent is called for every packet; in_flight is true when the packet counts toward
//   bytes in flight (it has an ack-eliciting or PADDING frame; ACK-only packets do not, §7 and
//   Appendix B.2).
// - on_packets_acked, on_packets_lost and on_packets_discarded receive only packets that were
//   sent with in_flight == true (the recovery layer filters, as OnPacketAcked/OnPacketsLost do
//   in Appendix B.5 and B.8); each packet is reported at most once, by exactly one of them.
// - Application-limited periods (§7.8) are reported with on_app_limited; see there.
// - Persistent congestion (§7.6) is established by loss recovery, which knows the RTT
//   variables and the send times across packet number spaces; it passes the verdict in.
//
// Delivery-rate based controllers (BBR) need per-packet delivery state: on_packet_sent returns
// a DeliveryStamp, the connection keeps it in the sent-packet record (recovery/sent_packet.h)
// and hands it back in AckedPacketInfo / LostPacketInfo. Such controllers also choose the
// pacing rate themselves (pacing()); the others leave it to the pacer's RFC 9002 §7.7 formula.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "cc/delivery_rate_sampler.h"
#include "quic/time.h"

namespace quic {

enum class CongestionControlAlgorithm { kNewReno, kCubic, kBbr };

class Random;

// RFC 9002 Appendix B.2: "with a minimum value of 1200 bytes". Smaller values given to the
// controllers are raised to this (it also keeps every division by the datagram size safe).
inline constexpr size_t kMinMaxDatagramSize = 1200;

// §7.2: "ten times the maximum datagram size, while limiting the window to the larger of 14,720
// bytes or twice the maximum datagram size".
constexpr uint64_t initial_congestion_window(size_t max_datagram_size) {
    const uint64_t mds = max_datagram_size;
    const uint64_t cap = mds * 2 > 14720 ? mds * 2 : 14720;
    return mds * 10 < cap ? mds * 10 : cap;
}

// §7.2: the RECOMMENDED minimum congestion window is 2 * max_datagram_size.
constexpr uint64_t minimum_congestion_window(size_t max_datagram_size) {
    return uint64_t{max_datagram_size} * 2;
}

// Appendix B.3: ssthresh starts "infinite".
inline constexpr uint64_t kInfiniteSsthresh = std::numeric_limits<uint64_t>::max();

// The RTT variables of RFC 9002 §5 at the time an ACK is processed (filled by recovery/).
// has_sample is false until the first RTT sample; the durations are then meaningless.
struct RttSnapshot {
    Duration smoothed{};
    Duration min{};
    Duration latest{};
    bool has_sample = false;
};

// A newly acknowledged in-flight packet. bytes is its size as counted in bytes in flight (QUIC
// header and AEAD overhead included, no UDP/IP; Appendix B.2).
struct AckedPacketInfo {
    uint64_t packet_number;
    size_t bytes;
    Time time_sent;
    DeliveryStamp delivery{};  // what on_packet_sent returned for it
};

// An in-flight packet declared lost (§6.1).
struct LostPacketInfo {
    uint64_t packet_number;
    size_t bytes;
    Time time_sent;
    DeliveryStamp delivery{};  // what on_packet_sent returned for it
};

// The rate a controller wants packets paced at, and the burst it allows after a pause
// (draft-ietf-ccwg-bbr, "Pacing Rate" and "Send Quantum").
struct PacingParameters {
    double bytes_per_second = 0;
    uint64_t burst_bytes = 0;
};

class CongestionController {
  public:
    virtual ~CongestionController();

    // A packet left. Only in_flight packets are added to bytes in flight (Appendix B.4). An
    // in-flight send also ends an application-limited period (see on_app_limited). Returns the
    // delivery state to keep with the packet and pass back when it is acked or lost (default
    // for controllers that do not sample delivery rate, and for packets not in flight).
    virtual DeliveryStamp on_packet_sent(Time now, size_t bytes, bool in_flight) = 0;

    // Newly acknowledged packets of one ACK frame (Appendix B.5), with the RTT estimate after
    // that ACK's sample was taken.
    virtual void on_packets_acked(std::span<const AckedPacketInfo> acked, Time now,
                                  const RttSnapshot& rtt) = 0;

    // Packets declared lost by one run of loss detection (Appendix B.8). persistent_congestion:
    // loss recovery established persistent congestion from these losses (§7.6.2).
    virtual void on_packets_lost(std::span<const LostPacketInfo> lost, Time now,
                                 bool persistent_congestion) = 0;

    // The peer-reported ECN-CE count increased (§7.1, Appendix B.7). The recovery period is
    // keyed on the send time of the largest packet that ACK acknowledged.
    virtual void on_ecn_congestion(Time sent_time_of_largest_acked, Time now) = 0;

    // Initial or Handshake keys were discarded: their unacknowledged in-flight packets no longer
    // count (§6.4, Appendix B.9). bytes is their total size. Also the way to drop a lost packet
    // whose loss is no congestion signal (a DPLPMTUD probe, RFC 9000 §14.4).
    virtual void on_packets_discarded(size_t bytes) = 0;

    // §7.8: "When bytes in flight is smaller than the congestion window and sending is not
    // pacing limited, the congestion window is underutilized ... the congestion window SHOULD
    // NOT be increased". Only the connection knows why it stopped sending, so it says so: call
    // this when it stops because it has nothing (or no flow-control credit) to send while the
    // congestion window and the pacer would have allowed more. Do not call it when the pacer
    // or the window stopped it (§7.8: pacing delay is not application-limited).
    //
    // The period lasts until the next in-flight on_packet_sent, so the connection needs one
    // call site (the end of a transmit round that ran out of data). ACKs processed during the
    // period do not grow the window. A call while the window has no room left for a full-size
    // datagram is ignored: the window is being used.
    virtual void on_app_limited(Time now) = 0;

    // The path's maximum datagram size changed (PMTUD, §7.2; RFC 9000 §14).
    virtual void set_max_datagram_size(size_t max_datagram_size) = 0;

    virtual uint64_t congestion_window() const = 0;
    virtual uint64_t bytes_in_flight() const = 0;
    virtual uint64_t ssthresh() const { return kInfiniteSsthresh; }
    virtual bool in_slow_start() const { return false; }
    // Appendix B.5 InCongestionRecovery: a packet sent at or before the start of the current
    // recovery period belongs to the congestion event that started it.
    virtual bool in_recovery(Time /*sent_time*/) const { return false; }

    // The pacing the controller asks for; nullopt: pace at N * cwnd / smoothed_rtt (RFC 9002
    // §7.7, cc/pacer.h). Changes after every event above.
    virtual std::optional<PacingParameters> pacing() const { return std::nullopt; }

    // "newreno", "cubic", "bbr": the algorithm's name, as parse_congestion_control accepts it.
    virtual const char* name() const = 0;
    // The qlog congestion state ("slow_start", "congestion_avoidance", "application_limited",
    // "recovery"; draft-ietf-quic-qlog-quic-events, congestion_state_updated; BBR names its
    // own states, "startup", "probe_bw_up", ...).
    virtual const char* state_name() const = 0;

    // How many more bytes may be put in flight now (0 when full or over, e.g. after probes).
    uint64_t available_window() const {
        const uint64_t cwnd = congestion_window(), in_flight = bytes_in_flight();
        return in_flight < cwnd ? cwnd - in_flight : 0;
    }
    // §7: a packet "MUST NOT" be sent if it would take bytes in flight above the window. PTO
    // probes (§7.5) bypass this check; the connection decides that, not the controller.
    bool can_send(size_t bytes) const { return bytes <= available_window(); }
};

// random must outlive the controller (BBR randomizes when it probes for bandwidth).
std::unique_ptr<CongestionController> make_congestion_controller(
    CongestionControlAlgorithm algorithm, size_t max_datagram_size, Random& random);

// For the CLI: "newreno", "cubic" or "bbr" (ASCII case-insensitive); nullopt otherwise.
std::optional<CongestionControlAlgorithm> parse_congestion_control(std::string_view name);

// The inverse of parse_congestion_control.
const char* congestion_control_name(CongestionControlAlgorithm algorithm);

}  // namespace quic
