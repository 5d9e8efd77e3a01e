// One network path (RFC 9000 §9): its 4-tuple, its validation with PATH_CHALLENGE and
// PATH_RESPONSE (§8.2), the anti-amplification accounting before it is validated (§8.1), and
// its ECN state (§13.4.2). The connection holds the active path; a second one (migration,
// preferred_address, probing a new 4-tuple) is another PathState. Congestion control and RTT
// are still the connection's (conn/connection_impl.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "conn/ecn.h"
#include "conn/frame_writer.h"
#include "quic/address.h"
#include "quic/random.h"

namespace quic {

class PathState {
  public:
    using Challenge = std::array<uint8_t, 8>;

    PathState(const Path& addresses, bool validated, bool ecn_enabled)
        : addresses_(addresses), validated_(validated), ecn_(ecn_enabled) {}

    const Path& addresses() const { return addresses_; }
    EcnValidator& ecn() { return ecn_; }
    const EcnValidator& ecn() const { return ecn_; }

    // §8.1: the peer proved it owns its address (for a server: a Handshake packet, or a
    // PATH_RESPONSE on this path).
    bool validated() const { return validated_; }
    void mark_validated() { validated_ = true; }

    // Anti-amplification (§8.1): bytes counted until the path is validated.
    void on_datagram_received(size_t bytes) {
        if (!validated_) bytes_received_ += bytes;
    }
    void on_datagram_sent(size_t bytes) {
        if (!validated_) bytes_sent_ += bytes;
    }
    // What may still be sent before validation; nullopt once validated (no limit).
    std::optional<uint64_t> amplification_room() const;

    // §9.3: the peer now sends from `addresses` (NAT rebinding or migration): validate it
    // again with a new challenge, counting from the datagram that came from there.
    void on_peer_address_change(const Path& addresses, size_t datagram_size, Random& random);
    // §8.2.2: answer on the same path; only the latest few challenges matter.
    void on_path_challenge(const Challenge& data);
    // §8.2.3: a matching response validates the path.
    void on_path_response(const Challenge& data);
    // A lost PATH_CHALLENGE is sent again while still awaited.
    void on_path_challenge_lost(const Challenge& data);

    bool has_frames_to_send() const { return challenge_pending_ || !responses_.empty(); }
    // PATH_RESPONSE frames, then PATH_CHALLENGE. True when one was written: such datagrams
    // are padded to 1200 bytes (§8.2.1, §8.2.2).
    bool write_frames(FrameWriter& out);

  private:
    Path addresses_;
    bool validated_;
    uint64_t bytes_received_ = 0, bytes_sent_ = 0;    // before validation
    std::optional<Challenge> challenge_pending_;      // to (re)send
    std::optional<Challenge> challenge_outstanding_;  // awaiting the response
    std::deque<Challenge> responses_;                 // PATH_RESPONSE to send
    EcnValidator ecn_;
};

}  // namespace quic
