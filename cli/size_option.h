// Sizes on the command line: "1500", "64K" (10^3), "64KiB" (2^10), "10M", "10MiB", "1G",
// "1GiB" (a trailing B is optional: "10MB"), and for the perf command "unlimited".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quiver {

// nullopt when the text is not a size (or overflows 64 bits). "unlimited" (or "max") gives
// UINT64_MAX when `allow_unlimited`.
std::optional<uint64_t> parse_size(std::string_view text, bool allow_unlimited = false);

// "1.50 MB", "512 B": decimal units, for reports.
std::string format_bytes(uint64_t bytes);

}  // namespace quiver
