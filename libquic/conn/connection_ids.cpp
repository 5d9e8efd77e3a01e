// Connection IDs (RFC 9000 §5.1, §19.15, §19.16) and stateless reset tokens (§10.3).
#include "conn/connection_ids.h"

#include <algorithm>

#include "conn/limits.h"
#include "wire/stateless_reset.h"

namespace quic {

ConnectionIdManager::ConnectionIdManager(PendingFrames& pending, const ConnectionId& local_cid,
                                         const ConnectionId& peer_cid,
                                         ResetTokenFor reset_token_for,
                                         NewConnectionId new_connection_id)
    : pending_(pending),
      reset_token_for_(std::move(reset_token_for)),
      new_connection_id_(std::move(new_connection_id)),
      peer_cid_(peer_cid) {
    // Our first connection ID has sequence number 0 (§5.1.1).
    LocalConnectionId first;
    first.cid = local_cid;
    if (reset_token_for_) first.token = reset_token_for_(local_cid);
    first.announced = true;
    local_cids_[0] = first;
    first_local_ = first;
    next_local_seq_ = 1;
    peer_cids_[0] = PeerConnectionId{peer_cid_, std::nullopt};
    first_peer_cid_ = peer_cid_;
}

// --- ours ----------------------------------------------------------------------------------

void ConnectionIdManager::start_issuing(uint64_t peer_active_connection_id_limit) {
    issue_limit_ = std::min<uint64_t>(peer_active_connection_id_limit, kMaxActiveConnectionIdLimit);
    issue();
}

void ConnectionIdManager::issue() {
    if (!new_connection_id_ || !issue_limit_) return;
    while (local_cids_.size() < *issue_limit_) {
        LocalConnectionId l;
        l.cid = new_connection_id_();
        if (reset_token_for_) l.token = reset_token_for_(l.cid);
        events_.push_back({true, l.cid});
        pending_.new_connection_ids.insert(next_local_seq_);
        local_cids_[next_local_seq_++] = l;
    }
}

Status ConnectionIdManager::on_retire_connection_id(const RetireConnectionIdFrame& f) {
    constexpr auto kType = to_underlying(FrameType::kRetireConnectionId);
    // §19.16: a sequence number we never sent is a PROTOCOL_VIOLATION.
    if (f.sequence_number >= next_local_seq_)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "RETIRE_CONNECTION_ID for a connection ID never issued", kType);
    auto it = local_cids_.find(f.sequence_number);
    if (it == local_cids_.end()) return {};
    if (local_cids_.size() == 1)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "retiring our last connection ID", kType);
    events_.push_back({false, it->second.cid});
    pending_.new_connection_ids.erase(it->first);
    local_cids_.erase(it);
    issue();
    return {};
}

void ConnectionIdManager::on_new_connection_id_acked(uint64_t seq) {
    auto it = local_cids_.find(seq);
    if (it != local_cids_.end()) it->second.announced = true;
}

void ConnectionIdManager::on_new_connection_id_lost(uint64_t seq) {
    if (local_cids_.count(seq)) pending_.new_connection_ids.insert(seq);
}

std::optional<Connection::CidEvent> ConnectionIdManager::poll_event() {
    if (events_.empty()) return std::nullopt;
    auto ev = events_.front();
    events_.pop_front();
    return ev;
}

// --- the peer's ------------------------------------------------------------------------------

void ConnectionIdManager::on_server_source_cid(const ConnectionId& scid) {
    peer_cid_ = scid;
    first_peer_cid_ = scid;
    if (auto it = peer_cids_.find(0); it != peer_cids_.end()) it->second.cid = scid;
}

void ConnectionIdManager::set_first_peer_reset_token(const StatelessResetToken& token) {
    if (auto it = peer_cids_.find(0); it != peer_cids_.end()) it->second.token = token;
    reset_token_events_.push_back({true, token});
}

