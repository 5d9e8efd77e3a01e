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
    // Packets kept for keys not yet available (RFC 9001 §5.7; capped by kMaxUndecryptablePackets).
    static size_t undecryptable_buffered(const Connection& c) {
        return c.impl_->undecryptable_buffered_for_testing();
    }
    // A packet of `type` as `c` would send it now (its keys, its next packet number, 4 bytes
    // long), carrying exactly `payload` (may be empty) with `first_byte_bits` set in its first
    // byte before header protection: to forge what a broken peer sends. Empty without keys.
    static Bytes seal_packet(Connection& c, Time now, PacketType type, ByteSpan payload,
                             uint8_t first_byte_bits = 0) {
        return c.impl_->seal_packet_for_testing(now, type, payload, first_byte_bits);
    }
    // Our connection ID with this sequence number, if issued and not retired (RFC 9000 §5.1.1).
    static std::optional<ConnectionId> local_cid(const Connection& c, uint64_t sequence) {
        return c.impl_->local_cid_for_testing(sequence);
    }
    // Gaps buffered in stream reassembly over all streams (checklist 19).
    static size_t reassembly_fragments(const Connection& c) {
        return c.impl_->reassembly_fragments_for_testing();
    }
    // The packet number `c` sends next in `space`.
    static uint64_t next_packet_number(const Connection& c, PacketNumberSpaceId space) {
        return c.impl_->next_packet_number_for_testing(space);
    }
    // Whether `c` recorded packet `pn` of `space` as received (it will acknowledge it).
    static bool packet_recorded(const Connection& c, PacketNumberSpaceId space, uint64_t pn) {
        return c.impl_->packet_recorded_for_testing(space, pn);
    }
    // Slots of `space`'s sent-packet ring that `c` holds allocated (memory per connection).
    static size_t sent_packet_slots(const Connection& c, PacketNumberSpaceId space) {
        return c.impl_->sent_packet_slots_for_testing(space);
    }
    // Whether `c` still holds its TLS session (a server frees it when the handshake completes).
    static bool holds_tls(const Connection& c) { return c.impl_->holds_tls_for_testing(); }
    // The connection ID the peer addresses `c` with (to forge packets to it).
    static ConnectionId source_cid(const Connection& c) {
        return c.impl_->source_cid_for_testing();
    }
    // The same for a 1-RTT packet that arrived on `path` in a datagram of `datagram_size`
    // bytes, with the path handling of a received packet (a new 4-tuple becomes a candidate
    // path; conn/migration.cpp).
    static void receive_frames_on(Connection& c, Time now, const Path& path, ByteSpan payload,
                                  size_t datagram_size) {
        c.impl_->receive_frames_on_path_for_testing(now, path, payload, datagram_size);
    }
};

}  // namespace quic
