// Path validation (RFC 9000 §8.2), anti-amplification (§8.1), a peer's new address (§9.3).
#include "conn/path.h"

#include "conn/limits.h"

namespace quic {

std::optional<uint64_t> PathState::amplification_room() const {
    if (validated_) return std::nullopt;
    const uint64_t limit = kAntiAmplificationFactor * bytes_received_;
    return limit > bytes_sent_ ? limit - bytes_sent_ : 0;
}

void PathState::on_peer_address_change(const Path& addresses, size_t datagram_size,
                                       Random& random) {
    addresses_ = addresses;
    validated_ = false;
    ecn_.restart();
    bytes_received_ = datagram_size;
    bytes_sent_ = 0;
    Challenge challenge;
    random.fill(challenge);
    challenge_pending_ = challenge;
    challenge_outstanding_ = challenge;
}

void PathState::on_path_challenge(const Challenge& data) {
    if (responses_.size() >= kMaxPendingPathResponses) responses_.pop_front();
    responses_.push_back(data);
}

void PathState::on_path_response(const Challenge& data) {
    if (challenge_outstanding_ && *challenge_outstanding_ == data) {
        challenge_outstanding_.reset();
        challenge_pending_.reset();
        validated_ = true;
    }
}

void PathState::on_path_challenge_lost(const Challenge& data) {
    if (challenge_outstanding_ && *challenge_outstanding_ == data) challenge_pending_ = data;
}

bool PathState::write_frames(FrameWriter& out) {
    bool wrote = false;
    while (!responses_.empty() &&
           out.put(PathResponseFrame{responses_.front()}, SentPathChallenge{})) {
        responses_.pop_front();
        wrote = true;
    }
    if (challenge_pending_ &&
        out.put(PathChallengeFrame{*challenge_pending_}, SentPathChallenge{*challenge_pending_})) {
        challenge_pending_.reset();
        wrote = true;
    }
    return wrote;
}

}  // namespace quic