Status ConnectionIdManager::on_new_connection_id(const NewConnectionIdFrame& f,
                                                 const std::function<uint64_t()>& local_limit) {
    constexpr auto kType = to_underlying(FrameType::kNewConnectionId);
    // §19.15: a peer using zero-length connection IDs cannot issue more.
    if (peer_cid_.empty())
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "NEW_CONNECTION_ID while using a zero-length connection ID", kType);
    auto it = peer_cids_.find(f.sequence_number);
    if (it != peer_cids_.end()) {
        if (!(it->second.cid == f.connection_id))
            return Error::transport(TransportErrorCode::kProtocolViolation,
                                    "a sequence number reused for another connection ID", kType);
        return {};
    }
    auto& retire = pending_.retire_connection_ids;
    if (f.sequence_number < peer_retire_prior_to_) {
        // Already retired by an earlier retire_prior_to: retire it at once (§5.1.2).
        if (retire.size() >= kMaxPendingRetireConnectionIds)
            return Error::transport(TransportErrorCode::kConnectionIdLimitError,
                                    "too many connection IDs to retire", kType);
        retire.push_back(f.sequence_number);
        return {};
    }
    peer_cids_[f.sequence_number] = PeerConnectionId{f.connection_id, f.stateless_reset_token};
    reset_token_events_.push_back({true, f.stateless_reset_token});
    if (f.retire_prior_to > peer_retire_prior_to_) {
        peer_retire_prior_to_ = f.retire_prior_to;
        retire_peer_ids_below(f.retire_prior_to);
        if (retire.size() > kMaxPendingRetireConnectionIds)
            return Error::transport(TransportErrorCode::kConnectionIdLimitError,
                                    "too many connection IDs to retire", kType);
    }
    // §5.1.1: more active IDs than our active_connection_id_limit.
    if (peer_cids_.size() > local_limit())
        return Error::transport(TransportErrorCode::kConnectionIdLimitError,
                                "more connection IDs than active_connection_id_limit", kType);
    return {};
}

void ConnectionIdManager::retire_peer_ids_below(uint64_t seq) {
    for (auto it = peer_cids_.begin(); it != peer_cids_.end() && it->first < seq;) {
        pending_.retire_connection_ids.push_back(it->first);
        if (it->second.token) reset_token_events_.push_back({false, *it->second.token});
        it = peer_cids_.erase(it);
    }
    if (!peer_cids_.count(active_peer_seq_)) switch_to_unused_peer_cid();
}

bool ConnectionIdManager::switch_to_unused_peer_cid() {
    if (peer_cids_.empty()) return false;
    active_peer_seq_ = peer_cids_.begin()->first;
    peer_cid_ = peer_cids_.begin()->second.cid;
    return true;
}

void ConnectionIdManager::on_retire_connection_id_lost(uint64_t seq) {
    pending_.retire_connection_ids.push_back(seq);
}

bool ConnectionIdManager::is_stateless_reset_token(const StatelessResetToken& token) const {
    for (const auto& [seq, pc] : peer_cids_)
        if (pc.token && stateless_reset_token_equal(*pc.token, token)) return true;
    return false;
}

std::optional<Connection::ResetTokenEvent> ConnectionIdManager::poll_reset_token_event() {
    if (reset_token_events_.empty()) return std::nullopt;
    auto ev = reset_token_events_.front();
    reset_token_events_.erase(reset_token_events_.begin());  // a handful at most
    return ev;
}

// --- frames ----------------------------------------------------------------------------------

void ConnectionIdManager::write_frames(FrameWriter& out) {
    auto& announce = pending_.new_connection_ids;
    for (auto it = announce.begin(); it != announce.end();) {
        const LocalConnectionId& l = local_cids_.at(*it);
        NewConnectionIdFrame f{*it, 0, l.cid, l.token};
        if (!out.put(f, FrameWriter::control(FrameType::kNewConnectionId, *it))) break;
        it = announce.erase(it);
    }
    auto& retire = pending_.retire_connection_ids;
    while (!retire.empty() &&
           out.put(RetireConnectionIdFrame{retire.front()},
                   FrameWriter::control(FrameType::kRetireConnectionId, retire.front())))
        retire.pop_front();
}

}  // namespace quic
