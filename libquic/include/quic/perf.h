// The QUIC performance protocol (draft-banks-quic-performance-00, ALPN "perf") over one
// quic::Connection, sans-IO like HTTP/3's Session: a Server answers every request stream a
// client opens, a Client makes requests and reports each one's end. Both drain the
// connection's events themselves: the application calls their poll function whenever the
// connection may have news (after datagrams and timeouts), and the libuv layer drives them
// through uv::Connection::take_events().
//
// The protocol (§2.3): the client opens a stream, writes the size of the response it wants as
// 8 bytes in network byte order (§2.3.1), then any bytes it wants to upload, then FIN. The
// server reads the size, drains the upload, and sends that many bytes back and FIN, on the
// same stream when it is bidirectional, else on a unidirectional stream of its own (§2.3.2).
// A size of 2^64-1 asks for an unlimited response, which the client ends with STOP_SENDING.
// A stream that ends before its 8 bytes arrive is ignored (§2.3.1). Payload bytes are zeros.
//
// Neither side ever buffers payload: bytes read are counted and dropped, bytes sent come from
// one zero buffer. Everything a peer can make us track is bounded by the connection's stream
// limits or by a named cap below.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>

#include "quic/bytes.h"
#include "quic/connection.h"
#include "quic/events.h"
#include "quic/result.h"
#include "quic/time.h"

namespace quic::perf {

// §2.1.
inline constexpr const char* kAlpn = "perf";
// §2.3.1: the request's first bytes, the response size.
inline constexpr size_t kRequestPrefixSize = 8;
// §2.3.1: "MAX_UINT64 ... an unlimited server response"; the client ends it with
// STOP_SENDING. As an upload size (quiver's use): upload until Client::stop.
inline constexpr uint64_t kUnlimited = UINT64_MAX;

// Application error codes on streams. The draft defines none; these are quiver's.
// STOP_SENDING that ends an unlimited response, a RESET_STREAM that answers one.
inline constexpr uint64_t kNoError = 0x0;
// The server refuses a response above its cap (ServerConfig::max_response_size): STOP_SENDING
// on the request while its upload is still arriving, and RESET_STREAM on the response
// stream: the request's own when bidirectional, else a new unidirectional stream reset before
// any byte (the client gives it to its oldest unanswered unidirectional request).
inline constexpr uint64_t kRefused = 0x1;
// A stream the protocol has no use for (a server-initiated bidirectional stream).
inline constexpr uint64_t kUnexpectedStream = 0x2;
// The client reset its request before the FIN: the server abandons the response.
inline constexpr uint64_t kRequestAborted = 0x3;

// Responses on unidirectional streams that wait for the client's stream credit (MAX_STREAMS,
// RFC 9000 §4.6). The client gets its own uni credit back as soon as we have read a request
// stream, so nothing else bounds how many requests can wait for a response stream: 4096
// pending responses (a few bytes each) cover any client that grants credit at all; beyond
// it requests are refused.
inline constexpr size_t kMaxPendingUniResponses = 4096;
// Requests a Client tracks at once (those waiting for a response stream included): the
// caller chooses its concurrency, this only stops a runaway caller.
inline constexpr size_t kMaxClientRequests = 65536;
// Bytes read or written per connection call: one zero buffer of this size serves every
// stream, and reads go into a scratch buffer of the same size.
inline constexpr size_t kChunkSize = 64 * 1024;

// §2.3.1: the 8-byte prefix that asks for `response_size` bytes.
std::array<uint8_t, kRequestPrefixSize> encode_request_prefix(uint64_t response_size);
uint64_t decode_request_prefix(const std::array<uint8_t, kRequestPrefixSize>& prefix);

// --- server ----------------------------------------------------------------------------------

struct ServerConfig {
    // The largest response served; a request for more is refused with kRefused (the
    // unlimited size included when this is lower). kUnlimited: anything, as the draft has it.
    uint64_t max_response_size = kUnlimited;
};

// What a server connection saw; counters only grow.
struct ServerStats {
    uint64_t streams = 0;            // request streams the client opened
    uint64_t requests = 0;           // streams whose 8-byte size arrived
    uint64_t responses = 0;          // responses sent in full, FIN included (0 bytes counts)
    uint64_t responses_stopped = 0;  // responses the client ended with STOP_SENDING
    uint64_t bytes_received = 0;     // upload payload (after the prefix)
    uint64_t bytes_sent = 0;         // response payload handed to the connection
    uint64_t ignored = 0;            // streams that ended before 8 bytes (§2.3.1)
    uint64_t refused = 0;            // above max_response_size, or no room to queue a uni response
    uint64_t aborted = 0;            // requests the client reset before their FIN

