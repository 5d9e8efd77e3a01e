#include "perf_connection.h"

#include <charconv>

#include "conn_log.h"
#include "keylog.h"
#include "quic/overloaded.h"
#include "quic/uv/clock.h"
#include "session_file.h"
#include "url.h"
#include "uv_handles.h"

namespace quiver {

void add_perf_client_options(CLI::App* app, PerfClientOptions& o, bool connections) {
    if (connections)
        app->add_option("--connections", o.connections, "Connections in parallel (default 1)")
            ->check(CLI::Range(size_t{1}, size_t{100000}));
    app->add_option("--duration", o.duration,
                    "Run for SECONDS after the warmup (default: until the work is done)")
        ->check(CLI::Range(0.0, 86400.0));
    app->add_option("--warmup", o.warmup, "Leave the first SECONDS out of the summary")
        ->check(CLI::Range(0.0, 3600.0));
    app->add_option("--interval", o.interval, "Seconds between interval lines (default 1, 0: none)")
        ->check(CLI::Range(0.0, 3600.0));
    app->add_flag("--json", o.json,
                  "Newline-delimited JSON on stdout: one object per interval, then a summary "
                  "(the text goes to stderr)");
    app->add_flag("-q,--quiet", o.quiet, "No interval lines (with --json: no text at all)");
    app->add_flag("-k,--insecure", o.insecure, "Do not verify the server's certificate");
    app->add_option("--cacert", o.cacert, "Verify the server with the CAs in FILE (PEM)")
        ->check(CLI::ExistingFile);
    app->add_option("--keylog", o.keylog, "Append TLS secrets to FILE (default: $SSLKEYLOGFILE)");
    add_transport_options(app, o.transport);
    add_qlog_options(app, o.qlog);
}

std::optional<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text,
                                                                std::string& error) {
    std::string host = text, port_text;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string::npos) {
            error = "no ']' after the IPv6 address";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') {
                error = "want [ADDRESS]:PORT";
                return std::nullopt;
            }
            port_text = text.substr(close + 2);
        }
    } else if (const size_t colon = text.rfind(':'); colon != std::string::npos) {
        if (text.find(':') != colon) {
            error = "an IPv6 address goes in brackets: [::1]:4433";
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    uint16_t port = 443;
    if (!port_text.empty()) {
        const auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0) {
            error = "bad port '" + port_text + "'";
            return std::nullopt;
        }
    }
    if (host.empty()) {
        error = "no host";
        return std::nullopt;
    }
    return std::pair{host, port};
}

quic::Result<std::unique_ptr<quic::uv::Transport>> make_client_transport(
    uv_loop_t* loop, const quic::SocketAddress& remote, const PerfClientOptions& o,
    QlogSession& qlog, const std::vector<std::string>& alpn,
    std::shared_ptr<quic::uv::SessionStore> sessions, bool zero_rtt) {
    std::string error;
    quic::TlsConfig tls;
    tls.alpn = alpn;
    tls.verification = o.insecure          ? quic::CertificateVerification::kNone
                       : !o.cacert.empty() ? quic::CertificateVerification::kCaFile
                                           : quic::CertificateVerification::kSystem;
    tls.ca_file = o.cacert;
    tls.enable_early_data = zero_rtt;
    tls.keylog = open_keylog(o.keylog, error);
    if (!error.empty()) return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument, error);
    auto context = quic::TlsContext::create(std::move(tls));
    if (!context.ok()) return context.error();
    quic::uv::TransportConfig config;
    config.endpoint.client_tls = std::shared_ptr<quic::TlsContext>(std::move(context).value());
    apply_transport_options(o.transport, config.endpoint.connection);
    config.endpoint.connection.enable_0rtt = zero_rtt;
    if (o.keep_alive)
        config.endpoint.connection.keep_alive_period =
            config.endpoint.connection.max_idle_timeout / 2;
    // Handshakes in flight at once are the endpoint's to bound; a load generator dials as many
    // as --connections asks for.
    config.endpoint.max_concurrent_handshakes =
        std::max(config.endpoint.max_concurrent_handshakes, o.connections);
    if (std::string e = apply_qlog_options(o.qlog, config.endpoint, qlog); !e.empty())
        return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument, e);
    config.sessions = std::move(sessions);
    return quic::uv::Transport::create(loop, local_wildcard_for(remote), std::move(config));
}

void TicketWatch::put_ticket(const std::string& server, quic::Bytes ticket) {
    inner_->put_ticket(server, std::move(ticket));
    has_ticket_ = true;
    if (on_ticket_) {
        auto cb = std::move(on_ticket_);
        on_ticket_ = nullptr;
        cb();
    }
}

