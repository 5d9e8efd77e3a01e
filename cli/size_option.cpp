#include "size_option.h"

#include <cctype>
#include <cstdio>

namespace quiver {
namespace {

struct Unit {
    const char* name;
    uint64_t factor;
};
constexpr Unit kUnits[] = {
    {"", 1},
    {"b", 1},
    {"k", 1000},
    {"kb", 1000},
    {"kib", uint64_t{1} << 10},
    {"m", 1000 * 1000},
    {"mb", 1000 * 1000},
    {"mib", uint64_t{1} << 20},
    {"g", 1000 * 1000 * 1000},
    {"gb", 1000 * 1000 * 1000},
    {"gib", uint64_t{1} << 30},
    {"t", uint64_t{1000} * 1000 * 1000 * 1000},
    {"tb", uint64_t{1000} * 1000 * 1000 * 1000},
    {"tib", uint64_t{1} << 40},
};

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text, bool allow_unlimited) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (allow_unlimited && (lower == "unlimited" || lower == "max")) return UINT64_MAX;
    size_t i = 0;
    uint64_t value = 0;
    while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i]))) {
        const uint64_t digit = static_cast<uint64_t>(lower[i] - '0');
        if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
        ++i;
    }
    if (i == 0) return std::nullopt;
    const std::string_view unit = std::string_view(lower).substr(i);
    for (const Unit& u : kUnits) {
        if (unit != u.name) continue;
        if (value > UINT64_MAX / u.factor) return std::nullopt;
        return value * u.factor;
    }
    return std::nullopt;
}

std::string format_bytes(uint64_t bytes) {
    char buf[32];
    if (bytes < 1000) {
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
        return buf;
    }
    const char* units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
    double v = double(bytes) / 1000.0;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < sizeof units / sizeof *units) {
        v /= 1000.0;
        ++u;
    }
    std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
    return buf;
}

}  // namespace quiver