    ServerStats& operator+=(const ServerStats& o);
};

class Server {
  public:
    explicit Server(std::shared_ptr<Connection> connection, ServerConfig config = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Drains the connection's events and serves: reads requests, drains uploads, writes
    // responses as flow control allows. Call whenever the connection may have news.
    void process(Time now);

    const ServerStats& stats() const { return stats_; }
    // Streams being served (requests being read, responses being written) and uni responses
    // waiting for stream credit.
    size_t active_streams() const { return streams_.size(); }
    size_t pending_uni_responses() const { return pending_uni_.size(); }
    bool handshake_complete() const { return handshake_complete_; }
    // Set once the connection closed.
    const std::optional<ConnectionClosed>& closed() const { return closed_; }
    Connection& connection() { return *conn_; }

  private:
    struct Stream;
    struct PendingUni {
        uint64_t size;
        bool refusal;  // a stream reset at once with kRefused
    };
    void handle(const ConnectionEvent& ev);
    void on_opened(uint64_t id);
    void on_readable(uint64_t id);
    void on_request_end(uint64_t id, Stream& s);
    void refuse(uint64_t id, Stream& s);
    void start_response(uint64_t id, Stream& s);
    void queue_uni(PendingUni p);
    void open_uni_responses();
    void pump(uint64_t id, Stream& s);
    void forget_if_done(uint64_t id);

    std::shared_ptr<Connection> conn_;
    ServerConfig config_;
    ServerStats stats_;
    std::map<uint64_t, Stream> streams_;
    // Uni responses waiting for stream credit: a list, which allocates nothing while empty
    // (a std::deque holds a block even then, in every connection).
    std::list<PendingUni> pending_uni_;
    bool handshake_complete_ = false;
    std::optional<ConnectionClosed> closed_;
    // Where read data is discarded into; sized on the first read, so that an idle connection
    // costs no 64 KiB (scripts/load measures memory per idle connection).
    Bytes scratch_;
    Bytes& scratch() {
        if (scratch_.empty()) scratch_.resize(kChunkSize);
        return scratch_;
    }
};

// --- client ----------------------------------------------------------------------------------

struct Request {
    bool bidirectional = true;
    uint64_t upload = 0;    // payload bytes after the prefix (kUnlimited: until stop())
    uint64_t download = 0;  // the response size asked for (kUnlimited: until stop())
};

enum class RequestEnd : uint8_t {
    kComplete,          // every byte both ways and the server's FIN (or, for a uni request
                        // without a response, every byte we wrote acknowledged)
    kStopped,           // stop() ended an unlimited (or unfinished) response
    kReset,             // the server reset the response or stopped the upload (error_code)
    kWrongSize,         // the response ended with a size other than the one asked for
    kConnectionClosed,  // the connection closed first
};
const char* request_end_name(RequestEnd e);

// A request ended; the Client forgets it.
struct RequestDone {
    uint64_t stream_id;
    RequestEnd end;
    uint64_t error_code = 0;         // kReset: the server's code
    uint64_t uploaded = 0;           // payload bytes handed to the connection
    uint64_t downloaded = 0;         // response payload bytes read
    std::optional<Time> first_byte;  // when the first response byte was read
    Time completed;
};

using ClientEvent = std::variant<RequestDone,
                                 // Passed through from the connection:
                                 HandshakeCompleted, HandshakeConfirmed, StreamsAvailable,
                                 SessionTicketReceived, ZeroRttRejected, ConnectionClosed>;

struct ClientStats {
    uint64_t requests = 0;        // requests started
    uint64_t completed = 0;       // RequestDone with kComplete
    uint64_t bytes_sent = 0;      // upload payload handed to the connection
    uint64_t bytes_received = 0;  // response payload read (unmatched uni responses included)
    uint64_t unexpected = 0;      // server streams the protocol has no use for, unmatched
                                  // uni responses
};

class Client {
  public:
    explicit Client(std::shared_ptr<Connection> connection);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Opens a stream and writes the prefix, the upload (as flow control allows; the rest
    // follows) and FIN. Fails with STREAM_LIMIT_ERROR (a transport error, not a connection
    // one) when the server's stream limit is reached: retry after StreamsAvailable; with
    // ErrorKind::kWouldBlock beyond kMaxClientRequests.
    Result<uint64_t> request(Time now, const Request& r);
    // Ends a request early: an unfinished upload gets its FIN now (and a finite response is
    // then awaited as usual: the request goes on until the server's FIN); an unlimited
    // response, or a finite one after the upload had ended, is stopped (STOP_SENDING,
    // kNoError) and the request ends as kStopped.
    Status stop(Time now, uint64_t stream_id);

    // The next event, draining the connection; nullopt when there is none for now.
    std::optional<ClientEvent> poll_event(Time now);

    const ClientStats& stats() const { return stats_; }
    size_t in_flight() const { return requests_.size(); }
    Connection& connection() { return *conn_; }

  private:
    struct Pending;
    struct Incoming;
    void handle(Time now, const ConnectionEvent& ev);
    void pump_upload(Time now, uint64_t id, Pending& p);
    void read_response(Time now, uint64_t id);
    void read_uni(Time now, uint64_t id);
    void match_uni(Time now, uint64_t stream_id, Incoming& in, bool at_end);
    std::optional<uint64_t> oldest_unanswered_uni() const;
    void maybe_complete(Time now, uint64_t id);
    void check_acked(Time now);
    void end(Time now, uint64_t id, RequestEnd how, uint64_t code = 0);

    std::shared_ptr<Connection> conn_;
    ClientStats stats_;
    std::map<uint64_t, Pending> requests_;
    std::map<uint64_t, Incoming> incoming_;  // the server's uni response streams
    // Streams whose requests ended while the server still sends (stopped, or unmatched): read
    // to their end so that the connection can forget them (RFC 9000 §3.2: "Reset Read").
    std::set<uint64_t> draining_;
    // Unlimited uni requests stopped before their response stream appeared: the next ones to
    // appear are stopped at once.
    uint64_t orphaned_unlimited_ = 0;
    // Stream bytes (prefixes included) handed to the connection, and the requests waiting
    // for them to be acknowledged (check_acked).
    uint64_t written_ = 0;
    size_t awaiting_ack_ = 0;
    std::deque<ClientEvent> events_;
    // Where read data is discarded into; sized on the first read, so that an idle connection
    // costs no 64 KiB (scripts/load measures memory per idle connection).
    Bytes scratch_;
    Bytes& scratch() {
        if (scratch_.empty()) scratch_.resize(kChunkSize);
        return scratch_;
    }
};

}  // namespace quic::perf
