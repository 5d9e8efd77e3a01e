// Datagram Packetization Layer PMTU Discovery (DPLPMTUD, RFC 8899, as RFC 9000 §14.3 applies
// it to QUIC): a sans-IO search for the largest UDP payload the path carries. The connection
// sends the probes it asks for (PING + PADDING, RFC 9000 §14.4) and reports what happened to
// them and to its other 1-RTT packets; this type decides the PLPMTU. Times come from the
// caller. Sizes are UDP payloads (a QUIC datagram's bytes).
//
// States (RFC 8899 §5.2): disabled until the handshake is confirmed; searching (one probe at a
// time, first at the ceiling, then a binary search between the confirmed size and the
// largest not yet refuted); search complete (searches again after kRaiseInterval);
// a black hole (§4.3) drops the PLPMTU back to BASE_PLPMTU and starts a new search.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "quic/time.h"

namespace quic {

class PmtuDiscovery {
  public:
    // RFC 9000 §14.1: QUIC's smallest allowed datagram, DPLPMTUD's BASE_PLPMTU and MIN_PLPMTU
    // (RFC 8899 §5.1.2): never less.
    static constexpr size_t kBase = 1200;
    // RFC 8899 §5.1.2 MAX_PROBES: a size is refuted after this many probes of it were lost
    // (one random loss must not stop the search).
    static constexpr unsigned kMaxProbes = 3;
    // The search stops once the gap between a confirmed size and a refuted one is below this:
    // the last few bytes are not worth three more probes each.
    static constexpr size_t kSearchGranularity = 16;
    // RFC 8899 §5.1.1 PMTU_RAISE_TIMER: how long after a search the path is probed again for a
    // larger PMTU.
    static constexpr Duration kRaiseInterval = std::chrono::seconds(600);
    // After the first lost probe of a size, the next probe waits this long. A router sends its
    // packet too big from its slow path, and it can trail the acknowledgments that declare the
    // probe lost (RFC 8899 §4.6.1: PTB messages may be delayed); probing again at once would
    // spend the probe budget before the PTB says what the path carries. Behind a router in
    // network namespaces, with both cores busy, the PTB arrived 0.9 ms after its probe, by
    // when two more probes of that size had been declared lost (integration: pmtud router).
    static constexpr Duration kProbeRetryDelay = std::chrono::milliseconds(3);
    // A black hole (RFC 8899 §4.3): this many consecutive losses of packets larger than
    // kBase, none of them followed by an acknowledged packet larger than kBase, while a
    // packet of at most kBase sent after the first of them was acknowledged. Fewer would
    // take an ordinary loss burst for a black hole.
    static constexpr unsigned kBlackHoleLosses = 4;

    // `ceiling`: MAX_PLPMTU, the largest size worth probing (the local limit; the peer's
    // max_udp_payload_size lowers it through lower_ceiling). Below kBase means disabled.
    explicit PmtuDiscovery(size_t ceiling);

    // The handshake is confirmed (RFC 9000 §14.3: probing needs 1-RTT keys and a peer that
    // acknowledges): the search starts.
    void start(Time now);
    bool enabled() const { return started_ && ceiling_ > kBase; }
    bool started() const { return started_; }
    // The peer's max_udp_payload_size, or a validated packet-too-big: nothing larger is tried.
    void lower_ceiling(size_t ceiling);

    // The PLPMTU: the largest datagram to send, kBase until a probe confirmed more.
    size_t current() const { return current_; }
    size_t ceiling() const { return ceiling_; }
    bool search_complete() const { return started_ && !searching_; }

    // The size of the probe to send now, if one is due (none while one is in flight); starts
    // a new search when the raise timer expired.
    std::optional<size_t> probe_due(Time now);
    void on_probe_sent(Time now, size_t size);
    // What became of a probe: acknowledged confirms its size, lost counts towards refuting
    // it. Return true when current() changed.
    bool on_probe_acked(Time now, size_t size);
    bool on_probe_lost(Time now, size_t size);

    // Every other 1-RTT packet, for black-hole detection. Return true when current() changed.
    bool on_packet_acked(uint64_t packet_number, size_t size);
    bool on_packet_lost(Time now, uint64_t packet_number, size_t size);

    // The path cannot carry datagrams larger than `max_payload` (an ICMP packet too big with
    // its MTU, or EMSGSIZE from the local stack): RFC 9000 §14.2.1 and RFC 8899 §4.6.1.
    // Ignored below kBase (§14.2.1: "MUST ignore" such claims; adversarial checklist 24) and
    // when it claims nothing smaller than what we send or probe. True when current() changed.
    bool on_packet_too_big(Time now, size_t max_payload);

    // When probe_due() will next say yes without other input (the raise timer, or the end of
    // the wait after a lost probe).
    std::optional<Time> next_timeout() const;

    // Black holes seen (for stats and tests).
    uint64_t black_holes() const { return black_holes_; }

  private:
    void begin_search(Time now, size_t high);
    void end_search(Time now);
    size_t next_probe_size() const;
    void on_size_refuted(size_t size);
    void reset_black_hole_detection();

    size_t ceiling_;
    size_t current_ = kBase;
    bool started_ = false;
    bool searching_ = false;
    // The search: `low_` works (current_), `high_` is the largest size not yet refuted.
    size_t low_ = kBase, high_ = kBase;
    bool tried_high_ = false;  // the first probe of a search goes straight to high_
    std::optional<size_t> in_flight_;
    size_t probing_size_ = 0;
    unsigned probes_lost_ = 0;  // of probing_size_
    std::optional<Time> search_again_at_;
    std::optional<Time> retry_at_;  // no probe before this (kProbeRetryDelay after a loss)

    // Black-hole detection.
    unsigned large_losses_ = 0;
    uint64_t first_large_lost_ = 0;
    std::optional<uint64_t> largest_large_acked_, largest_small_acked_;
    uint64_t black_holes_ = 0;
};

}  // namespace quic
