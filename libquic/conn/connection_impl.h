// The connection's state machine (RFC 9000, 9001, 9002): ConnectionImpl ties together the
// types that each own one concern. Files:
//   connection.cpp      construction, the application API, events, datagrams (RFC 9221)
//   conn_receive.cpp    datagrams -> packets -> frames, each frame to its owner (RFC 9000 §12,
//                       §17, §19); Version Negotiation, Retry, a peer's new address (§9.3)
//   conn_recovery.cpp   ACK frames; what acknowledged and lost packets carried (§13.3,
//                       RFC 9002)
//   conn_send.cpp       packet assembly, coalescing, padding, pacing (§12.2, §13, §14), the
//                       frames of a packet in order, CONNECTION_CLOSE datagrams
//   conn_crypto.cpp     TLS, keys per level, transport parameters, key update (RFC 9001)
//   conn_version.cpp    version negotiation (RFC 9368, 9369): the server's upgrade, the
//                       client's switch and its new first flight after Version Negotiation
//   conn_timers.cpp     loss detection, idle and handshake timeouts, closing/draining (§10)
//   conn_trace.cpp      reporting to the tracer (qlog)
//   migration.cpp       paths: candidates, validation, migration, preferred address, fallback
//                       (§8.2, §9)
// and the concerns:
//   streams.*           StreamManager: streams, stream limits, flow control (§2-§4)
//   connection_ids.*    ConnectionIdManager: ours and the peer's, reset tokens (§5.1, §10.3)
//   pmtud.*             PmtuDiscovery: DPLPMTUD's search and black-hole detection (§14.3,
//                       RFC 8899); conn_send.cpp sends its probes
//   spin_bit.h          SpinBit: the latency spin bit (§17.4)
//   path.*, ecn.*       PathState: a path, its validation, anti-amplification, ECN (§8, §9,
//                       §13.4)
//   pending_frames.h    PendingFrames: the frames waiting for a packet (not stream data)
//   event_queue.h       EventQueue: what the application polls
//   frame_writer.h      FrameWriter: writes a frame into a packet and records it
//   version_negotiation.*  which version to pick, Version Information and its checks
//   limits.h            named caps on what a peer can make us hold
//   test_access.h       tests' access to ConnectionImpl
#pragma once

#include <array>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cc/congestion_controller.h"
#include "cc/pacer.h"
#include "conn/connection_ids.h"
#include "conn/event_queue.h"
#include "conn/frame_writer.h"
#include "conn/glitch.h"
#include "conn/limits.h"
#include "conn/path.h"
#include "conn/pending_frames.h"
#include "conn/pmtud.h"
#include "conn/spin_bit.h"
#include "conn/streams.h"
#include "crypto/cipher_suite.h"
#include "crypto/packet_protection.h"
#include "quic/connection.h"
#include "quic/frame.h"
#include "quic/tracer.h"
#include "recovery/loss_detector.h"
#include "recovery/received_packet_tracker.h"
#include "stream/receive_buffer.h"
#include "stream/send_buffer.h"
#include "tls/tls_session.h"
#include "wire/packet_header.h"

namespace quic {

inline CongestionControlAlgorithm to_algorithm(CongestionControl c) {
    switch (c) {
        case CongestionControl::kNewReno:
            return CongestionControlAlgorithm::kNewReno;
        case CongestionControl::kBbr:
            return CongestionControlAlgorithm::kBbr;
        case CongestionControl::kCubic:
            break;
    }
    return CongestionControlAlgorithm::kCubic;
}

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
    Status write_source(StreamId id, ByteSpan prefix, uint64_t length, StreamSource source,
                        uint64_t reset_code);
    Result<size_t> read(StreamId id, MutableByteSpan out, bool* fin);
    Status reset_stream(StreamId id, uint64_t code);
    Status stop_sending(StreamId id, uint64_t code);
    Status send_datagram(ByteSpan data);
    Status inject_frame(const Frame& frame);
    size_t max_datagram_size() const;
    Status initiate_key_update();
    // Tests: a key update without initiate_key_update's checks (a peer breaking §6.1).
    void update_write_keys_for_testing() {
        if (has_one_rtt_write_) update_write_keys();
    }
    void close(Time now, uint64_t code, std::string reason);
    std::optional<Connection::CidEvent> poll_cid_event();
    bool is_stateless_reset(ByteSpan datagram) const;
    void on_stateless_reset(Time now);
    std::optional<Connection::ResetTokenEvent> poll_reset_token_event();
    bool address_validated() const { return path_.validated(); }
    void abandon(Time now);
    Status migrate(Time now, const SocketAddress& new_local);
    // The path cannot carry datagrams larger than max_udp_payload (ICMP packet too big,
    // EMSGSIZE): DPLPMTUD validates and applies it (RFC 9000 §14.2.1, RFC 8899 §4.6).
    void on_packet_too_big(Time now, size_t max_udp_payload);
    void restart_pmtud(Time now);               // a new network path (migration.cpp)
    void resend_in_probe(PacketSpace& sp);      // PTO: stream data of the oldest packet in flight
    void resend_crypto_on_duplicate_initial();  // RFC 9002 §6.2.3: the peer lacks our flight

