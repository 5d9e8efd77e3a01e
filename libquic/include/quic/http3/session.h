// An HTTP/3 session (RFC 9114) over one quic::Connection: the control and QPACK streams, the
// request streams' frames, QPACK (RFC 9204), message validation and graceful shutdown. The
// building blocks (frame.h, stream_readers.h, qpack_*.h, message.h) do the parsing; this class
// owns the connection's streams and turns them into HTTP events.
//
// Sans-IO like the connection: the application calls poll_event(now) whenever the connection
// may have news (after datagrams and timeouts). The session drains the connection's events
// itself; HTTP/3-level ones come out as RequestHeaders, ResponseHeaders, ..., and the
// connection-level ones the application still needs (HandshakeCompleted, StreamWritable,
// ConnectionClosed, tickets, ...) are passed through unchanged.
//
// Bodies are never copied into session buffers: a DATA frame's payload stays in the
// connection's receive buffer (bounded by QUIC flow control) until read_body() reads it
// straight into the caller's buffer; only frame headers, HEADERS payloads (bounded by
// SessionConfig::max_buffered_header_bytes) and the unacknowledged tail of one DATA frame per
// stream (kMaxDataFramePayload) are held here.
//
// Errors: connection errors (RFC 9114 §8) close the connection with the H3 code
// (Error::application), reported as ConnectionClosed; stream errors (a malformed message,
// H3_MESSAGE_ERROR, §4.1.2) reset only that stream, reported as StreamAborted when the
// application knew the stream.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "quic/bytes.h"
#include "quic/connection.h"
#include "quic/events.h"
#include "quic/http3/error.h"
#include "quic/http3/field.h"
#include "quic/http3/perspective.h"
#include "quic/http3/settings.h"
#include "quic/random.h"
#include "quic/result.h"
#include "quic/stream_source.h"
#include "quic/time.h"

