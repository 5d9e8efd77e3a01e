// Delivery rate estimation (draft-ietf-ccwg-bbr, "Delivery Rate Samples"): from each ACK, the
// rate at which the network delivered the most recent flight of data, and whether that rate
// was limited by the application rather than by congestion control.
//
// The sender stamps every in-flight packet with the connection's delivery state when it is
// sent (DeliveryStamp, kept in the loss detector's sent-packet record, recovery/sent_packet.h)
// and compares it with the state when the packet is acknowledged:
//   ack_rate  = (C.delivered - P.delivered) / (C.delivered_time - P.delivered_time)
//   send_rate = (C.delivered - P.delivered) / (P.send_time - P.first_send_time)
//   delivery_rate = min(ack_rate, send_rate)  ("Delivery Rate": an ACK compressed by the path
//                                              cannot claim more than the flight's send rate)
// using the most recently sent of the packets an ACK newly acknowledges.
//
// Only in-flight packets take part: C.delivered "MUST NOT include pure ACK packets". Times are
// the sans-IO `now` of each event; a packet's send time is the time it was handed to the
// controller (the connection sends as soon as the pacer allows, so this is the pacing
// departure time of "RTT Samples").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "quic/time.h"

namespace quic {

// "Per-packet (P) state", taken when the packet is sent.
struct DeliveryStamp {
    uint64_t delivered = 0;     // P.delivered: C.delivered at send
    uint64_t lost = 0;          // P.lost: C.lost at send
    uint64_t tx_in_flight = 0;  // P.tx_in_flight: C.inflight after sending P, P included
    Time delivered_time{};      // P.delivered_time
    Time first_send_time{};     // P.first_send_time
    // P.packet_id: a per-connection send sequence, so packets of different packet number
    // spaces sent at the same instant (one coalesced datagram) still have an order.
    uint64_t send_sequence = 0;
    bool is_app_limited = false;  // P.is_app_limited
};

// "Rate Sample (rs) Output", for one ACK.
struct RateSample {
    double delivery_rate = 0;      // RS.delivery_rate, bytes per second; 0: no reliable sample
    bool is_app_limited = false;   // RS.is_app_limited
    Duration interval{};           // RS.interval = max(send_elapsed, ack_elapsed)
    uint64_t delivered = 0;        // RS.delivered over the interval
    uint64_t prior_delivered = 0;  // RS.prior_delivered: P.delivered of the newest acked packet
    Duration send_elapsed{}, ack_elapsed{};
    // RS.rtt: now minus the send time of the newest acked packet ("RTT Samples").
    Duration rtt{};
    uint64_t newly_acked = 0;  // RS.newly_acked: bytes this ACK newly acknowledged
    uint64_t newly_lost = 0;   // RS.newly_lost: bytes declared lost since the previous ACK
    // RS.tx_in_flight and RS.lost: P.tx_in_flight, and C.lost - P.lost, of the newest acked
    // packet (the loss rate over the round trip it took).
    uint64_t tx_in_flight = 0;
    uint64_t lost = 0;
    // The stamp of the newest acked packet (for a congestion signal that refers to this ACK).
    DeliveryStamp newest{};
    bool has_data = false;  // RS.has_data: at least one packet was newly acknowledged
};

class DeliveryRateSampler {
  public:
    // "Transmitting a data packet": an in-flight packet of `bytes` left at `now`;
    // inflight_before is C.inflight before it. Returns the stamp to keep with the packet.
    DeliveryStamp on_packet_sent(Time now, size_t bytes, uint64_t inflight_before);

    // "Upon receiving an ACK": begin_ack, then on_packet_acked for each newly acknowledged
    // in-flight packet (any order), then generate. min_rtt is the connection's minimum RTT
    // (RFC 9002 §5.2), nullopt before the first sample; an interval shorter than it gives no
    // rate (GenerateRateSample).
    void begin_ack();
    void on_packet_acked(Time now, size_t bytes, Time time_sent, const DeliveryStamp& stamp);
    RateSample generate(Time now, std::optional<Duration> min_rtt);

    // C.lost grows by the bytes of each packet declared lost.
    void on_packet_lost(size_t bytes);

    // "MarkConnectionAppLimited": the sender ran out of data with room in the window; samples
    // are application-limited until everything in flight now has been delivered.
    void mark_app_limited(uint64_t inflight);

    uint64_t delivered() const { return delivered_; }  // C.delivered
    uint64_t lost() const { return lost_; }            // C.lost
    bool app_limited() const { return app_limited_until_ != 0; }

  private:
    uint64_t delivered_ = 0;
    uint64_t lost_ = 0;
    Time delivered_time_{};
    Time first_send_time_{};
    // C.app_limited: the C.delivered value that ends the application-limited bubble; 0: none.
    uint64_t app_limited_until_ = 0;
    uint64_t next_send_sequence_ = 0;
    uint64_t newly_lost_ = 0;  // since the previous generate()
    RateSample rs_;
    Time newest_send_time_{};
};

}  // namespace quic
