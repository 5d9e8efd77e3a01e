// Connection IDs (RFC 9000 §5.1): ours, which the peer sends to and which we issue with
// NEW_CONNECTION_ID, and the peer's, which we send to and retire with RETIRE_CONNECTION_ID;
// the stateless reset tokens that come with them (§10.3); the events that tell the endpoint
// which of our IDs to route.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "conn/frame_writer.h"
#include "conn/pending_frames.h"
#include "quic/connection.h"
#include "quic/connection_id.h"
#include "quic/frame.h"
#include "quic/result.h"
#include "util/lazy_deque.h"

namespace quic {

struct LocalConnectionId {
    ConnectionId cid;
    StatelessResetToken token{};
    bool announced = false;  // NEW_CONNECTION_ID acked or seq 0
};

struct PeerConnectionId {
    ConnectionId cid;
    std::optional<StatelessResetToken> token;
};

class ConnectionIdManager {
  public:
    using ResetTokenFor = std::function<StatelessResetToken(const ConnectionId&)>;
    using NewConnectionId = std::function<ConnectionId()>;

    // `local_cid` is our first connection ID (sequence number 0, §5.1.1), `peer_cid` the first
    // DCID we send to. Without `new_connection_id` we never issue more; without
    // `reset_token_for` our IDs carry no stateless reset token.
    ConnectionIdManager(PendingFrames& pending, const ConnectionId& local_cid,
                        const ConnectionId& peer_cid, ResetTokenFor reset_token_for,
                        NewConnectionId new_connection_id);

    // --- ours ---
    // The SCID of our long headers; its length is the DCID length of packets we receive.
    const ConnectionId& source_cid() const { return local_cids_.begin()->second.cid; }
    // Sequence number 0: initial_source_connection_id and the server's stateless_reset_token
    // transport parameters (§7.3, §18.2).
    // Kept apart from local_cids_: the peer may retire sequence number 0 (§5.1.2).
    const LocalConnectionId& first_local() const { return first_local_; }
    // Ours that the peer may use, by sequence number (tests: to address a given one).
    const std::map<uint64_t, LocalConnectionId>& local_cids() const { return local_cids_; }
    // Once the handshake is complete: keep as many IDs issued as the peer's
    // active_connection_id_limit allows (capped by kMaxActiveConnectionIdLimit).
    void start_issuing(uint64_t peer_active_connection_id_limit);
    Status on_retire_connection_id(const RetireConnectionIdFrame& f);
    void on_new_connection_id_acked(uint64_t seq);
    void on_new_connection_id_lost(uint64_t seq);
    // Server: issues sequence number 1 for the preferred_address transport parameter (§5.1.1,
    // §18.2), before the transport parameters are sent; announced by them, routed at once.
    const LocalConnectionId& issue_preferred_address_cid();
    // The endpoint's routing: IDs issued and retired.
    std::optional<Connection::CidEvent> poll_event();

    // --- the peer's ---
    // The DCID we send to.
    const ConnectionId& peer_cid() const { return peer_cid_; }
    // Sequence number 0 of the peer's IDs (the SCID of its first packets).
    // Kept apart from peer_cids_: a retire_prior_to retires sequence number 0 (§5.1.2).
    const ConnectionId& first_peer_cid() const { return first_peer_cid_; }
    // A client takes the server's SCID from its first packet or its Retry (§7.2).
    void on_server_source_cid(const ConnectionId& scid);
    // The server's stateless_reset_token transport parameter belongs to sequence number 0.
    void set_first_peer_reset_token(const StatelessResetToken& token);
    // `local_limit` is our active_connection_id_limit (§18.2); it is asked for only when the
    // frame brings a new ID.
    Status on_new_connection_id(const NewConnectionIdFrame& f,
                                const std::function<uint64_t()>& local_limit);
    void on_retire_connection_id_lost(uint64_t seq);
    // Client: the server's preferred_address connection ID is sequence number 1 (§5.1.1).
    void add_preferred_address_cid(const ConnectionId& cid, const StatelessResetToken& token);
    // §9.5: a peer connection ID that no path uses yet, for a new path (taken until
    // released or made active); nullopt when the peer gave us none to spare.
    std::optional<std::pair<uint64_t, ConnectionId>> take_unused_peer_cid();
    // A new path that had taken `seq` was abandoned: retire the ID (it was seen on that path).
    void release_peer_cid(uint64_t seq);
    // A new path with its own ID became the active one: send with `seq` from now on and retire
    // the one used before (§9.5: the old path's ID is not used on the new one).
    void use_peer_cid(uint64_t seq);
    // §10.3.1: is this a stateless reset token one of the peer's IDs came with?
    bool is_stateless_reset_token(const StatelessResetToken& token) const;
    // The endpoint's reset-token index: the peer's tokens that became usable or were retired.
    std::optional<Connection::ResetTokenEvent> poll_reset_token_event();

    // NEW_CONNECTION_ID and RETIRE_CONNECTION_ID frames waiting in PendingFrames.
    void write_frames(FrameWriter& out);

  private:
    void issue();
    void retire_peer_ids_below(uint64_t seq);
    bool switch_to_unused_peer_cid();

    PendingFrames& pending_;
    ResetTokenFor reset_token_for_;
    NewConnectionId new_connection_id_;

    LocalConnectionId first_local_;
    std::map<uint64_t, LocalConnectionId> local_cids_;
    uint64_t next_local_seq_ = 0;
    std::optional<uint64_t> issue_limit_;  // set once issuing may start
    LazyDeque<Connection::CidEvent> events_;

    ConnectionId first_peer_cid_;
    std::map<uint64_t, PeerConnectionId> peer_cids_;
    uint64_t active_peer_seq_ = 0;
    std::set<uint64_t> taken_peer_seqs_;  // used by candidate paths (take_unused_peer_cid)
    uint64_t peer_retire_prior_to_ = 0;
    ConnectionId peer_cid_;  // the DCID we send to
    // Drained by the endpoint after every call (a vector: an empty std::deque costs ~600 bytes).
    std::vector<Connection::ResetTokenEvent> reset_token_events_;
};

}  // namespace quic
