// Frames waiting for a packet that are not stream data, in one place (like mvfst's
// PendingEvents): set where the need arises (a frame received, a limit reached, a packet lost,
// RFC 9000 §13.3), cleared when the frame is written into a packet. Elsewhere by design:
// per-stream frames (RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA, STREAM_DATA_BLOCKED) in the
// stream record (conn/streams.h); PATH_CHALLENGE and PATH_RESPONSE in the path they are sent on
// (conn/path.h); PING and PTO probes in their packet number space (connection_impl.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>

#include "quic/bytes.h"
#include "util/lazy_deque.h"

namespace quic {

struct PendingFrames {
    // HANDSHAKE_DONE (§19.20): a server's, once the handshake completes; again if lost.
    bool handshake_done = false;
    // MAX_DATA (§19.9): the connection receive window moved far enough to announce.
    bool max_data = false;
    // DATA_BLOCKED (§19.12): the connection send limit stopped new stream data.
    bool data_blocked = false;
    // MAX_STREAMS (§19.11), [bidirectional, unidirectional]: closed peer streams returned credit.
    std::array<bool, 2> max_streams{};
    // STREAMS_BLOCKED (§19.14), [bidirectional, unidirectional]: the application could not open
    // a stream for want of the peer's credit.
    std::array<bool, 2> streams_blocked{};
    // NEW_TOKEN (§19.7): a server's token for the client's next connection.
    std::optional<Bytes> new_token;
    // NEW_CONNECTION_ID (§19.15): sequence numbers of our connection IDs to announce (their
    // values are in ConnectionIdManager), written in sequence order.
    std::set<uint64_t> new_connection_ids;
    // RETIRE_CONNECTION_ID (§19.16): sequence numbers of the peer's connection IDs we stopped
    // using (capped by kMaxPendingRetireConnectionIds where the peer makes them grow).
    LazyDeque<uint64_t> retire_connection_ids;
    // DATAGRAM (RFC 9221): the application's datagrams, oldest first (capped by
    // kMaxQueuedDatagrams: the oldest is dropped).
    LazyDeque<Bytes> datagrams;
    // CONNECTION_CLOSE (§19.19): to send in the closing state (§10.2.1), rate-limited; the
    // error is ConnectionImpl's local_close_.
    bool connection_close = false;
    // Frames a test tool injected (Connection::inject_frame), encoded, sent once as they are
    // (at most kMaxInjectedFrames).
    LazyDeque<Bytes> injected;

    // Any of the frames above that go in 1-RTT packets (all but CONNECTION_CLOSE, which has
    // a datagram of its own).
    bool any_application_frames() const {
        return handshake_done || max_data || data_blocked || max_streams[0] || max_streams[1] ||
               streams_blocked[0] || streams_blocked[1] || new_token ||
               !new_connection_ids.empty() || !retire_connection_ids.empty() ||
               !datagrams.empty() || !injected.empty();
    }
};

}  // namespace quic