    ConnectionState state() const { return state_; }
    bool handshake_complete() const { return handshake_complete_; }
    Role role() const { return role_; }
    const ConnectionInfo& info() const { return info_; }
    ConnectionStats stats() const;
    const Path& path() const { return path_.addresses(); }
    const ConnectionId& original_dcid() const { return original_dcid_; }
    const std::optional<ConnectionClosed>& close_reason() const { return close_reason_; }
    trace::Tracer* tracer() const { return tracer_.get(); }
    // Tests: the connection ID packets to us carry (tests/sim forges packets with it).
    const ConnectionId& source_cid_for_testing() const { return cids_.source_cid(); }
    std::optional<ConnectionId> local_cid_for_testing(uint64_t sequence) const {
        auto it = cids_.local_cids().find(sequence);
        if (it == cids_.local_cids().end()) return std::nullopt;
        return it->second.cid;
    }
    size_t undecryptable_buffered_for_testing() const { return undecryptable_.size(); }
    size_t reassembly_fragments_for_testing() const { return streams_.reassembly_fragments(); }
    uint64_t next_packet_number_for_testing(PacketNumberSpaceId id) const {
        return space(id).next_packet_number;
    }
    bool packet_recorded_for_testing(PacketNumberSpaceId id, uint64_t pn) const {
        return space(id).received.is_duplicate(pn);
    }
    size_t sent_packet_slots_for_testing(PacketNumberSpaceId id) const {
        return loss_.sent_packet_slots(id);
    }
    bool holds_tls_for_testing() const { return tls_ != nullptr; }
    Bytes seal_packet_for_testing(Time now, PacketType type, ByteSpan payload,
                                  uint8_t first_byte_bits);

    // For tests (a packet encoder that needs no keys): processes `payload` as the frames of a
    // decrypted packet of `type`, with the error handling of a received packet.
    void receive_frames_for_testing(Time now, PacketType type, ByteSpan payload);
    void receive_frames_on_path_for_testing(Time now, const Path& path, ByteSpan payload,
                                            size_t datagram_size);

    // TlsSession::Handler
    bool on_secret(EncryptionLevel level, bool for_writing, uint16_t cipher_suite,
                   ByteSpan secret) override;
    void on_handshake_data(EncryptionLevel level, ByteSpan data) override;
    void on_session_ticket(Bytes session) override;
    void on_early_data_rejected() override;
    bool on_client_hello(ByteSpan peer_transport_parameters) override;

  private:
    // --- receive (conn_receive.cpp) ---
    void process_packet(Time now, const Path& path, Ecn ecn, MutableByteSpan packet,
                        const PacketHeader& header, size_t datagram_size);
    struct OpenedPacket;
    bool may_open(Time now, const PacketHeader& header, size_t size);
    bool open_packet(Time now, const Path& path, Ecn ecn, MutableByteSpan packet,
                     const PacketHeader& header, OpenedPacket& out);
    void on_packet_opened(Time now, const Path& path, Ecn ecn, const PacketHeader& header,
                          size_t packet_size, size_t datagram_size, const OpenedPacket& op);
    bool handle_version_negotiation(Time now, const PacketHeader& header);
    bool handle_retry(Time now, ByteSpan packet, const PacketHeader& header);
    Status process_frames(Time now, PacketType type, ByteSpan payload, bool& ack_eliciting,
                          bool& probing_only);
    Status on_frame(Time now, PacketType type, const Frame& frame);
    size_t queued_control_frames() const;
    Status on_crypto_frame(Time now, PacketSpace& space, const CryptoFrame& f);
    void on_connection_close_frame(Time now, const ConnectionCloseFrame& f);
    Status on_handshake_done_frame(Time now);
    Status on_new_token_frame(const NewTokenFrame& f);
    Status on_datagram_frame(Time now, const DatagramFrame& f);  // connection.cpp
    void buffer_undecryptable(const Path& path, Ecn ecn, ByteSpan packet);
    void replay_undecryptable(Time now);

