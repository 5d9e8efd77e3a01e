// A QUIC connection (RFC 9000), client or server, sans-IO: datagrams and time come in through
// on_datagram/on_timeout, datagrams go out through poll_transmit, and the application talks to
// it through stream calls and poll_event(). Created by the Endpoint (or directly in tests).
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quic/address.h"
#include "quic/config.h"
#include "quic/connection_id.h"
#include "quic/connection_info.h"
#include "quic/events.h"
#include "quic/frame.h"
#include "quic/random.h"
#include "quic/result.h"
#include "quic/stream_source.h"
#include "quic/tls_context.h"
#include "quic/transmit.h"
#include "quic/transport_parameters.h"

namespace quic::trace {
class Tracer;
}

namespace quic {

class ConnectionImpl;
struct ConnectionTestAccess;

class Connection {
  public:
    struct Params {
        Role role = Role::kClient;
        ConnectionConfig config;
        std::shared_ptr<TlsContext> tls;
        Random* random = nullptr;
        Version version = 0x00000001;
        Path path;
        // Client: the random DCID of its first Initial. Server: the client's first DCID.
        ConnectionId original_dcid;
        // Our first source connection ID.
        ConnectionId local_cid;
        // Server: the client's SCID. Client: unused (the original DCID is used until the
        // server's SCID arrives).
        ConnectionId peer_cid;
        // Client: SNI and certificate name; a resumption ticket; a token for the Initial.
        std::string server_name;
        Bytes resumption_ticket;
        Bytes token;
        // Server: the DCID of the client's Initial, from which Initial keys derive, when it
        // differs from original_dcid (after a Retry: the Retry's SCID).
        std::optional<ConnectionId> initial_keys_dcid;
        // Server: the SCID of the Retry we sent, when this connection follows one (§7.3).
        std::optional<ConnectionId> retry_source_cid;
        // Server: the client's address is validated (Retry or NEW_TOKEN token): no 3x limit.
        bool address_validated = false;
        // Stateless reset tokens for the connection IDs we issue (RFC 9000 §10.3.2).
        std::function<StatelessResetToken(const ConnectionId&)> reset_token_for;
        // New connection IDs for NEW_CONNECTION_ID (the endpoint routes them).
        std::function<ConnectionId()> new_connection_id;
        // Receives the connection's events (qlog); null: nothing is traced or formatted.
        std::shared_ptr<trace::Tracer> tracer;
        // Server: mints NEW_TOKEN tokens for the client's address (RFC 9000 §8.1.3) and the
        // connection's negotiated version (RFC 9369 §5); may be empty.
        std::function<Bytes(const SocketAddress&, Version)> new_token_for;
        // Called after the application acted on the connection (streams, datagrams, close, key
        // update), so that the endpoint polls it for datagrams and re-reads its timer without
        // polling every connection; may be empty.
        std::function<void()> wake;
    };

    static Result<std::unique_ptr<Connection>> create(Time now, Params params);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // --- driven by the endpoint / I/O layer ------------------------------------------------
    // One UDP datagram for this connection (possibly coalesced packets). Decrypted in place.
    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    // Writes the next datagram to send into `buffer` (at least 1200 bytes, ideally 1500+).
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer);
    std::optional<Time> next_timeout() const;
    void on_timeout(Time now);

    // --- the application -------------------------------------------------------------------
    std::optional<ConnectionEvent> poll_event();
    // Sees every event as poll_event() hands it out, whoever polls (the uv layer keeps
    // session tickets and tokens and learns of the handshake and the close this way, also
    // when a protocol layer such as HTTP/3 polls the connection itself). One observer.
    void set_event_observer(std::function<void(const ConnectionEvent&)> observer);

