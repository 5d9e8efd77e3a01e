#include "recovery/sent_packet_ring.h"

#include <cassert>
#include <utility>

namespace quic {

SentPacketRing::Seq SentPacketRing::lower_bound(uint64_t pn) const {
    Seq lo = head_, hi = tail_;
    while (lo < hi) {
        const Seq mid = lo + (hi - lo) / 2;
        if (slot(mid).packet_number < pn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void SentPacketRing::push_back(SentPacket packet) {
    assert((head_ == tail_ || packet.packet_number > slot(tail_ - 1).packet_number) &&
           "packet numbers must increase");
    // Released here, not when the last packet leaves: a caller may still be walking the
    // positions it left (their packet numbers stay readable until the next push_back).
    if (head_ == tail_ && slots_.size() > kKeptSlots) slots_.clear(), slots_.shrink_to_fit();
    if (tail_ - head_ == slots_.size()) grow();
    Slot& s = slot(tail_++);
    s.packet_number = packet.packet_number;
    s.live = true;
    s.packet = std::move(packet);
    ++live_;
}

SentPacket SentPacketRing::take(Seq s) {
    assert(holds(s));
    Slot& sl = slot(s);
    sl.live = false;
    SentPacket p = std::move(sl.packet);
    sl.packet.frames.clear();
    --live_;
    drop_front_holes();
    return p;
}

std::vector<SentPacket> SentPacketRing::take_all() {
    std::vector<SentPacket> out;
    out.reserve(live_);
    for (Seq s = head_; s < tail_; ++s)
        if (holds(s)) out.push_back(take(s));
    return out;
}

void SentPacketRing::release() {
    slots_.clear();
    slots_.shrink_to_fit();
    head_ = tail_;
    live_ = 0;
}

// Doubles the ring. A position keeps its Seq: it moves to Seq mod the new size.
void SentPacketRing::grow() {
    std::vector<Slot> bigger(slots_.empty() ? kInitialSlots : slots_.size() * 2);
    for (Seq s = head_; s < tail_; ++s) bigger[s & (bigger.size() - 1)] = std::move(slot(s));
    slots_ = std::move(bigger);
}

void SentPacketRing::drop_front_holes() {
    while (head_ < tail_ && !slot(head_).live) ++head_;
}

}  // namespace quic
