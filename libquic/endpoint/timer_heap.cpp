#include "endpoint/timer_heap.h"

#include <utility>

namespace quic {

std::optional<Time> TimerHeap::earliest() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front().deadline;
}

std::optional<Time> TimerHeap::deadline(uint32_t id) const {
    if (id >= position_.size() || position_[id] == kAbsent) return std::nullopt;
    return heap_[position_[id]].deadline;
}

void TimerHeap::place(size_t i, Entry e) {
    heap_[i] = e;
    position_[e.id] = static_cast<uint32_t>(i);
}

size_t TimerHeap::sift_up(size_t i) {
    Entry e = heap_[i];
    while (i > 0) {
        const size_t parent = (i - 1) / 2;
        if (!(e.deadline < heap_[parent].deadline)) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, e);
    return i;
}

size_t TimerHeap::sift_down(size_t i) {
    Entry e = heap_[i];
    const size_t n = heap_.size();
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && heap_[child + 1].deadline < heap_[child].deadline) ++child;
        if (!(heap_[child].deadline < e.deadline)) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, e);
    return i;
}

void TimerHeap::remove_at(size_t i) {
    position_[heap_[i].id] = kAbsent;
    const Entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    place(i, last);
    if (sift_up(i) == i) sift_down(i);
}

void TimerHeap::set(uint32_t id, std::optional<Time> deadline) {
    if (id >= position_.size()) {
        if (!deadline) return;
        position_.resize(static_cast<size_t>(id) + 1, kAbsent);
    }
    const uint32_t at = position_[id];
    if (!deadline) {
        if (at != kAbsent) remove_at(at);
        return;
    }
    if (at == kAbsent) {
        heap_.push_back(Entry{*deadline, id});
        position_[id] = static_cast<uint32_t>(heap_.size() - 1);
        sift_up(heap_.size() - 1);
        return;
    }
    heap_[at].deadline = *deadline;
    if (sift_up(at) == at) sift_down(at);
}

std::optional<uint32_t> TimerHeap::pop_due(Time now) {
    if (heap_.empty() || now < heap_.front().deadline) return std::nullopt;
    const uint32_t id = heap_.front().id;
    remove_at(0);
    return id;
}

void TimerHeap::shrink() {
    size_t used = 0;
    for (size_t id = 0; id < position_.size(); ++id)
        if (position_[id] != kAbsent) used = id + 1;
    position_.resize(used);
    position_.shrink_to_fit();
    heap_.shrink_to_fit();
}

}  // namespace quic
