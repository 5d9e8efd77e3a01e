#include "stream/flow_control.h"

#include <algorithm>
#include <string>

#include "stream/limits.h"

namespace quic {

ReceiveFlowController::ReceiveFlowController(uint64_t initial_window, uint64_t max_window)
    : window_(std::min(initial_window, kMaxStreamOffset)),
      max_window_(std::min(std::max(max_window, initial_window), kMaxStreamOffset)),
      limit_(window_) {}

Status ReceiveFlowController::check_data_received(uint64_t highest_offset) const {
    // §4.1: "A receiver MUST close the connection with an error of type FLOW_CONTROL_ERROR
    // if the sender violates the advertised connection or stream data limits".
    if (highest_offset > limit_)
        return Error::transport(TransportErrorCode::kFlowControlError,
                                "data past the flow control limit " + std::to_string(limit_));
    return {};
}

Status ReceiveFlowController::on_data_received(uint64_t highest_offset) {
    QUIC_TRY(check_data_received(highest_offset));
    highest_received_ = std::max(highest_received_, highest_offset);
    return {};
}

void ReceiveFlowController::on_data_consumed(uint64_t bytes, Time now, Duration smoothed_rtt) {
    consumed_ += bytes;
    // Remaining credit below half the window: advertise more (§4.2: early enough that the
    // sender is not blocked, rarely enough that updates are not pure overhead).
    if (limit_ - std::min(limit_, consumed_) >= window_ / 2) return;
    if (last_update_ && smoothed_rtt > Duration::zero() && now - *last_update_ < 2 * smoothed_rtt)
        window_ = std::min(window_ * 2, max_window_);
    last_update_ = now;
    uint64_t new_limit = std::min(consumed_ + window_, kMaxStreamOffset);
    if (new_limit > limit_) {
        limit_ = new_limit;
        update_pending_ = true;
    }
}

std::optional<uint64_t> ReceiveFlowController::should_send_update() {
    if (!update_pending_) return std::nullopt;
    update_pending_ = false;
    return limit_;
}

void ReceiveFlowController::ensure_window_at_least(uint64_t window) {
    window_ = std::max(window_, std::min(window, max_window_));
}

bool SendFlowController::on_max_data(uint64_t new_limit) {
    if (new_limit <= limit_) return false;
    limit_ = new_limit;
    return true;
}

std::optional<uint64_t> SendFlowController::blocked_at() const {
    if (used_ < limit_) return std::nullopt;
    return limit_;
}

std::optional<uint64_t> SendFlowController::should_send_blocked() {
    auto at = blocked_at();
    if (!at || blocked_reported_ == at) return std::nullopt;
    blocked_reported_ = at;
    return at;
}

}  // namespace quic
