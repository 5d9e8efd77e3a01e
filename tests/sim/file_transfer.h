// A tiny hq-interop-like application for the simulator (interop/README.md, "hq-interop"):
// the client opens one bidirectional stream per file, writes "GET /<name>\r\n" and FIN; the
// server answers with the file's bytes and FIN. Files are not stored anywhere: a name ends
// with its size ("f3-1048576" is 1 MiB) and the content is a function of the name and the
// offset, so the client can check every byte and the server can serve any size.
// Both sides use only the public Connection API and drain poll_event() on every step.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "quic/endpoint.h"
#include "sim/harness.h"

namespace quic::sim {

// "f<index>-<size>": unique per request, the size after the last '-'.
std::string file_name(size_t index, uint64_t size);
// The size a name asks for; nullopt for a name that does not end in "-<digits>".
std::optional<uint64_t> file_size_from_name(std::string_view name);
// The file's bytes [offset, offset + out.size()).
void file_content(std::string_view name, uint64_t offset, MutableByteSpan out);

// hq-interop request and response stream errors (application error codes on the stream).
inline constexpr uint64_t kFileTransferBadRequest = 0x1;
inline constexpr uint64_t kFileTransferTooLarge = 0x2;
inline constexpr uint64_t kFileTransferSourceFailed = 0x3;

class FileTransferClient {
  public:
    struct Options {
        // Open request streams before the handshake completes (0-RTT when the connection has
        // a resumption ticket and early data is enabled).
        bool open_before_handshake = false;
        // Close the connection (application error 0) once every file is verified.
        bool close_when_done = true;
    };
    struct File {
        std::string name;
        uint64_t size = 0;
        std::optional<uint64_t> stream_id;
        size_t request_sent = 0;  // bytes of the request line accepted by write()
        uint64_t received = 0;    // verified response bytes
        bool complete = false;    // all bytes and the FIN
        std::optional<Time> requested_at, completed_at;
    };

    FileTransferClient(Endpoint& endpoint, Path path, ConnectOptions connect,
                       std::vector<uint64_t> file_sizes);
    FileTransferClient(Endpoint& endpoint, Path path, ConnectOptions connect,
                       std::vector<uint64_t> file_sizes, Options options);

    // Connects on the first call; then drains events, opens streams, writes requests and
    // reads responses. Call from Simulation::set_on_step.
    void step(Time now);

    bool done() const { return completed_ == files_.size() && failure_.empty(); }
    bool failed() const { return !failure_.empty(); }
    bool finished() const { return done() || failed(); }
    // The first thing that went wrong (content mismatch, reset, close before the end, ...).
    const std::string& failure() const { return failure_; }

    const std::vector<File>& files() const { return files_; }
    uint64_t bytes_received() const { return bytes_received_; }
    size_t files_completed() const { return completed_; }
    std::optional<Time> started_at() const { return started_at_; }
    std::optional<Time> handshake_completed_at() const { return handshake_completed_at_; }
    // When the last file completed.
    std::optional<Time> completed_at() const { return completed_at_; }

    // For resumption, 0-RTT and token scenarios: the last ones the server gave us.
    const Bytes& session_ticket() const { return session_ticket_; }
    const Bytes& new_token() const { return new_token_; }

    // Null before the first step, or when connect() failed.
    const std::shared_ptr<Connection>& connection() const { return conn_; }

  private:
    void handle(Time now, const ConnectionEvent& event);
    void open_streams(Time now);
    void send_request(File& f);
    void read_stream(Time now, uint64_t stream_id);
    void fail(std::string why);

    Endpoint& endpoint_;
    Path path_;
    ConnectOptions connect_;
    Options options_;
    std::vector<File> files_;
    std::map<uint64_t, size_t> by_stream_;  // stream id -> index in files_
    size_t next_to_open_ = 0;
    bool streams_blocked_ = false;  // STREAM_LIMIT_ERROR until StreamsAvailable
    bool handshake_complete_ = false;
    bool close_sent_ = false;
    size_t completed_ = 0;
    uint64_t bytes_received_ = 0;
    std::optional<Time> started_at_, handshake_completed_at_, completed_at_;
    Bytes session_ticket_, new_token_;
    std::string failure_;
    std::shared_ptr<Connection> conn_;
    Bytes read_buf_, expected_buf_;
};

class FileTransferServer {
  public:
    struct Options {
        size_t max_request_bytes = 1024;
        uint64_t max_file_size = uint64_t{1} << 32;
        // Answer through Connection::write_source: the bytes are made as packets are built
        // (and made again for a retransmission) instead of being written into the stream.
        bool from_source = false;
        // With from_source: the source fails when asked for a byte at or past this offset
        // (the connection then resets the stream with kFileTransferSourceFailed).
        std::optional<uint64_t> source_fails_at;
    };

