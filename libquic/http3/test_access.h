// Test-only access to a Session's state, for tests/sim: not part of the library's API (Session
// declares SessionTestAccess a friend; nothing else includes this header).
#pragma once

#include "http3/session_impl.h"
#include "quic/http3/session.h"

namespace quic::h3 {

struct SessionTestAccess {
    // Header deadlines queued (request_header_timeout; kMinHeaderDeadlineCompaction bounds them).
    static size_t header_deadlines_queued(const Session& s) {
        return s.impl_->header_deadlines_queued_for_testing();
    }
};

}  // namespace quic::h3
