// The HTTP/3 session's implementation behind quic/http3/session.h (see there for what it
// does): the streams, the QPACK encoder and decoder, the frame readers.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http3/limits.h"
#include "http3/qpack_decoder.h"
#include "http3/qpack_encoder.h"
#include "http3/stream_readers.h"
#include "quic/http3/session.h"
#include "util/token_bucket.h"

namespace quic::h3 {

class SessionImpl {
  public:
    SessionImpl(std::shared_ptr<Connection> connection, Perspective perspective,
                SessionConfig config = {});
    ~SessionImpl();
    SessionImpl(const SessionImpl&) = delete;
    SessionImpl& operator=(const SessionImpl&) = delete;

    // Opens our control stream with SETTINGS first (§6.2.1) and the QPACK encoder and decoder
    // streams (RFC 9204 §4.2). Call once the handshake completes, or right away (a client with
    // 0-RTT; a server may send 0.5-RTT): streams the peer's limits do not allow yet are opened
    // when they do. We never send MAX_PUSH_ID, so a server may never push (§4.6).
    Status start();

    // The next event, draining the connection; nullopt when there is none for now.
    std::optional<SessionEvent> poll_event(Time now);
    // Server: when poll_event should be called even without connection news (a request's
    // header deadline, or the linger after shutdown).
    std::optional<Time> next_timeout() const;

    // --- client ---
    // Opens a request stream and sends the header section (pseudo-header fields are moved
    // first, §4.3.1). Fails with STREAM_LIMIT_ERROR (wait for StreamsAvailable), after GOAWAY
    // with H3_REQUEST_REJECTED, or with H3_MESSAGE_ERROR for a malformed request.
    Result<uint64_t> send_request(const std::vector<Field>& headers, bool end_stream);
    // Abandons a request: STOP_SENDING and RESET_STREAM (§4.1.1).
    Status cancel(uint64_t stream_id, uint64_t code = to_underlying(H3Error::kRequestCancelled));

    // --- server ---
    // Sends a (1xx interim or final) response header section, :status first.
    Status send_response(uint64_t stream_id, const std::vector<Field>& headers, bool end_stream);
    // Refuses a request: STOP_SENDING and RESET_STREAM (H3_REQUEST_REJECTED: not processed).
    Status reject(uint64_t stream_id, uint64_t code = to_underlying(H3Error::kRequestRejected));
    // Graceful shutdown (§5.2): GOAWAY with the first request stream not processed; later
    // requests are rejected; the connection is closed (H3_NO_ERROR) once the requests in flight
    // completed and their data was acknowledged (or shutdown_linger after they completed).
    Status shutdown(Time now);

    // --- both ---
    // DATA frames. Returns the bytes accepted (fewer, maybe 0, under flow-control backpressure:
    // offer the rest after StreamWritable). fin ends the message once all of data is accepted.
    Result<size_t> send_body(uint64_t stream_id, ByteSpan data, bool fin);
    Result<bool> send_body_source(uint64_t stream_id, uint64_t length, StreamSource source);
    // A trailer section, ending the message (§4.1).
    Status send_trailers(uint64_t stream_id, const std::vector<Field>& fields);
    // Body bytes of the peer's message, read straight from the connection. *fin is set once the
    // body is over (FIN or trailers reached). 0 without fin: wait for BodyReadable.
    Result<size_t> read_body(uint64_t stream_id, MutableByteSpan out, bool* fin);
    // Immediate close with an H3 code (H3_NO_ERROR for a plain close).
    void close(Time now, uint64_t code = to_underlying(H3Error::kNoError), std::string reason = {});

    Perspective perspective() const { return perspective_; }
    Connection& connection() { return *conn_; }
    const std::shared_ptr<Connection>& connection_ptr() const { return conn_; }
    // The peer's SETTINGS once received.
    const std::optional<Settings>& peer_settings() const { return peer_settings_; }
    std::optional<uint64_t> goaway_received() const { return goaway_received_; }
    std::optional<uint64_t> goaway_sent() const { return goaway_sent_; }
    // Request streams the session still tracks (in flight).
    size_t active_streams() const { return streams_.size(); }
    SessionStats stats() const;
    bool closed() const { return closed_; }

    // Tests (tests/sim): header deadlines queued (kMinHeaderDeadlineCompaction bounds them).
    size_t header_deadlines_queued_for_testing() const { return header_deadlines_.size(); }

  private:
    struct RequestStream;
    struct PeerUniStream;

    // connection events
    void handle(const ConnectionEvent& ev);
    void on_stream_opened(uint64_t id);
    void on_readable(uint64_t id);
    void on_reset(uint64_t id, uint64_t code);
    void on_stop_sending(uint64_t id, uint64_t code);
    void on_writable(uint64_t id);

