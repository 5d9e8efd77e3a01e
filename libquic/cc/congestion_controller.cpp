#include "cc/congestion_controller.h"

#include <cstddef>

#include "cc/bbr.h"
#include "cc/cubic.h"
#include "cc/new_reno.h"

namespace quic {

CongestionController::~CongestionController() = default;

std::unique_ptr<CongestionController> make_congestion_controller(
    CongestionControlAlgorithm algorithm, size_t max_datagram_size, Random& random) {
    switch (algorithm) {
        case CongestionControlAlgorithm::kNewReno:
            return std::make_unique<NewReno>(max_datagram_size);
        case CongestionControlAlgorithm::kCubic:
            return std::make_unique<Cubic>(max_datagram_size);
        case CongestionControlAlgorithm::kBbr:
            return std::make_unique<Bbr>(max_datagram_size, random);
    }
    return std::make_unique<NewReno>(max_datagram_size);  // not reached: the switch is complete
}

namespace {

bool equals_ascii_lower(std::string_view s, std::string_view lower) {
    if (s.size() != lower.size()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower[i]) return false;
    }
    return true;
}

}  // namespace

std::optional<CongestionControlAlgorithm> parse_congestion_control(std::string_view name) {
    if (equals_ascii_lower(name, "newreno")) return CongestionControlAlgorithm::kNewReno;
    if (equals_ascii_lower(name, "cubic")) return CongestionControlAlgorithm::kCubic;
    if (equals_ascii_lower(name, "bbr")) return CongestionControlAlgorithm::kBbr;
    return std::nullopt;
}

const char* congestion_control_name(CongestionControlAlgorithm algorithm) {
    switch (algorithm) {
        case CongestionControlAlgorithm::kNewReno:
            return "newreno";
        case CongestionControlAlgorithm::kCubic:
            return "cubic";
        case CongestionControlAlgorithm::kBbr:
            return "bbr";
    }
    return "unknown";
}

}  // namespace quic
