// The endpoint's timers: one deadline per connection slot in an indexed binary min-heap, so
// that finding the next deadline is O(1) and changing one is O(log n), whatever the number of
// connections (the endpoint no longer asks every connection on every timer).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "quic/time.h"

namespace quic {

class TimerHeap {
  public:
    // Sets (or, with nullopt, clears) the deadline of `id`. Ids are small integers (slot
    // indices); memory is proportional to the largest id seen since the last shrink().
    void set(uint32_t id, std::optional<Time> deadline);
    std::optional<Time> earliest() const;
    // Removes and returns the id with the earliest deadline if that deadline is <= now.
    std::optional<uint32_t> pop_due(Time now);
    std::optional<Time> deadline(uint32_t id) const;
    size_t size() const { return heap_.size(); }
    bool empty() const { return heap_.empty(); }
    // Gives back memory after many ids went away.
    void shrink();

  private:
    struct Entry {
        Time deadline;
        uint32_t id;
    };
    static constexpr uint32_t kAbsent = UINT32_MAX;
    void remove_at(size_t i);
    void place(size_t i, Entry e);
    size_t sift_up(size_t i);
    size_t sift_down(size_t i);

    std::vector<Entry> heap_;
    std::vector<uint32_t> position_;  // position_[id]: index in heap_, or kAbsent
};

}  // namespace quic
