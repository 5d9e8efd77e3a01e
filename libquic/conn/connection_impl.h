// The connection's state machine (RFC 9000, 9001, 9002). Split across files by concern:
//   connection.cpp      construction, the application API, events, close
//   conn_receive.cpp    datagrams -> packets -> frames (RFC 9000 §12, §17, §19)
//   conn_send.cpp       packet assembly, coalescing, padding, pacing (§12.2, §13, §14)
//   conn_crypto.cpp     TLS, keys per level, transport parameters, key update (RFC 9001)
//   conn_timers.cpp     loss detection, idle and handshake timeouts, closing/draining (§10)
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cc/congestion_controller.h"
#include "cc/pacer.h"
#include "conn/connection.h"
#include "conn/limits.h"
#include "crypto/cipher_suite.h"
#include "crypto/packet_protection.h"
#include "recovery/loss_detector.h"
#include "recovery/received_packet_tracker.h"
#include "stream/flow_control.h"
#include "stream/receive_buffer.h"
#include "stream/send_buffer.h"
#include "stream/stream_id.h"
#include "stream/stream_limits.h"
#include "stream/stream_state.h"
#include "tls/tls_session.h"
#include "trace/tracer.h"
#include "wire/frame.h"
#include "wire/packet_header.h"

namespace quic {

inline CongestionControlAlgorithm to_algorithm(CongestionControl c) {
    return c == CongestionControl::kNewReno ? CongestionControlAlgorithm::kNewReno
                                            : CongestionControlAlgorithm::kCubic;
}

inline StreamInitiator initiator_of(Role r) {
    return r == Role::kClient ? StreamInitiator::kClient : StreamInitiator::kServer;
}

// One stream's two halves (RFC 9000 §3): either may be absent for unidirectional streams.
struct StreamRecord {
    StreamId id = 0;
    bool has_send = false, has_recv = false;

    SendBuffer send;
    SendStreamStateMachine send_state;
    SendFlowController send_flow;
    std::optional<uint64_t> reset_code;  // RESET_STREAM to send (or sent) with this code
    bool reset_pending = false;          // needs (re)transmission
    bool data_blocked_pending = false;   // STREAM_DATA_BLOCKED to send
    bool write_refused = false;          // the application was refused: tell it when writable

    ReceiveBuffer recv;
    RecvStreamStateMachine recv_state;
    ReceiveFlowController recv_flow;
    std::optional<uint64_t> stop_sending_code;
    bool stop_sending_pending = false;
    bool max_stream_data_pending = false;
    bool readable_announced = false;  // a StreamReadable is outstanding
    bool credit_returned = false;     // counted in PeerStreamLimits::on_stream_closed

    StreamRecord(StreamId sid, bool send_part, bool recv_part, uint64_t send_limit,
                 uint64_t recv_window, uint64_t recv_max_window)
        : id(sid),
          has_send(send_part),
          has_recv(recv_part),
          send_flow(send_limit),
          recv_flow(recv_window, recv_max_window) {}

    bool send_done() const { return !has_send || send_state.is_terminal(); }
    bool recv_done() const { return !has_recv || recv_state.is_terminal(); }
};

// A packet number space (RFC 9000 §12.3) and the keys and CRYPTO stream of its level.
struct PacketSpace {
    PacketNumberSpaceId id;
    uint64_t next_packet_number = 0;
    ReceivedPacketTracker received;
    DirectionalKeys read, write;
    SendBuffer crypto_send;
    ReceiveBuffer crypto_recv = ReceiveBuffer::for_crypto();
    bool discarded = false;
    unsigned probes_pending = 0;  // PTO probes to send (RFC 9002 §6.2.4)
    bool ping_pending = false;

    PacketSpace(PacketNumberSpaceId sid, ReceivedPacketTracker::Config cfg)
        : id(sid), received(sid, cfg) {}
};

// 1-RTT keys with key update (RFC 9001 §6): the current and next read keys, the previous
// ones for late packets, and the secrets to derive the next generation from.
struct OneRttKeys {
    CipherSuite suite = CipherSuite::kAes128GcmSha256;
    Bytes read_secret, write_secret;
    DirectionalKeys read_current, read_next, read_previous;
    std::unique_ptr<PacketProtector> write_packet;
    std::unique_ptr<HeaderProtector> write_header;  // header keys never change (§6)
    std::unique_ptr<HeaderProtector> read_header;
    bool read_phase = false, write_phase = false;
    std::optional<uint64_t> first_pn_read_in_phase;
    std::optional<uint64_t> first_pn_written_in_phase;
    bool update_acknowledged = true;  // a packet of the current write phase was acked
    std::optional<Time> discard_previous_at;
    uint64_t packets_written_in_phase = 0;
};

struct LocalConnectionId {
    ConnectionId cid;
    StatelessResetToken token{};
    bool announced = false;  // NEW_CONNECTION_ID acked or seq 0
    bool pending = false;    // NEW_CONNECTION_ID to (re)send
};

struct PeerConnectionId {
    ConnectionId cid;
    std::optional<StatelessResetToken> token;
};

class ConnectionImpl final : public TlsSession::Handler {
  public:
    ConnectionImpl(Time now, Connection::Params params);
    ~ConnectionImpl() override;
    Status start(Time now);

