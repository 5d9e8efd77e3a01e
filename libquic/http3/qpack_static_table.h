// The QPACK static table, RFC 9204 §3.1 and Appendix A: 99 entries indexed from 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace quic::h3 {

struct StaticEntry {
    std::string_view name;
    std::string_view value;
};

inline constexpr size_t kStaticTableSize = 99;

// All entries, in index order.
std::span<const StaticEntry, kStaticTableSize> static_table();

// The best static match of a field line: the index of an entry with the same name and value,
// if any, and of an entry with the same name (the lowest index, for the shortest encoding).
struct StaticMatch {
    std::optional<uint64_t> exact;
    std::optional<uint64_t> name;
};
StaticMatch find_static(std::string_view name, std::string_view value);

}  // namespace quic::h3
