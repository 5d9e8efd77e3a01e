// The QPACK dynamic table (RFC 9204 §3.2): a FIFO of field lines with a byte capacity, where
// each entry keeps the absolute index it was inserted at (§3.2.4). The encoder and decoder
// each hold one and keep them in step through the encoder stream; the rules about which
// entries may be evicted (§2.1.1) are the encoder's, on top of this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace quic::h3 {

// §3.2.1: an entry's size is its name and value lengths (not Huffman-encoded) plus 32.
inline constexpr uint64_t kEntryOverhead = 32;

constexpr uint64_t entry_size(uint64_t name_length, uint64_t value_length) {
    return name_length + value_length + kEntryOverhead;
}

class QpackDynamicTable {
  public:
    struct Entry {
        std::string name;
        std::string value;
        uint64_t size() const { return entry_size(name.size(), value.size()); }
    };

    uint64_t capacity() const { return capacity_; }
    uint64_t size() const { return size_; }
    // Total insertions so far: the absolute index the next entry gets (§3.2.4).
    uint64_t insert_count() const { return dropped_ + entries_.size(); }
    // The absolute index of the oldest entry still in the table (= entries evicted so far).
    uint64_t first_index() const { return dropped_; }
    size_t entry_count() const { return entries_.size(); }

    // The entry at an absolute index, or nullptr when it was evicted or not inserted yet.
    const Entry* at(uint64_t absolute_index) const;

    // §3.2.2: shrinking evicts the oldest entries until the size fits. The caller checks the
    // limit of §3.2.3 and, on the encoder side, that the evicted entries are evictable.
    void set_capacity(uint64_t capacity);

    // How many of the oldest entries must be evicted for an entry of entry_size to fit
    // (§3.2.2), or nullopt when it is larger than the capacity.
    std::optional<size_t> evictions_needed(uint64_t entry_size) const;

    // Evicts as §3.2.2 says, then appends. Takes the strings by value, so a name or value
    // copied from an entry that this insertion evicts stays valid (the caution of §3.2.2).
    // Precondition: the entry fits the capacity. Returns the new entry's absolute index.
    uint64_t insert(std::string name, std::string value);

    // The newest entry at or above min_index with this name and value / this name. A linear
    // scan: a table of a few KiB holds some tens of entries.
    std::optional<uint64_t> find(std::string_view name, std::string_view value,
                                 uint64_t min_index = 0) const;
    std::optional<uint64_t> find_name(std::string_view name, uint64_t min_index = 0) const;

  private:
    void evict_oldest();

    std::deque<Entry> entries_;  // oldest first
    uint64_t dropped_ = 0;
    uint64_t size_ = 0;
    uint64_t capacity_ = 0;
};

}  // namespace quic::h3
