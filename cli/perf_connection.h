// The client side shared by `quiver perf client` and `quiver perf h3`: their common options,
// the transport they dial from (one socket for every connection), and PerfConnection, which
// drives the sans-IO perf client (quic/perf.h) on a libuv connection through
// uv::Connection::take_events(), as quic::h3::Client does for HTTP/3.
#pragma once

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
        // More requests may go (the server raised its stream limit).
        std::function<void(PerfConnection&)> on_credit;
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