namespace quic::h3 {

// Largest DATA frame payload we write. A frame the connection accepts only in part keeps its
// tail here (so that send_body can count the whole frame as accepted), so this bounds that copy.
inline constexpr size_t kMaxDataFramePayload = 16 * 1024;

struct SessionConfig {
    // SETTINGS_MAX_FIELD_SECTION_SIZE we advertise (§7.2.4.1, §4.2.2); larger received
    // sections are answered per message (see Session).
    uint64_t max_field_section_size = 64 * 1024;
    // SETTINGS_QPACK_MAX_TABLE_CAPACITY we advertise and the most our encoder uses (RFC 9204 §5).
    uint64_t qpack_max_table_capacity = 4096;
    // SETTINGS_QPACK_BLOCKED_STREAMS we advertise (RFC 9204 §5).
    uint64_t qpack_blocked_streams = 16;
    // When set: a reserved SETTINGS entry (§7.2.4.1), a reserved frame on the control stream
    // (§7.2.8) and a reserved unidirectional stream (§6.2.3), so peers exercise §9.
    Random* grease = nullptr;
    // HEADERS payloads buffered across all request streams (being received, or blocked on
    // QPACK) at once. A new HEADERS frame that does not fit is refused per stream (server:
    // H3_REQUEST_REJECTED, safe to retry, §8.1; client: H3_EXCESSIVE_LOAD), so many slow
    // streams cannot make us hold many field sections. Must exceed the largest frame accepted
    // (max(max_field_section_size, kMaxHeadersFramePayload)).
    size_t max_buffered_header_bytes = 1024 * 1024;
    // Server: after shutdown(), close the connection at the latest this long after the last
    // in-flight request completed, if the client has not closed it first.
    Duration shutdown_linger = 5s;
    // Server: a request stream whose header section is not complete this long after it opened
    // is rejected (H3_REQUEST_REJECTED, §8.1; checklist 26 "slowloris"): a client sending its
    // headers a byte at a time, or never finishing them, holds a stream and header budget for
    // no longer. Real clients send a request's headers in one flight; 10 s covers several lost
    // round trips on a slow path. Zero: no limit.
    Duration request_header_timeout = 10s;
};

// --- events ---------------------------------------------------------------------------------

// Server: a request's header section. fields holds the pseudo-header fields first.
struct RequestHeaders {
    uint64_t stream_id;
    std::vector<Field> fields;
};
// Client: the final response's header section (fields includes :status).
struct ResponseHeaders {
    uint64_t stream_id;
    unsigned status;
    std::vector<Field> fields;
};
// Client: an interim (1xx) response (§4.1); the final response follows.
struct InterimResponse {
    uint64_t stream_id;
    unsigned status;
    std::vector<Field> fields;
};
// Body bytes can be read with read_body() (read until it returns 0; the event comes again when
// more arrive).
struct BodyReadable {
    uint64_t stream_id;
};
struct Trailers {
    uint64_t stream_id;
    std::vector<Field> fields;
};
// The peer's message ended (FIN) after a complete message whose body was read entirely.
struct MessageComplete {
    uint64_t stream_id;
};
enum class AbortOrigin : uint8_t {
    kPeerReset,        // RESET_STREAM: the peer abandoned its message
    kPeerStopSending,  // STOP_SENDING: the peer will not read ours (we reset our side)
    kLocal,            // we reset the stream (malformed message, GOAWAY, too large, ...)
};
// A stream the application knew ended abnormally; the session forgets it.
struct StreamAborted {
    uint64_t stream_id;
    uint64_t error_code;
    AbortOrigin origin;
};
// The peer sent GOAWAY (§5.2): from a server, requests on streams >= id will not be processed
// (the session aborts them with H3_REQUEST_REJECTED, safe to retry) and new ones fail.
struct GoAwayReceived {
    uint64_t id;
};

using SessionEvent = std::variant<RequestHeaders, ResponseHeaders, InterimResponse, BodyReadable,
                                  Trailers, MessageComplete, StreamAborted, GoAwayReceived,
                                  // Passed through from the connection:
                                  HandshakeCompleted, HandshakeConfirmed, StreamWritable,
                                  StreamsAvailable, DatagramReceived, SessionTicketReceived,
                                  NewTokenReceived, ZeroRttRejected, ConnectionClosed>;

struct SessionStats {
    uint64_t requests_sent = 0, requests_received = 0;
    uint64_t responses_sent = 0, responses_received = 0;
    // QPACK: sections we encoded, those referencing our dynamic table (Required Insert Count
    // above 0), entries our encoder inserted; sections we decoded, those that referenced the
    // peer's table, those that had to wait for it (blocked, RFC 9204 §2.2.1).
    uint64_t sections_encoded = 0, sections_encoded_dynamic = 0, encoder_insert_count = 0;
    uint64_t sections_decoded = 0, sections_decoded_dynamic = 0, sections_blocked = 0;
    uint64_t decoder_insert_count = 0;
    uint64_t stream_errors_sent = 0;  // streams we reset because of the peer (malformed, ...)
    uint64_t requests_timed_out = 0;  // server: headers incomplete at request_header_timeout
};

class SessionImpl;

class Session {
  public:
    Session(std::shared_ptr<Connection> connection, Perspective perspective,
            SessionConfig config = {});
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Opens our control stream with SETTINGS first (§6.2.1) and the QPACK encoder and decoder
    // streams (RFC 9204 §4.2). Call once the handshake completes, or right away (a client with
    // 0-RTT; a server may send 0.5-RTT): streams the peer's limits do not allow yet are opened
    // when they do. We never send MAX_PUSH_ID, so a server may never push (§4.6).
    Status start();

    // The next event, draining the connection; nullopt when there is none for now.
    std::optional<SessionEvent> poll_event(Time now);
    // Server after shutdown(): when poll_event should be called even without connection news.
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
    // The rest of the body as one DATA frame of `length` bytes that `source` supplies as the
    // connection sends them (Connection::write_source: a file is not held in memory), ending
    // the message; a source that fails resets the stream with H3_INTERNAL_ERROR. False, with
    // nothing taken, while earlier frames still wait for room: call again on StreamWritable.
    Result<bool> send_body_source(uint64_t stream_id, uint64_t length, StreamSource source);
    // A trailer section, ending the message (§4.1).
    Status send_trailers(uint64_t stream_id, const std::vector<Field>& fields);
    // Body bytes of the peer's message, read straight from the connection. *fin is set once the
    // body is over (FIN or trailers reached). 0 without fin: wait for BodyReadable.
    Result<size_t> read_body(uint64_t stream_id, MutableByteSpan out, bool* fin);
    // Immediate close with an H3 code (H3_NO_ERROR for a plain close).
    void close(Time now, uint64_t code = to_underlying(H3Error::kNoError), std::string reason = {});

    Perspective perspective() const;
    Connection& connection();
    const std::shared_ptr<Connection>& connection_ptr() const;
    // The peer's SETTINGS once received.
    const std::optional<Settings>& peer_settings() const;
    std::optional<uint64_t> goaway_received() const;
    std::optional<uint64_t> goaway_sent() const;
    // Request streams the session still tracks (in flight).
    size_t active_streams() const;
    SessionStats stats() const;
    bool closed() const;

  private:
    friend struct SessionTestAccess;  // tests only (libquic/http3/test_access.h)
    std::unique_ptr<SessionImpl> impl_;
};

}  // namespace quic::h3