std::shared_ptr<TicketWatch> make_ticket_watch(const PerfClientOptions& o, bool resume) {
    if (!o.session_file.empty()) {
        auto file = std::make_shared<FileSessionStore>(o.session_file);
        const bool has = file->has_ticket();
        return std::make_shared<TicketWatch>(std::move(file), has);
    }
    if (!resume && !o.zero_rtt) return nullptr;
    return std::make_shared<TicketWatch>(std::make_shared<quic::uv::MemorySessionStore>());
}

// --- TicketFetch -------------------------------------------------------------------------------

TicketFetch::~TicketFetch() {
    close_handle(timer_);
}

void TicketFetch::start(const quic::SocketAddress& remote, const std::string& server_name,
                        Done done) {
    done_ = std::move(done);
    quic::uv::DialOptions d;
    d.server_name = server_name;
    transport_.dial(remote, d, [this](quic::Result<std::shared_ptr<quic::uv::Connection>> c) {
        if (!done_) return;
        if (!c.ok()) {
            auto cb = std::move(done_);
            done_ = nullptr;
            return cb("cannot connect: " + describe(c.error()), false);
        }
        conn_ = std::move(c).value();
        if (tickets_->has_ticket()) return ready();
        tickets_->on_ticket([this] { ready(); });
        on_timeout_ = [this] { ready(); };
        timer_ = start_timer(loop_, on_timeout_, ms_of(kTicketWaitSeconds));
    });
}

void TicketFetch::ready() {
    if (!conn_ || !done_) return;
    close_handle(timer_);
    timer_ = nullptr;
    auto c = std::move(conn_);
    conn_ = nullptr;
    c->close(0, "");
    auto cb = std::move(done_);
    done_ = nullptr;
    cb(tickets_->has_ticket() ? "" : "--0rtt: the server sent no session ticket", true);
}

void TicketFetch::cancel() {
    done_ = nullptr;
    close_handle(timer_);
    timer_ = nullptr;
}

// --- PerfConnection ------------------------------------------------------------------------------

PerfConnection::PerfConnection(std::shared_ptr<quic::uv::Connection> c, Handler handler)
    : conn_(std::move(c)),
      client_(std::shared_ptr<quic::Connection>(conn_, &conn_->core())),
      handler_(std::move(handler)) {}

PerfConnection::~PerfConnection() {
    conn_->take_events(nullptr);
}

std::shared_ptr<PerfConnection> PerfConnection::create(std::shared_ptr<quic::uv::Connection> c,
                                                       Handler handler) {
    std::shared_ptr<PerfConnection> p(new PerfConnection(std::move(c), std::move(handler)));
    std::weak_ptr<PerfConnection> weak = p;
    p->conn_->take_events([weak](quic::Time now) {
        if (auto me = weak.lock()) me->on_activity(now);
    });
    return p;
}

quic::Result<uint64_t> PerfConnection::request(const quic::perf::Request& r) {
    if (conn_->is_closed()) return *conn_->close_error();
    auto id = client_.request(quic::uv::clock_now(), r);
    conn_->flush();
    if (!id.ok() && id.error().is_transport(quic::TransportErrorCode::kStreamLimitError))
        return quic::Error::of_kind(quic::ErrorKind::kWouldBlock, "the server's stream limit");
    return id;
}

void PerfConnection::stop(uint64_t stream_id) {
    (void)client_.stop(quic::uv::clock_now(), stream_id);
    conn_->flush();
}

void PerfConnection::on_activity(quic::Time now) {
    // A handler may drop the last reference to this connection.
    auto self = shared_from_this();
    while (auto ev = client_.poll_event(now)) {
        std::visit(quic::Overloaded{
                       [&](const quic::perf::RequestDone& e) {
                           if (handler_.on_done) handler_.on_done(*this, e);
                       },
                       [&](const quic::StreamsAvailable&) {
                           if (handler_.on_credit) handler_.on_credit(*this);
                       },
                       [&](const quic::HandshakeCompleted&) {
                           if (handler_.on_handshake) handler_.on_handshake(*this);
                           if (handler_.on_credit) handler_.on_credit(*this);
                       },
                       [&](const quic::HandshakeConfirmed&) {
                           if (handler_.on_confirmed) handler_.on_confirmed(*this);
                       },
                       [](const auto&) {},
                   },
                   *ev);
    }
}

}  // namespace quiver
