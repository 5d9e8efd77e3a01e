// The application's events, in the order they happened, until it polls them (Connection::
// poll_event). Events a peer can generate at will are bounded (conn/limits.h): received
// datagrams may be dropped (RFC 9221 §5), tokens and tickets beyond a few are redundant; a
// StreamReadable dropped at the cap is harmless (the stream stays readable). Lifecycle events
// always queue.
#pragma once

#include <cstddef>
#include <optional>

#include "conn/limits.h"
#include "quic/events.h"
#include "util/lazy_deque.h"

namespace quic {

class EventQueue {
  public:
    void emit(ConnectionEvent ev) {
        if (std::holds_alternative<DatagramReceived>(ev)) {
            if (queued_datagrams_ >= kMaxQueuedDatagrams) return;
            ++queued_datagrams_;
        } else if (std::holds_alternative<NewTokenReceived>(ev) ||
                   std::holds_alternative<SessionTicketReceived>(ev)) {
            if (queued_tokens_ >= kMaxQueuedTokenEvents) return;
            ++queued_tokens_;
        } else if (std::holds_alternative<StreamReadable>(ev) &&
                   events_.size() >= kMaxQueuedEvents) {
            return;
        }
        events_.push_back(std::move(ev));
    }

    std::optional<ConnectionEvent> poll() {
        if (events_.empty()) return std::nullopt;
        ConnectionEvent ev = std::move(events_.front());
        events_.pop_front();
        if (std::holds_alternative<DatagramReceived>(ev)) --queued_datagrams_;
        if (std::holds_alternative<NewTokenReceived>(ev) ||
            std::holds_alternative<SessionTicketReceived>(ev))
            --queued_tokens_;
        return ev;
    }

  private:
    LazyDeque<ConnectionEvent> events_;
    size_t queued_datagrams_ = 0, queued_tokens_ = 0;
};

}  // namespace quic