    // --- paths (migration.cpp) ---
    PathState* find_path(const Path& addresses);
    PathState& receiving_path(Time now, const Path& addresses, PacketType type,
                              size_t datagram_size);
    void on_peer_address_change(Time now, const Path& path);
    void on_path_challenge_frame(const PathChallengeFrame& f);
    void on_path_response_frame(Time now, const PathResponseFrame& f);
    void on_path_challenge_lost(const PathState::Challenge& data);
    PathState& add_candidate(Time now, const Path& addresses, bool ours);
    void drop_candidate(std::list<PathState>::iterator it);
    void promote(Time now, std::list<PathState>::iterator it);
    void probe_preferred_address(Time now);
    Duration path_validation_timeout() const;
    std::optional<Time> next_path_timeout() const;
    std::optional<Time> quiet_probe_at() const;
    void on_path_timeout(Time now);
    std::optional<Transmit> poll_probe_transmit(Time now, MutableByteSpan buffer);
    // The DCID of the packet being built: a candidate path's own, or the active one (§9.5).
    const ConnectionId& sending_dcid() const {
        return tx_path_ && tx_path_->peer_cid() ? tx_path_->peer_cid()->cid : cids_.peer_cid();
    }

    // --- ACKs and losses (conn_recovery.cpp) ---
    Status on_ack_frame(Time now, PacketNumberSpaceId space, const AckFrame& ack);
    void apply_ack_outcome(Time now, AckOutcome& outcome, PacketNumberSpaceId space);
    void on_packet_acked(Time now, PacketNumberSpaceId space, const SentPacket& p);
    void on_packet_lost(PacketNumberSpaceId space, const SentPacket& p);
    void on_control_frame_lost(const SentControlFrame& c);
    // DPLPMTUD (RFC 9000 §14.3): what became of an application packet, and a new PLPMTU.
    void pmtud_on_acked(Time now, const SentPacket& p, bool& changed);
    void pmtud_on_lost(Time now, const SentPacket& p, bool& changed);
    void on_pmtu_changed(Time now);

    // --- send (conn_send.cpp) ---
    struct PacketPlan;
    bool build_packet(Time now, PacketSpace& space, PacketType type, ByteWriter& datagram,
                      PacketPlan& plan, bool& ack_eliciting_out);
    bool write_header(ByteWriter& datagram, PacketSpace& space, PacketType type, uint64_t pn,
                      PacketPlan& plan, size_t min_pn_length = 1);
    std::optional<Transmit> seal_datagram(Time now, MutableByteSpan buffer,
                                          std::vector<PacketPlan>& plans, bool discard_initial,
                                          PathState& on);
    bool seal_packet(Time now, MutableByteSpan datagram, const PacketPlan& plan);
    void pad_last_packet(ByteWriter& datagram, PacketPlan& last, size_t max);
    size_t write_frames(PacketSpace& space, PacketType type, ByteWriter& w, SentPacket& sent,
                        bool allow_data);
    void write_control_frames(FrameWriter& out);
    bool has_data_to_send(const PacketSpace& space) const;
    size_t current_max_udp_payload() const;
    std::optional<size_t> amplification_budget() const;
    void on_packet_sent(Time now, PacketSpace& space, SentPacket&& sent);
    std::optional<Transmit> build_close_datagram(Time now, MutableByteSpan buffer);
    std::optional<Transmit> build_pmtu_probe(Time now, MutableByteSpan buffer);

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
    void update_write_keys();
    DirectionalKeys* read_keys_for(PacketType type, bool key_phase, uint64_t pn,
                                   bool& is_next_phase);
    // RFC 9001 §6.6: the AEAD limits of the negotiated suite (or the test override).
    uint64_t confidentiality_limit() const;
    uint64_t integrity_limit() const;
    void check_confidentiality_limit(Time now);
    bool on_authentication_failure(Time now);
    PacketSpace& space(PacketNumberSpaceId id) { return *spaces_[static_cast<size_t>(id)]; }
    const PacketSpace& space(PacketNumberSpaceId id) const {
        return *spaces_[static_cast<size_t>(id)];
    }
    RecoveryContext recovery_context() const;

    // --- version negotiation (conn_version.cpp, RFC 9368, RFC 9369) ---
    void adopt_ticket_version();
    void switch_version(Version negotiated);
    bool may_switch_to(const PacketHeader& header) const;
    bool open_in_negotiated_version(Time now, const Path& path, Ecn ecn, MutableByteSpan packet,
                                    const PacketHeader& header, OpenedPacket& out);
    bool restart_after_version_negotiation(Time now, Version next);
    Status validate_peer_version_information(const TransportParameters& tp) const;
    DirectionalKeys& initial_read_keys(Version packet_version);

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
    void on_loss_detection_timeout(Time now);
    void update_pacer(Time now);