    explicit FileTransferServer(Endpoint& endpoint);
    FileTransferServer(Endpoint& endpoint, Options options);

    // Accepts new connections, drains every connection's events, serves requests.
    void step(Time now);

    size_t connections_accepted() const { return accepted_; }
    size_t handshakes_completed() const { return handshakes_; }
    uint64_t requests_served() const { return served_; }  // responses fully written with FIN
    uint64_t bytes_sent() const { return bytes_sent_; }
    // Bytes the sources supplied (with from_source): more than bytes_sent() once some were lost.
    uint64_t source_bytes_read() const { return *source_bytes_read_; }
    // Bad requests and stream errors seen, one line each (a test usually expects none).
    const std::vector<std::string>& errors() const { return errors_; }
    // Connections not yet closed.
    size_t open_connections() const { return conns_.size(); }
    // Every connection accepted, closed ones included (for their stats and paths).
    const std::vector<std::shared_ptr<Connection>>& accepted_connections() const {
        return accepted_connections_;
    }

  private:
    struct Request {
        std::string text;
        bool fin = false;
        bool responding = false;
        std::string name;
        uint64_t size = 0, sent = 0;
    };
    struct Conn {
        std::shared_ptr<Connection> conn;
        std::map<uint64_t, Request> requests;
        // Streams answered or abandoned: late events for them are ignored.
        std::set<uint64_t> finished;
    };

    void handle(Conn& c, const ConnectionEvent& event);
    void read_request(Conn& c, uint64_t stream_id);
    void respond(Conn& c, uint64_t stream_id);
    void error(const Conn& c, uint64_t stream_id, const std::string& why);

    Endpoint& endpoint_;
    Options options_;
    std::vector<Conn> conns_;
    std::vector<std::shared_ptr<Connection>> accepted_connections_;
    size_t accepted_ = 0, handshakes_ = 0;
    uint64_t served_ = 0, bytes_sent_ = 0;
    std::vector<std::string> errors_;
    Bytes buf_;
    // Shared with the sources, which may outlive a connection's requests.
    std::shared_ptr<uint64_t> source_bytes_read_ = std::make_shared<uint64_t>(0);
};

// --- scenarios -------------------------------------------------------------------------------

// TLS for simulated endpoints: a self-signed Ed25519 certificate for "server" (fixed-length
// signatures keep datagram sizes, and so trace digests, seed-determined), no verification on
// the client, the given ALPN on both sides.
struct SimTls {
    std::shared_ptr<TlsContext> client, server;
};
Result<SimTls> make_sim_tls(std::vector<std::string> alpn = {"hq-interop"});

struct TransferScenario {
    uint64_t seed = 1;
    LinkConfig client_to_server, server_to_client;
    EndpointConfig client, server;  // with client_tls / server_tls set (make_sim_tls)
    ConnectOptions connect;         // server_name "server" when empty
    std::vector<uint64_t> file_sizes;
    FileTransferClient::Options client_options;
    std::vector<Rebinding> rebindings;
    std::optional<RebindingRule> rebinding_rule;
    bool ecn_passthrough = false;
    FileTransferServer::Options server_options;
    Duration max_time = 60s;
};

struct TransferOutcome {
    uint64_t seed = 0;
    RunResult run;
    bool complete = false;  // every file verified
    std::string failure;    // the client's or the server's first complaint
    std::vector<FileTransferClient::File> files;
    std::optional<Time> handshake_completed_at, completed_at;
    uint64_t bytes_received = 0;
    uint64_t server_source_bytes_read = 0;
    std::optional<ConnectionStats> client_stats;
    size_t server_connections = 0;
    std::vector<std::string> server_errors;
    LinkStats client_to_server, server_to_client;
    uint64_t trace_digest = 0;

    // Seed, outcome, failure and link statistics on one line, for INFO().
    std::string describe() const;
};

// A scenario with make_sim_tls()'s TLS (hq-interop) on both ends, the seed and the files set,
// everything else default. Fails the calling test when TLS cannot be made.
TransferScenario sim_scenario(uint64_t seed, std::vector<uint64_t> file_sizes = {});

// Runs one connection fetching the files; asserts nothing.
TransferOutcome run_file_transfer(const TransferScenario& scenario);
// The same, under doctest: the seed goes into INFO, and the transfer must complete without
// errors. Returns the outcome for scenario-specific checks.
TransferOutcome check_file_transfer(const TransferScenario& scenario);

}  // namespace quic::sim