    // Connection's API (see connection.h).
    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer);
    std::optional<Time> next_timeout() const;
    void on_timeout(Time now);
    std::optional<ConnectionEvent> poll_event();
    Result<uint64_t> open_stream(bool bidirectional);
    Result<size_t> write(StreamId id, ByteSpan data, bool fin);
    Result<size_t> read(StreamId id, MutableByteSpan out, bool* fin);
    Status reset_stream(StreamId id, uint64_t code);
    Status stop_sending(StreamId id, uint64_t code);
    Status send_datagram(ByteSpan data);
    size_t max_datagram_size() const;
    Status initiate_key_update();
    void close(Time now, uint64_t code, std::string reason);
    std::optional<Connection::CidEvent> poll_cid_event();
    bool is_stateless_reset(ByteSpan datagram) const;
    void on_stateless_reset(Time now);

    ConnectionState state() const { return state_; }
    bool handshake_complete() const { return handshake_complete_; }
    Role role() const { return role_; }
    const ConnectionInfo& info() const { return info_; }
    ConnectionStats stats() const;
    const Path& path() const { return path_; }
    const ConnectionId& original_dcid() const { return original_dcid_; }
    const std::optional<ConnectionClosed>& close_reason() const { return close_reason_; }
    trace::Tracer* tracer() const { return tracer_.get(); }

    // For tests (a packet encoder that needs no keys): processes `payload` as the frames of a
    // decrypted packet of `type`, with the error handling of a received packet.
    void receive_frames_for_testing(Time now, PacketType type, ByteSpan payload);

    // TlsSession::Handler
    bool on_secret(EncryptionLevel level, bool for_writing, uint16_t cipher_suite,
                   ByteSpan secret) override;
    void on_handshake_data(EncryptionLevel level, ByteSpan data) override;
    void on_session_ticket(Bytes session) override;
    void on_early_data_rejected() override;

  private:
    // --- receive (conn_receive.cpp) ---
    void process_packet(Time now, const Path& path, Ecn ecn, MutableByteSpan packet,
                        const PacketHeader& header, size_t datagram_size);
    bool handle_version_negotiation(Time now, const PacketHeader& header);
    bool handle_retry(Time now, ByteSpan packet, const PacketHeader& header);
    Status process_frames(Time now, PacketType type, ByteSpan payload, bool& ack_eliciting,
                          bool& probing_only);
    Status on_frame(Time now, PacketType type, const Frame& frame);
    Status on_ack_frame(Time now, PacketNumberSpaceId space, const AckFrame& ack);
    Status on_crypto_frame(Time now, PacketSpace& space, const CryptoFrame& f);
    Status on_stream_frame(Time now, const StreamFrame& f);
    Status on_reset_stream(const ResetStreamFrame& f);
    Status on_stop_sending(const StopSendingFrame& f);
    Status on_max_stream_data(const MaxStreamDataFrame& f);
    Status on_new_connection_id(const NewConnectionIdFrame& f);
    Status on_retire_connection_id(const RetireConnectionIdFrame& f);
    void on_connection_close_frame(Time now, const ConnectionCloseFrame& f);
    void on_packet_acked(Time now, PacketNumberSpaceId space, const SentPacket& p);
    void on_packet_lost(PacketNumberSpaceId space, const SentPacket& p);
    void apply_ack_outcome(Time now, AckOutcome& outcome, PacketNumberSpaceId space);
    void buffer_undecryptable(const Path& path, Ecn ecn, ByteSpan packet);
    void on_peer_address_change(Time now, const Path& path, size_t datagram_size);
    void replay_undecryptable(Time now);

    // --- streams ---
    Result<StreamRecord*> stream_for_frame(StreamId id, StreamFrameKind kind);
    StreamRecord* find_stream(StreamId id);
    StreamRecord& create_stream(StreamId id);
    void maybe_retire_stream(StreamRecord& s);
    void deliver_readable(StreamRecord& s);

