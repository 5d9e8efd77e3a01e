// Data flow control (RFC 9000 §4.1, §4.2), one class per side, used alike for a stream
// (MAX_STREAM_DATA / STREAM_DATA_BLOCKED) and for the connection (MAX_DATA / DATA_BLOCKED).
#pragma once

#include <cstdint>
#include <optional>

#include "quic/result.h"
#include "quic/time.h"

namespace quic {

// The receiver's side: the limit we advertised, what the peer sent, what the application
// consumed, and when to advertise more.
//
// Credit policy (§4.2 leaves it to the implementation): the advertised limit is kept at
// `consumed + window`; once the remaining credit (limit - consumed) falls below half the
// window, a new limit is queued. Window auto-tuning (quic-go calls it that; §4.2 suggests it,
// "similar to common TCP implementations"): if the previous update was queued less than two
// smoothed RTTs earlier, the application consumed half a window in under two round trips,
// so the window is below what the sender could use without blocking (about a
// bandwidth-delay product plus the update's own round trip); the window then doubles, up to
// max_window. A slow reader never grows its window, so memory follows the application's pace.
class ReceiveFlowController {
  public:
    ReceiveFlowController(uint64_t initial_window, uint64_t max_window);

    // The peer has sent data up to `highest_offset` (for a stream its highest offset; for
    // the connection the sum over all streams, §4.1). FLOW_CONTROL_ERROR past the limit we
    // advertised. Call it before buffering the data.
    Status on_data_received(uint64_t highest_offset);
    // The same check without recording anything (for data that may yet be dropped).
    Status check_data_received(uint64_t highest_offset) const;
    // The application consumed `bytes` more (for a reset stream, the connection counts the
    // rest up to the final size, §4.5). May queue an update (and grow the window).
    void on_data_consumed(uint64_t bytes, Time now, Duration smoothed_rtt);
    // The new limit to send in MAX_DATA / MAX_STREAM_DATA, once per update; nullopt when none
    // is due. A lost update is resent by the connection with max_data().
    std::optional<uint64_t> should_send_update();

    // Grows the window (not past max_window) to at least `window`: the connection's window is
    // kept at least as large as a stream's auto-tuned window (e.g. 1.5x), or one busy stream
    // would be blocked by the connection limit instead. Takes effect at the next update.
    void ensure_window_at_least(uint64_t window);

    uint64_t max_data() const { return limit_; }  // the limit currently advertised
    uint64_t window() const { return window_; }
    uint64_t max_window() const { return max_window_; }
    uint64_t highest_received() const { return highest_received_; }
    uint64_t consumed() const { return consumed_; }

  private:
    uint64_t window_;
    uint64_t max_window_;
    uint64_t limit_;
    uint64_t highest_received_ = 0;
    uint64_t consumed_ = 0;
    bool update_pending_ = false;
    std::optional<Time> last_update_;
};

// The sender's side: the peer's limit and what we have sent against it.
class SendFlowController {
  public:
    explicit SendFlowController(uint64_t initial_limit = 0) : limit_(initial_limit) {}

    uint64_t limit() const { return limit_; }
    uint64_t used() const { return used_; }
    uint64_t available() const { return limit_ > used_ ? limit_ - used_ : 0; }

    // New bytes sent (SendBuffer::on_sent's return value); the caller never exceeds
    // available() (§4.1 "Senders MUST NOT send data in excess of either limit").
    void on_data_sent(uint64_t bytes) { used_ += bytes; }
    // MAX_DATA / MAX_STREAM_DATA (or a transport parameter). §4.1: frames that do not increase
    // the limit are ignored. Returns whether the limit grew.
    bool on_max_data(uint64_t new_limit);

    // The limit we are blocked at (all credit used), or nullopt.
    std::optional<uint64_t> blocked_at() const;
    // The limit to put in a DATA_BLOCKED / STREAM_DATA_BLOCKED frame: returned once per
    // limit (§4.1 SHOULD send one; repeating it for the same limit adds nothing). The caller
    // asks only when it has data waiting. A lost frame is resent with blocked_at().
    std::optional<uint64_t> should_send_blocked();

  private:
    uint64_t limit_;
    uint64_t used_ = 0;
    std::optional<uint64_t> blocked_reported_;
};

}  // namespace quic