    // --- configuration and collaborators ---
    Role role_;
    ConnectionConfig config_;
    std::shared_ptr<TlsContext> tls_context_;
    Random& random_;
    Version version_;  // the negotiated version (RFC 9368 §1.2), once negotiation is done
    // The client's Chosen Version: the version of this connection's first flight (client: of
    // this attempt; server: of the client's Initials). 0-RTT stays in it (RFC 9369 §4).
    Version chosen_version_;
    bool acted_on_version_negotiation_ = false;  // client: this attempt follows a VN packet
    // Server after an upgrade: the keys of the client's Initials in the Chosen Version, kept
    // until a Handshake packet in the negotiated version arrives (RFC 9369 §4).
    DirectionalKeys chosen_version_initial_read_;
    ConnectionId original_dcid_;
    ConnectionId initial_dcid_for_keys_;  // the DCID Initial keys derive from (changes on Retry)
    std::optional<ConnectionId> retry_source_cid_;
    std::string server_name_;
    Bytes token_;              // client: the token we put in our Initials
    Bytes resumption_ticket_;  // client
    std::function<Bytes(const SocketAddress&, Version)> new_token_for_;
    std::shared_ptr<trace::Tracer> tracer_;  // null: no tracing

    std::unique_ptr<TlsSession> tls_;  // server: null once the handshake completed (feed_tls)
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
    bool crypto_frame_dropped_ = false;         // in the packet being processed (on_crypto_frame)
    unsigned crypto_resends_on_duplicate_ = 0;  // RFC 9002 §6.2.3; kMaxCryptoResendsOnDuplicate

    LossDetector loss_;
    std::unique_ptr<CongestionController> cc_;
    Pacer pacer_;

    // Handshake progress.
    bool handshake_complete_ = false, handshake_confirmed_ = false;
    bool handshake_done_sent_ = false;  // server: a client may be confirmed from then on
    bool peer_params_applied_ = false;
    TransportParameters peer_params_;
    bool received_first_packet_ = false;  // client: a server packet was processed
    bool retry_received_ = false;
    bool peer_address_validated_ = false;  // client: the server validated us (Handshake acked)
    bool early_data_attempted_ = false;
    std::optional<Time> handshake_completed_at_;

    // The concerns, each in its own type. Frames waiting for a packet (other than stream
    // data) are set and cleared by them in pending_; the application's events go to events_.
    PendingFrames pending_;
    EventQueue events_;
    PathState path_;  // the active path
    // Paths being validated beside it (migration.cpp): ours (the preferred address, a new
    // local address) and the peer's new 4-tuples; at most kMaxCandidatePaths. A list: it
    // allocates nothing while empty (nearly always), where a deque holds a block (issue 14).
    std::list<PathState> candidates_;
    // §9.3.2: the last validated path, to go back to if the new active one fails validation.
    // Null nearly always: a pointer, not 320 bytes in every connection (issue 14).
    std::unique_ptr<PathState> fallback_path_;
    Path rx_path_;                  // the path of the packet being processed
    PathState* tx_path_ = nullptr;  // the candidate a probe datagram is built for
    std::optional<PreferredAddress> preferred_address_;  // server: ours, in our parameters
    bool preferred_address_probed_ = false;              // client
    PmtuDiscovery pmtud_;
    bool pmtu_search_done_traced_ = false;  // mtu_updated "done" reported for this search
    SpinBit spin_;
    ConnectionIdManager cids_;
    GlitchBudget glitches_;  // useless frames from the peer (declared before its users)
    StreamManager streams_;

    // The datagram being built.
    bool pad_datagram_ = false;   // PATH_CHALLENGE/RESPONSE datagrams are 1200+ bytes (§8.2.1)
    bool may_be_padded_ = false;  // the datagram being built may get padding at its end

    // Undecryptable packets kept for when their keys arrive (RFC 9001 §5.7).
    struct Buffered {
        Path path;
        Ecn ecn;
        Bytes bytes;
    };
    std::vector<Buffered> undecryptable_;  // at most kMaxUndecryptablePackets

    // Timers.
    std::optional<Time> idle_deadline_;
    std::optional<Time> handshake_deadline_;
    std::optional<Time> close_deadline_;  // end of closing / draining
    std::optional<Time> keep_alive_at_;
    // Quiet-path probes (conn_timers.cpp, quiet_probe_at): when the last packet came in, and
    // how many PINGs went out since the last ack-eliciting one did (their backoff).
    Time last_received_at_{};
    unsigned quiet_probes_ = 0;
    Time last_ack_eliciting_sent_{};
    bool ack_eliciting_since_last_receive_ = false;

    // Closing (RFC 9000 §10.2.1).
    std::optional<Error> local_close_;
    uint64_t packets_since_close_ = 0;

    trace::RecoveryMetrics last_metrics_;
    std::string last_cc_state_;
    std::vector<Frame> trace_frames_;  // trace_packet's, reused: no allocation per packet
    std::optional<Time> last_loss_timer_;
    uint64_t key_generation_ = 0;           // 1-RTT key updates so far
    uint64_t authentication_failures_ = 0;  // RFC 9001 §6.6, across all keys but Initial

    ConnectionStats stats_;
    size_t max_udp_payload_;
};

}  // namespace quic