    // --- send (conn_send.cpp) ---
    struct PacketPlan;
    bool build_packet(Time now, PacketSpace& space, PacketType type, ByteWriter& datagram,
                      PacketPlan& plan, bool& ack_eliciting_out);
    bool write_header(ByteWriter& datagram, PacketSpace& space, PacketType type, uint64_t pn,
                      PacketPlan& plan);
    bool seal_packet(Time now, MutableByteSpan datagram, const PacketPlan& plan);
    void pad_last_packet(ByteWriter& datagram, PacketPlan& last, size_t max);
    size_t write_frames(Time now, PacketSpace& space, PacketType type, ByteWriter& w,
                        SentPacket& sent, bool allow_data);
    bool write_stream_frames(Time now, ByteWriter& w, SentPacket& sent, bool zero_rtt);
    bool write_control_frames(ByteWriter& w, SentPacket& sent);
    bool has_data_to_send(const PacketSpace& space) const;
    bool wants_to_send(Time now) const;
    size_t current_max_udp_payload() const;
    std::optional<size_t> amplification_budget() const;
    void on_packet_sent(Time now, PacketSpace& space, SentPacket&& sent);
    std::optional<Transmit> build_close_datagram(Time now, MutableByteSpan buffer);

    // --- crypto (conn_crypto.cpp) ---
    Status feed_tls(Time now);
    Status on_handshake_complete(Time now);
    Status apply_peer_transport_parameters(Time now);
    void discard_space(Time now, PacketNumberSpaceId id);
    void confirm_handshake(Time now);
    TransportParameters local_transport_parameters() const;
    Bytes early_data_context() const;
    Status restore_from_ticket();
    void install_one_rtt(bool for_writing, CipherSuite suite, ByteSpan secret);
    void roll_read_keys(Time now);
    DirectionalKeys* read_keys_for(PacketType type, bool key_phase, uint64_t pn,
                                   bool& is_next_phase);
    PacketSpace& space(PacketNumberSpaceId id) { return *spaces_[static_cast<size_t>(id)]; }
    const PacketSpace& space(PacketNumberSpaceId id) const {
        return *spaces_[static_cast<size_t>(id)];
    }
    RecoveryContext recovery_context() const;

    // --- connection IDs ---
    void issue_connection_ids();
    void retire_peer_connection_ids_below(uint64_t seq);
    bool switch_to_unused_peer_cid();

    // --- tracing (conn_trace.cpp): every helper returns at once without a tracer ---
    void set_state(Time now, ConnectionState next);
    void trace_drop(Time now, PacketType type, size_t size, trace::DropReason why);
    void trace_packet(Time now, bool sent, PacketType type, uint64_t pn, const PacketHeader* header,
                      size_t length, bool key_phase, ByteSpan plaintext_payload);
    void trace_recovery(Time now);
    void trace_key(Time now, trace::KeyKind kind, bool discarded, trace::KeyTrigger trigger,
                   uint64_t generation = 0);

    // --- lifecycle (conn_timers.cpp) ---
    void close_with_error(Time now, Error error);
    void enter_draining(Time now, CloseOrigin origin, Error error);
    void finish_closed(CloseOrigin origin, Error error);
    void emit(ConnectionEvent ev);
    Duration pto_duration() const;
    Duration effective_idle_timeout() const;
    void reset_idle_timer(Time now);
    void update_pacer(Time now);

    // --- configuration and collaborators ---
    Role role_;
    ConnectionConfig config_;
    std::shared_ptr<TlsContext> tls_context_;
    Random& random_;
    Version version_;
    Path path_;
    ConnectionId original_dcid_;
    ConnectionId initial_dcid_for_keys_;  // the DCID Initial keys derive from (changes on Retry)
    std::optional<ConnectionId> retry_source_cid_;
    std::string server_name_;
    Bytes token_;              // client: the token we put in our Initials
    Bytes resumption_ticket_;  // client
    std::function<StatelessResetToken(const ConnectionId&)> reset_token_for_;
    std::function<ConnectionId()> new_connection_id_;
    std::function<Bytes(const SocketAddress&)> new_token_for_;
    std::shared_ptr<trace::Tracer> tracer_;  // null: no tracing

    std::unique_ptr<TlsSession> tls_;
    ConnectionState state_ = ConnectionState::kHandshaking;
    ConnectionInfo info_;
    std::optional<ConnectionClosed> close_reason_;
    Time created_;
    Time last_now_;  // the latest time any entry point was given

    // Packet number spaces: Initial, Handshake, Application data.
    std::array<std::unique_ptr<PacketSpace>, 3> spaces_;
    DirectionalKeys zero_rtt_keys_;  // client: write; server: read
    OneRttKeys one_rtt_;
    bool has_one_rtt_write_ = false, has_one_rtt_read_ = false;

