// The sent packets of one packet number space that are neither acknowledged nor lost (RFC 9002
// Appendix A.1 "sent_packets"), in packet number order, in a ring. Packets are appended in
// increasing packet number order and leave from anywhere (acked, lost, forgotten): a packet
// that leaves becomes a hole, and holes at the front are dropped. Unlike a map, it makes no
// allocation per packet and finds an ACK range's first packet by binary search over
// contiguous slots (issue 14: the map was a hotspot of the send path).
//
// Positions (Seq) are absolute and only count up: while packets leave, every position from
// the first one walked to end() keeps its packet number readable (until the next push_back),
// so that a caller can walk [lower_bound(pn), end()) and take packets as it goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "recovery/sent_packet.h"

namespace quic {

class SentPacketRing {
  public:
    using Seq = uint64_t;

    Seq begin() const { return head_; }
    Seq end() const { return tail_; }
    // Packets held (holes not counted).
    size_t size() const { return live_; }
    bool empty() const { return live_ == 0; }
    // Slots allocated (0 before the first packet and after release()).
    size_t capacity() const { return slots_.size(); }

    // A position in [begin(), end()) holds a packet unless it left.
    bool holds(Seq s) const { return s >= head_ && s < tail_ && slot(s).live; }
    // The packet number at s, a packet or a hole, s below end() and not below the first
    // position the caller walked from.
    uint64_t packet_number(Seq s) const { return slot(s).packet_number; }
    const SentPacket& at(Seq s) const { return slot(s).packet; }
    // The first position whose packet number is at least pn (a hole's counts), or end().
    Seq lower_bound(uint64_t pn) const;

    // Appends a packet whose number is above every packet number held.
    void push_back(SentPacket packet);
    // Removes the packet at s (holds(s) must be true) and returns it.
    SentPacket take(Seq s);
    // Removes every packet, in packet number order.
    std::vector<SentPacket> take_all();
    // Forgets every packet and frees the slots: a space that sends nothing more (a discarded
    // packet number space, RFC 9001 §4.9) should not hold a ring for the connection's life.
    void release();

  private:
    struct Slot {
        uint64_t packet_number = 0;
        bool live = false;
        SentPacket packet;
    };
    // A ring that grew past this many slots is released once it is empty (at the next
    // push_back): a transfer's window should not pin memory for the rest of a connection.
    static constexpr size_t kKeptSlots = 1024;
    // Small: most connections send a handful of packets per space, and every connection holds
    // its application space's ring (issue 14, memory per idle connection); a transfer's window
    // doubles it in a few steps.
    static constexpr size_t kInitialSlots = 4;

    Slot& slot(Seq s) { return slots_[s & (slots_.size() - 1)]; }
    const Slot& slot(Seq s) const { return slots_[s & (slots_.size() - 1)]; }
    void grow();
    void drop_front_holes();

    std::vector<Slot> slots_;  // size 0 or a power of two
    Seq head_ = 0, tail_ = 0;  // [head_, tail_) are in use; the front one is live
    size_t live_ = 0;
};

}  // namespace quic