    // Opens a stream; fails with STREAM_LIMIT_ERROR (not a connection error) when the peer's
    // limit is reached: wait for StreamsAvailable.
    Result<uint64_t> open_stream(bool bidirectional);
    // Queues data (and FIN); returns the bytes accepted, fewer when the send buffer is full
    // (StreamWritable follows). Errors: unknown or closed stream, STREAM_STATE_ERROR.
    Result<size_t> write(uint64_t stream_id, ByteSpan data, bool fin = false);
    // Ends the stream with `prefix` (at most kMaxSourcePrefix bytes) and then `length` bytes
    // that `source` supplies as packets are built, read again for retransmissions and dropped
    // once all is acknowledged (quic/stream_source.h): a large file is neither held in memory
    // nor copied twice. All is accepted at once, whatever the send buffer holds. A source that
    // fails resets the stream with `reset_code`. Errors: as write(), or a prefix too long.
    Status write_source(uint64_t stream_id, ByteSpan prefix, uint64_t length, StreamSource source,
                        uint64_t reset_code);
    Status finish(uint64_t stream_id);
    // Reads in-order data; *fin is set once everything up to the FIN has been read.
    Result<size_t> read(uint64_t stream_id, MutableByteSpan out, bool* fin);
    Status reset_stream(uint64_t stream_id, uint64_t application_error_code);
    Status stop_sending(uint64_t stream_id, uint64_t application_error_code);
    // RFC 9221: fails when the peer does not accept datagrams or this one is too large.
    Status send_datagram(ByteSpan data);
    size_t max_datagram_size() const;
    // For test tools (quiver replay): sends a transport frame exactly as given, once, in the
    // next 1-RTT packet. It is never retransmitted, and our own state does not follow it (a
    // MAX_STREAMS sent this way does not change the limit we enforce). Only frames a test of
    // the peer can sensibly inject: PING, MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS, DATA_BLOCKED,
    // STREAM_DATA_BLOCKED, STREAMS_BLOCKED, STREAM, RESET_STREAM, STOP_SENDING and
    // RETIRE_CONNECTION_ID; others, a frame above 1024 bytes, or more than 16 waiting
    // (conn/limits.h) fail with kInvalidArgument.
    Status inject_frame(const Frame& frame);
    // RFC 9001 §6: starts a key update (fails before the handshake is confirmed or while the
    // previous update is unacknowledged).
    Status initiate_key_update();
    // Application close (CONNECTION_CLOSE 0x1d, or 0x1c with APPLICATION_ERROR during the
    // handshake, RFC 9000 §10.2.3).
    void close(Time now, uint64_t application_error_code, std::string reason);

    // Client: active migration (RFC 9000 §9.2): probes the server from `new_local` (a local
    // address the I/O layer receives on too) with a fresh connection ID, and moves there once
    // the path is validated; a path that fails validation is given up and the connection
    // stays where it was (§9.3.2). Fails for a server, before the handshake is confirmed,
    // when the server set disable_active_migration, or without a spare connection ID.
    // (A server's preferred address is followed on its own: ConnectionConfig.)
    Status migrate(Time now, const SocketAddress& new_local);

    ConnectionState state() const;
    bool is_closed() const { return state() == ConnectionState::kClosed; }
    bool is_handshake_complete() const;
    Role role() const;
    const ConnectionInfo& info() const;
    ConnectionStats stats() const;
    const Path& path() const;
    const ConnectionId& original_dcid() const;
    // Set once the connection closed: who closed it and why.
    const std::optional<ConnectionClosed>& close_reason() const;

    // --- the endpoint ------------------------------------------------------------------------
    struct CidEvent {
        bool issued;  // false: retired; the endpoint stops routing it
        ConnectionId cid;
    };
    std::optional<CidEvent> poll_cid_event();
    // RFC 9000 §10.3.1: does this datagram end with a reset token the peer gave us?
    bool is_stateless_reset(ByteSpan datagram) const;
    void on_stateless_reset(Time now);
    // A stateless reset token the peer gave us (transport parameters, NEW_CONNECTION_ID)
    // became usable, or was retired with its connection ID: the endpoint indexes them to
    // recognise a reset without asking every connection (RFC 9000 §10.3.1).
    struct ResetTokenEvent {
        bool added;  // false: retired
        StatelessResetToken token;
    };
    std::optional<ResetTokenEvent> poll_reset_token_event();
    // Server: the client's address is validated (RFC 9000 §8.1: a Retry or NEW_TOKEN token, or
    // a Handshake packet from it). Always true for a client.
    bool is_address_validated() const;
    // The endpoint gives up on a handshake (a client that never proved its address): closed at
    // once, nothing sent, reported as a handshake timeout.
    void abandon(Time now);
    // The path cannot carry UDP payloads larger than max_udp_payload (an ICMP packet too big
    // or fragmentation needed with its MTU, less the IP and UDP headers; EMSGSIZE on send).
    // DPLPMTUD checks the claim (ignored below 1200, RFC 9000 §14.2.1) and lowers the size of
    // what the connection sends.
    void on_packet_too_big(Time now, size_t max_udp_payload);

    // The connection's tracer (null when not traced), for layers above (HTTP/3).
    trace::Tracer* tracer() const;

  private:
    friend struct ConnectionTestAccess;  // tests only (libquic/conn/test_access.h)
    explicit Connection(std::unique_ptr<ConnectionImpl> impl);
    void woken() const {
        if (wake_) wake_();
    }
    std::unique_ptr<ConnectionImpl> impl_;
    std::function<void(const ConnectionEvent&)> observer_;
    std::function<void()> wake_;  // Params::wake
};

}  // namespace quic