    LossDetector loss_;
    std::unique_ptr<CongestionController> cc_;
    Pacer pacer_;

    // Handshake progress.
    bool handshake_complete_ = false, handshake_confirmed_ = false;
    bool handshake_done_pending_ = false;
    bool peer_params_applied_ = false;
    TransportParameters peer_params_;
    bool received_first_packet_ = false;  // client: a server packet was processed
    bool retry_received_ = false;
    bool address_validated_ = false;       // server: §8.1
    bool peer_address_validated_ = false;  // client: the server validated us (Handshake acked)
    bool early_data_attempted_ = false;
    std::optional<Time> handshake_completed_at_;

    // Connection IDs (RFC 9000 §5.1).
    std::map<uint64_t, LocalConnectionId> local_cids_;
    uint64_t next_local_cid_seq_ = 0;
    std::map<uint64_t, PeerConnectionId> peer_cids_;
    uint64_t active_peer_cid_seq_ = 0;
    uint64_t peer_retire_prior_to_ = 0;
    std::deque<uint64_t> retire_pending_;
    std::deque<Connection::CidEvent> cid_events_;
    ConnectionId peer_cid_;  // the DCID we send to

    // Streams (RFC 9000 §2-§4).
    std::map<StreamId, std::unique_ptr<StreamRecord>> streams_;
    std::set<StreamId> streams_with_data_;  // round-robin candidates
    StreamId next_stream_to_send_ = 0;
    std::set<StreamId> streams_with_control_;
    std::unique_ptr<StreamLimits> stream_limits_;
    SendFlowController send_flow_;
    std::unique_ptr<ReceiveFlowController> recv_flow_;
    bool max_data_pending_ = false;
    bool data_blocked_pending_ = false;
    std::array<bool, 2> max_streams_pending_{};      // [bidi, uni]
    std::array<bool, 2> streams_blocked_pending_{};  // [bidi, uni]
    bool announced_streams_blocked_[2] = {false, false};

    // Path validation after the peer's address changed (RFC 9000 §8.2, §9.3).
    std::optional<std::array<uint8_t, 8>> path_challenge_pending_;      // to (re)send
    std::optional<std::array<uint8_t, 8>> path_challenge_outstanding_;  // awaiting the response
    bool pad_datagram_ = false;   // PATH_CHALLENGE/RESPONSE datagrams are 1200+ bytes (§8.2.1)
    bool may_be_padded_ = false;  // the datagram being built may get padding at its end

    // Other frames waiting for a packet.
    std::deque<std::array<uint8_t, 8>> path_responses_;
    std::deque<Bytes> datagrams_out_, datagrams_in_;
    std::optional<Bytes> new_token_pending_;

    // Undecryptable packets kept for when their keys arrive (RFC 9001 §5.7).
    struct Buffered {
        Path path;
        Ecn ecn;
        Bytes bytes;
    };
    std::deque<Buffered> undecryptable_;

    // Timers.
    std::optional<Time> idle_deadline_;
    std::optional<Time> handshake_deadline_;
    std::optional<Time> close_deadline_;  // end of closing / draining
    std::optional<Time> keep_alive_at_;
    Time last_ack_eliciting_sent_{};
    bool ack_eliciting_since_last_receive_ = false;

    // Closing (RFC 9000 §10.2.1).
    std::optional<Error> local_close_;
    bool close_frame_pending_ = false;
    uint64_t packets_since_close_ = 0;

    // ECN validation (RFC 9000 §13.4.2), per packet number space: the peer's last reported
    // counts; one state for the path.
    enum class EcnState : uint8_t { kTesting, kCapable, kFailed, kOff };
    EcnState ecn_state_ = EcnState::kTesting;
    std::array<EcnCounts, 3> ecn_acked_{};
    void validate_ecn(PacketNumberSpaceId space, const AckFrame& ack, const AckOutcome& outcome);
    Ecn send_ecn() const;

    // Anti-amplification accounting (RFC 9000 §8.1).
    uint64_t bytes_received_before_validation_ = 0;
    uint64_t bytes_sent_before_validation_ = 0;

    trace::RecoveryMetrics last_metrics_;
    std::string last_cc_state_;
    std::vector<Frame> trace_frames_;  // trace_packet's, reused: no allocation per packet
    std::optional<Time> last_loss_timer_;
    uint64_t key_generation_ = 0;  // 1-RTT key updates so far

    std::deque<ConnectionEvent> events_;
    size_t queued_datagram_events_ = 0, queued_token_events_ = 0;
    ConnectionStats stats_;
    size_t max_udp_payload_;
};

}  // namespace quic
