// The client side shared by `quiver perf client` and `quiver perf h3`: their common options,
// the transport they dial from (one socket for every connection), and PerfConnection, which
// drives the sans-IO perf client (quic/perf.h) on a libuv connection through
// uv::Connection::take_events(), as quic::h3::Client does for HTTP/3.
#pragma once

#include <uv.h>
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qlog_option.h"
#include "quic/perf.h"
#include "quic/uv/transport.h"
#include "transport_options.h"

namespace quiver {

// A server holds at most 32 half-open connections per source (endpoint.h,
// kDefaultMaxHalfOpenPerSource) and refuses the rest: a load generator on one address dials
// half that many at a time, so that its handshakes are never refused for being too many.
inline constexpr size_t kDefaultDialWindow = 16;

struct PerfClientOptions {
    TransportOptions transport;
    QlogOptions qlog;
    std::string keylog, cacert;
    bool insecure = false;
    size_t connections = 1;
    // Handshakes in flight at once while the connections are dialed (0: all at once).
    size_t dial_window = kDefaultDialWindow;
    // PINGs every half --max-idle-timeout keep quiet connections open (--hold).
    bool keep_alive = false;
    double duration = 0;  // seconds (0: until the work is done)
    double warmup = 0;
    double interval = 1;
    bool json = false, quiet = false;
    // --0rtt: requests go in 0-RTT on resumed connections (RFC 9001 §4.6.1); --session-file:
    // the ticket kept between runs (perf client only).
    bool zero_rtt = false;
    std::string session_file;
};

// A session store that says when a ticket arrives (the first --resume or --0rtt connection
// waits for it). Over memory, or over --session-file (cli/session_file.h).
class TicketWatch final : public quic::uv::SessionStore {
  public:
    explicit TicketWatch(std::shared_ptr<quic::uv::SessionStore> inner, bool has_ticket = false)
        : inner_(std::move(inner)), has_ticket_(has_ticket) {}
    quic::uv::StoredSession get(const std::string& server) override { return inner_->get(server); }
    void put_ticket(const std::string& server, quic::Bytes ticket) override;
    void put_token(const std::string& server, quic::Bytes token) override {
        inner_->put_token(server, std::move(token));
    }
    bool has_ticket() const { return has_ticket_; }
    void on_ticket(std::function<void()> cb) { on_ticket_ = std::move(cb); }

  private:
    std::shared_ptr<quic::uv::SessionStore> inner_;
    bool has_ticket_ = false;
    std::function<void()> on_ticket_;
};

// The session store of a run: --session-file, or memory when --resume or --0rtt needs one
// (nullptr otherwise: every connection is a full handshake).
std::shared_ptr<TicketWatch> make_ticket_watch(const PerfClientOptions& o, bool resume);

// How long the first --resume or --0rtt connection waits for its session ticket before
// closing anyway.
inline constexpr double kTicketWaitSeconds = 2.0;

// --0rtt: a first connection, left out of the measure, that brings the session ticket the
// measured ones resume with (RFC 9001 §4.6.1); it closes once the ticket is here, or after
// kTicketWaitSeconds.
class TicketFetch {
  public:
    // `error`: "" with the ticket, else what went wrong; `connected`: the server answered.
    using Done = std::function<void(const std::string& error, bool connected)>;
    TicketFetch(uv_loop_t* loop, quic::uv::Transport& transport,
                std::shared_ptr<TicketWatch> tickets)
        : loop_(loop), transport_(transport), tickets_(std::move(tickets)) {}
    ~TicketFetch();
    TicketFetch(const TicketFetch&) = delete;
    TicketFetch& operator=(const TicketFetch&) = delete;

    void start(const quic::SocketAddress& remote, const std::string& server_name, Done done);
    // The run ended first: `done` is not called.
    void cancel();

  private:
    void ready();
    uv_loop_t* loop_;
    quic::uv::Transport& transport_;
    std::shared_ptr<TicketWatch> tickets_;
    std::shared_ptr<quic::uv::Connection> conn_;
    Done done_;
    uv_timer_t* timer_ = nullptr;
    std::function<void()> on_timeout_;
};

// --connections (unless the command names it itself, as h3's h2load-like -c does),
// --duration, --warmup, --interval, --json, -q, -k, --cacert, --keylog, the transport options
// and the qlog options.
void add_perf_client_options(CLI::App* app, PerfClientOptions& o, bool connections = true);

// "HOST:PORT", "[v6]:PORT" or "HOST" (port 443, draft-banks-quic-performance §2.1). Sets
// `error` when it does not parse.
std::optional<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text,
                                                                std::string& error);

// A transport on the wildcard address of `remote`'s family, with client TLS for `alpn`;
// `qlog` (declared before the transport, so that it outlives it) writes its traces.
quic::Result<std::unique_ptr<quic::uv::Transport>> make_client_transport(
    uv_loop_t* loop, const quic::SocketAddress& remote, const PerfClientOptions& o,
    QlogSession& qlog, const std::vector<std::string>& alpn,
    std::shared_ptr<quic::uv::SessionStore> sessions = {}, bool zero_rtt = false);

// One perf connection: requests in, RequestDone out.
class PerfConnection : public std::enable_shared_from_this<PerfConnection> {
  public:
    struct Handler {
        std::function<void(PerfConnection&, const quic::perf::RequestDone&)> on_done;
        // More requests may go (the server raised its stream limit, or the handshake completed:
        // requests made before it wait there unless they could go in 0-RTT).
        std::function<void(PerfConnection&)> on_credit;
        // The handshake completed (called before on_credit), and was confirmed (RFC 9001
        // §4.1.2).
        std::function<void(PerfConnection&)> on_handshake, on_confirmed;
    };

    static std::shared_ptr<PerfConnection> create(std::shared_ptr<quic::uv::Connection> c,
                                                  Handler handler);
    ~PerfConnection();
    PerfConnection(const PerfConnection&) = delete;
    PerfConnection& operator=(const PerfConnection&) = delete;

    // Fails with ErrorKind::kWouldBlock when the server's stream limit is reached (on_credit
    // says when to retry), or with why the connection cannot take requests.
    quic::Result<uint64_t> request(const quic::perf::Request& r);
    void stop(uint64_t stream_id);
    size_t in_flight() const { return client_.in_flight(); }
    const quic::perf::ClientStats& client_stats() const { return client_.stats(); }
    quic::uv::Connection& connection() { return *conn_; }
    const std::shared_ptr<quic::uv::Connection>& shared_connection() const { return conn_; }
    // Stops calling the handler (the run is over).
    void detach() { handler_ = {}; }

  private:
    PerfConnection(std::shared_ptr<quic::uv::Connection> c, Handler handler);
    void on_activity(quic::Time now);

    std::shared_ptr<quic::uv::Connection> conn_;
    quic::perf::Client client_;
    Handler handler_;
};

}  // namespace quiver
