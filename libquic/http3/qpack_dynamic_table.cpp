#include "http3/qpack_dynamic_table.h"

#include <cassert>

namespace quic::h3 {

const QpackDynamicTable::Entry* QpackDynamicTable::at(uint64_t absolute_index) const {
    if (absolute_index < dropped_ || absolute_index >= insert_count()) return nullptr;
    return &entries_[static_cast<size_t>(absolute_index - dropped_)];
}

void QpackDynamicTable::set_capacity(uint64_t capacity) {
    capacity_ = capacity;
    while (size_ > capacity_) evict_oldest();
}

std::optional<size_t> QpackDynamicTable::evictions_needed(uint64_t new_entry_size) const {
    if (new_entry_size > capacity_) return std::nullopt;
    uint64_t size = size_;
    size_t n = 0;
    while (size > capacity_ - new_entry_size) size -= entries_[n++].size();
    return n;
}

uint64_t QpackDynamicTable::insert(std::string name, std::string value) {
    const uint64_t new_size = entry_size(name.size(), value.size());
    assert(new_size <= capacity_);
    while (size_ > capacity_ - new_size) evict_oldest();
    entries_.push_back(Entry{std::move(name), std::move(value)});
    size_ += new_size;
    return insert_count() - 1;
}

std::optional<uint64_t> QpackDynamicTable::find(std::string_view name, std::string_view value,
                                                uint64_t min_index) const {
    for (uint64_t i = insert_count(); i > dropped_ && i > min_index; --i) {
        const Entry& e = entries_[static_cast<size_t>(i - 1 - dropped_)];
        if (e.name == name && e.value == value) return i - 1;
    }
    return std::nullopt;
}

std::optional<uint64_t> QpackDynamicTable::find_name(std::string_view name,
                                                     uint64_t min_index) const {
    for (uint64_t i = insert_count(); i > dropped_ && i > min_index; --i) {
        if (entries_[static_cast<size_t>(i - 1 - dropped_)].name == name) return i - 1;
    }
    return std::nullopt;
}

void QpackDynamicTable::evict_oldest() {
    size_ -= entries_.front().size();
    entries_.pop_front();
    ++dropped_;
}

}  // namespace quic::h3
