// Test-only access to a Connection's state machine, for tests/sim and tests/fuzz: not part of
// the library's API (Connection declares ConnectionTestAccess a friend; nothing else includes
// this header).
#pragma once

#include "conn/connection_impl.h"
#include "quic/connection.h"

namespace quic {

struct ConnectionTestAccess {
    // Processes `payload` as the frames of a decrypted packet of `type`, with the error handling
    // of a received packet (a packet encoder that needs no keys).
    static void receive_frames(Connection& c, Time now, PacketType type, ByteSpan payload) {
        c.impl_->receive_frames_for_testing(now, type, payload);
    }
    // Starts a 1-RTT key update whatever the state (to play a peer that breaks RFC 9001 §6.1).
    static void force_key_update(Connection& c) { c.impl_->update_write_keys_for_testing(); }
    // The connection ID the peer addresses `c` with (to forge packets to it).
    static ConnectionId source_cid(const Connection& c) {
        return c.impl_->source_cid_for_testing();
    }
};

}  // namespace quic
