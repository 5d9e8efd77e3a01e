// One network path (RFC 9000 §9): its 4-tuple, its validation with PATH_CHALLENGE and
// PATH_RESPONSE (§8.2), the anti-amplification accounting before it is validated (§8.1), its
// ECN state (§13.4.2) and the peer connection ID it sends with when that differs from the
// active one (§9.5). The connection holds the active path and a few candidate paths (a probe
// of ours, a peer probing or migrating to a new 4-tuple: conn/migration.cpp). Congestion
// control and RTT are the connection's, reset on migration as §9.4 says.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "conn/ecn.h"
#include "conn/frame_writer.h"
#include "quic/address.h"
#include "quic/connection_id.h"
#include "quic/random.h"
#include "quic/time.h"
#include "util/lazy_deque.h"

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

    // Anti-amplification (§8.1, §9.3.1): bytes counted until the path is validated. A path we
    // opened ourselves (a probe to the peer's preferred address or from a new local address)
    // is not limited: the peer did not ask us to send there.
    void on_datagram_received(size_t bytes) {
        if (!validated_) bytes_received_ += bytes;
    }
    void on_datagram_sent(size_t bytes) {
        if (!validated_) bytes_sent_ += bytes;
    }
    void set_amplification_limited(bool on) { amplification_limited_ = on; }
    // What may still be sent before validation; nullopt when there is no limit.
    std::optional<uint64_t> amplification_room() const;

    // §8.2.1: starts validating this path with a new challenge; abandoned at `deadline`
    // (§8.2.4).
    void start_validation(Random& random, Time deadline);
    // A challenge is outstanding (sent or to send, not yet answered).
    bool validating() const { return challenge_outstanding_.has_value(); }
    // §8.2.4: validation gave up (the deadline passed without a response).
    std::optional<Time> validation_deadline() const {
        return validating() ? validation_deadline_ : std::nullopt;
    }
    // §8.2.2: answer on the same path; only the latest few challenges matter.
    void on_path_challenge(const Challenge& data);
    // §8.2.3: a matching response validates the path (whichever path it arrived on). True
    // when it was this path's challenge.
    bool on_path_response(const Challenge& data);
    // A lost PATH_CHALLENGE is sent again while still awaited. True when it was ours.
    bool on_path_challenge_lost(const Challenge& data);

    bool has_frames_to_send() const { return challenge_pending_ || !responses_.empty(); }
    // PATH_RESPONSE frames, then PATH_CHALLENGE. True when one was written: such datagrams
    // are padded to 1200 bytes (§8.2.1, §8.2.2). A challenge written is sent again at
    // `resend_at` if still unanswered: the packet may arrive (and be acknowledged) while the
    // response is lost, and a response is never retransmitted (§13.3).
    bool write_frames(FrameWriter& out, Time resend_at);
    std::optional<Time> challenge_resend_at() const {
        return validating() && !challenge_pending_ ? resend_at_ : std::nullopt;
    }
    void on_resend_timer(Time now) {
        if (resend_at_ && now >= *resend_at_ && validating()) {
            challenge_pending_ = challenge_outstanding_;
            resend_at_.reset();
        }
    }

    // §9.5: the peer connection ID this path sends with, when it is not the connection's
    // active one (a candidate path; moved to the active one when the path is promoted).
    struct PeerCid {
        uint64_t sequence_number = 0;
        ConnectionId cid;
    };
    const std::optional<PeerCid>& peer_cid() const { return peer_cid_; }
    void set_peer_cid(std::optional<PeerCid> c) { peer_cid_ = std::move(c); }

  private:
    Path addresses_;
    bool validated_;
    bool amplification_limited_ = true;
    uint64_t bytes_received_ = 0, bytes_sent_ = 0;    // before validation
    std::optional<Challenge> challenge_pending_;      // to (re)send
    std::optional<Challenge> challenge_outstanding_;  // awaiting the response
    std::optional<Time> validation_deadline_;
    std::optional<Time> resend_at_;
    LazyDeque<Challenge> responses_;  // PATH_RESPONSE to send
    EcnValidator ecn_;
    std::optional<PeerCid> peer_cid_;
};

}  // namespace quic
