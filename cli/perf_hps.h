// `quiver perf client --hps`: handshakes per second. --connections slots each dial, complete
// the handshake (counted once the server confirms it with HANDSHAKE_DONE, so that client and
// server count the same connections; timed until the client's side completed), close
// (application code 0, or H3_NO_ERROR for ALPN h3) and dial again, until
// --duration ends or --count handshakes were made; then the run waits for the handshakes still
// in flight, so that every connection the server saw is counted. With --resume every
// connection after the first resumes with the latest session ticket (RFC 9001 §4.5; the
// first connection stays open until its ticket arrives). Any ALPN works: no request is made.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "perf_connection.h"
#include "perf_report.h"

namespace quiver {

// A session store that says when a ticket arrives (the first --resume connection waits).
class TicketWatch final : public quic::uv::SessionStore {
  public:
    quic::uv::StoredSession get(const std::string& server) override { return inner_.get(server); }
    void put_ticket(const std::string& server, quic::Bytes ticket) override;
    void put_token(const std::string& server, quic::Bytes token) override {
        inner_.put_token(server, std::move(token));
    }
    bool has_ticket() const { return has_ticket_; }
    void on_ticket(std::function<void()> cb) { on_ticket_ = std::move(cb); }

  private:
    quic::uv::MemorySessionStore inner_;
    bool has_ticket_ = false;
    std::function<void()> on_ticket_;
};

// How long the first --resume connection waits for its session ticket before closing anyway.
inline constexpr double kTicketWaitSeconds = 2.0;
// Consecutive failed dials after which the run gives up (nothing answers).
inline constexpr unsigned kMaxConsecutiveFailures = 20;

class HandshakeLoad {
  public:
    HandshakeLoad(uv_loop_t* loop, quic::uv::Transport& transport, quic::SocketAddress remote,
                  std::string server_name, const PerfClientOptions& options, uint64_t count,
                  uint64_t close_code, std::shared_ptr<TicketWatch> tickets, Recorder& recorder);
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
    Reporter* reporter_ = nullptr;

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