    // our streams
    void open_local_streams();
    void write_local(int which, ByteSpan data);
    void flush_local(int which);
    void flush_encoder_stream();
    void flush_decoder_stream();

    // peer unidirectional streams
    void read_uni(uint64_t id, PeerUniStream& u);
    Status on_uni_header(uint64_t id, PeerUniStream& u);
    Status on_uni_data(PeerUniStream& u, ByteSpan data);
    Status on_control_frame(const ControlFrame& f);
    Status on_encoder_stream_progress();

    // request streams
    RequestStream* find(uint64_t id);
    RequestStream& add_stream(uint64_t id);
    void pump(RequestStream& s);
    Status pump_frames(RequestStream& s, bool* stop);
    Status feed_reader(RequestStream& s, ByteSpan bytes);
    Status on_header_section(RequestStream& s, HeaderSection section);
    Status decode_section(RequestStream& s);
    Status deliver_section(RequestStream& s, std::vector<Field> fields);
    Status on_fin(RequestStream& s);
    void release_header_budget(RequestStream& s);
    void abort_stream(RequestStream& s, uint64_t code, bool report);
    void forget(uint64_t id);
    void maybe_finish(RequestStream& s);
    Status write_frame_bytes(RequestStream& s, Bytes bytes, bool fin);
    Result<RequestStream*> body_stream(uint64_t stream_id);
    Status flush_stream(RequestStream& s);
    Result<Bytes> encode_headers_frame(uint64_t id, std::span<const Field> fields);
    Status check_sendable(RequestStream* s, uint64_t id) const;
    void after_goaway();

    void fail(const Error& e);
    void check_shutdown();
    // Server: rejects the requests whose header section missed its deadline; true if any was
    // (their streams are dead, to be erased).
    bool expire_header_deadlines();
    void compact_header_deadlines();

    std::shared_ptr<Connection> conn_;
    Perspective perspective_;
    SessionConfig config_;
    QpackEncoder encoder_;
    QpackDecoder decoder_;
    ControlStreamReader control_reader_;
    std::deque<SessionEvent> events_;
    Time now_{};
    bool started_ = false;
    bool closed_ = false;

    // Our unidirectional streams: control, QPACK encoder, QPACK decoder, grease.
    static constexpr int kControl = 0, kEncoder = 1, kDecoder = 2, kGrease = 3;
    struct LocalStream {
        std::optional<uint64_t> id;
        Bytes pending;  // bytes the connection did not accept yet (or before the stream opened)
        bool fin = false;
        bool wanted = false;
    };
    LocalStream local_[4];

    // The peer's streams.
    std::map<uint64_t, std::unique_ptr<PeerUniStream>> uni_;
    // qlog http3 events (draft-ietf-quic-qlog-h3-events); no-ops without a tracer.
    void trace_frame(bool created, uint64_t stream_id, std::string_view type, uint64_t length,
                     std::span<const Field> fields = {}, const Settings* settings = nullptr,
                     std::optional<uint64_t> id = std::nullopt) const;
    void trace_stream_type(uint64_t stream_id, bool local, std::string_view type) const;
    std::optional<uint64_t> peer_control_, peer_encoder_, peer_decoder_;
    Settings local_settings_;  // what our SETTINGS frame says (for the trace)
    std::optional<Settings> peer_settings_;
    std::map<uint64_t, std::unique_ptr<RequestStream>> streams_;
    // Server: the first client bidirectional stream index not seen yet (lower ones without an
    // entry in streams_ are finished).
    uint64_t next_peer_request_index_ = 0;
    size_t header_bytes_buffered_ = 0;
    Bytes scratch_;
    // Server: request streams by header deadline (request_header_timeout after they opened).
    // Deadlines grow with opening order, so this is a queue; entries whose stream delivered its
    // headers or is gone are skipped when they reach the front, or dropped by
    // compact_header_deadlines (kMinHeaderDeadlineCompaction).
    std::deque<std::pair<Time, uint64_t>> header_deadlines_;

    std::optional<uint64_t> goaway_received_, goaway_sent_;
    bool shutting_down_ = false;
    std::optional<Time> linger_deadline_;
    uint64_t bytes_written_ = 0;  // stream bytes handed to the connection

    SessionStats stats_;
    // Server: requests the client reset before our response completed (http3/limits.h,
    // kMaxRapidResets); empty: H3_EXCESSIVE_LOAD.
    TokenBucket rapid_resets_{kMaxRapidResets, kRapidResetRefillPerSecond, Time{}};
};

}  // namespace quic::h3
