// `quiver perf client --hps`: handshakes per second. --connections slots each dial, complete
// the handshake (counted once the server confirms it with HANDSHAKE_DONE, so that client and
// server count the same connections; timed until the client's side completed), close
// (application code 0, or H3_NO_ERROR for ALPN h3) and dial again, until
// --duration ends or --count handshakes were made; then the run waits for the handshakes still
// in flight, so that every connection the server saw is counted. With --resume every
// connection after the first resumes with the latest session ticket (RFC 9001 §4.5; the
// first connection stays open until its ticket arrives). Any ALPN works: no request is made,
// except with --0rtt (ALPN perf): then each connection is dialled early and carries one perf
// request, in 0-RTT when its ticket allows (RFC 9001 §4.6.1), and closes once the response
// is in and the handshake confirmed; the request's latency counts from the dial.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "perf_connection.h"
#include "perf_report.h"

namespace quiver {

// Consecutive failed dials after which the run gives up (nothing answers).
inline constexpr unsigned kMaxConsecutiveFailures = 20;

class HandshakeLoad {
  public:
    HandshakeLoad(uv_loop_t* loop, quic::uv::Transport& transport, quic::SocketAddress remote,
                  std::string server_name, const PerfClientOptions& options, uint64_t count,
                  uint64_t close_code, std::shared_ptr<TicketWatch> tickets, Recorder& recorder,
                  std::optional<quic::perf::Request> request = std::nullopt);
    ~HandshakeLoad();
    HandshakeLoad(const HandshakeLoad&) = delete;
    HandshakeLoad& operator=(const HandshakeLoad&) = delete;

    void set_reporter(Reporter* r) { reporter_ = r; }
    void start();
    // Ends the run early (SIGINT): as if --duration had just ended.
    void stop() { end_load(); }
    Totals snapshot() const;
    int exit_code() const { return failure_.empty() && counters_.handshakes > 0 ? 0 : 1; }
    const std::string& failure() const { return failure_; }

  private:
    void dial(size_t slot);
    void on_dialed(size_t slot, quic::Time started,
                   quic::Result<std::shared_ptr<quic::uv::Connection>> c);
    void dial_with_request(size_t slot);
    void send_request(size_t slot);
    void on_request_done(size_t slot, const quic::perf::RequestDone& d);
    void maybe_done(size_t slot);
    void on_confirmed(size_t slot, std::shared_ptr<quic::uv::Connection> conn);
    void close(size_t slot, std::shared_ptr<quic::uv::Connection> c);
    void end_load();
    void maybe_finish();
    void finish();

    uv_loop_t* loop_;
    quic::uv::Transport& transport_;
    quic::SocketAddress remote_;
    std::string server_name_;
    const PerfClientOptions& options_;
    uint64_t count_;
    uint64_t close_code_;
    std::shared_ptr<TicketWatch> tickets_;
    Recorder& recorder_;
    std::optional<quic::perf::Request> request_;  // --0rtt: one per connection
    Reporter* reporter_ = nullptr;

    // --0rtt: each slot's connection with its request.
    struct Early {
        std::shared_ptr<PerfConnection> perf;
        quic::Time started{};
        bool sent = false, done = false, confirmed = false;
    };
    std::vector<Early> early_;

    std::vector<bool> busy_;  // a slot's dial (or ticket wait) is in flight
    // Bumped when a slot moves on, so that its old connection's callbacks do nothing.
    std::vector<uint64_t> generation_;
    std::shared_ptr<quic::uv::Connection> waiting_for_ticket_;
    size_t waiting_slot_ = 0;
    Totals counters_;
    unsigned consecutive_failures_ = 0;
    bool stopping_ = false, finished_ = false;
    std::string failure_;
    uv_timer_t* end_timer_ = nullptr;
    uv_timer_t* ticket_timer_ = nullptr;
    std::function<void()> on_end_, on_ticket_timeout_;
};

}  // namespace quiver
