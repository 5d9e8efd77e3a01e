// Performs a replay script's actions on one connection (docs/replay.md): exact bytes on QUIC
// streams through the public wire layer (quic/http3/wire.h), the server's reactions read back
// (responses, stream resets, STOP_SENDING, GOAWAY, CONNECTION_CLOSE) and each `expect`
// checked against them.
#pragma once

#include <uv.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quic/error.h"
#include "quic/http3/wire.h"
#include "quic/uv/connection.h"
#include "replay_script.h"

namespace quiver::replay {

struct RunOptions {
    bool recorded_timing = true;    // honour each action's "time" (--timing recorded)
    std::string authority;          // replaces "{authority}" in field values
    std::string script_name;        // for failure lines
    std::string position = "line";  // what Action::line counts: "record" in a recording
    FILE* verbose = nullptr;        // -v: frames and actions, as they happen
    double linger_ms = 10000;       // after the last action: responses still due, at most this
};

// What the server did, in the order seen.
struct Reaction {
    enum class Kind : uint8_t {
        kResponse,
        kStreamReset,
        kStopSending,
        kClose,
        kGoaway,
        kMalformed
    };
    Kind kind = Kind::kResponse;
    std::string stream;
    int status = 0;
    std::vector<quic::h3::Field> fields;
    uint64_t code = 0;
    bool transport = false;  // kClose: a transport error (else an application one)
    std::string text;        // kMalformed: what was wrong; kClose: the reason
};
std::string describe(const Reaction& r);

class Run {
  public:
    Run(const Script& script, RunOptions options, uv_loop_t* loop, std::function<void()> done);
    ~Run();
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    // The handshake completed: start performing actions.
    void start(std::shared_ptr<quic::uv::Connection> connection);
    // The connection ended (from its on_closed callback).
    void closed(const quic::Error& why);

    const std::vector<std::string>& failures() const { return failures_; }
    const std::vector<Reaction>& reactions() const { return reactions_; }
    // False when an action could not be performed here (a stream limit of the server, a
    // datagram it does not take): the expectations then say little about the server.
    bool performed_all() const { return performed_all_; }
    // One line per request stream: status, fields and body size, or what happened instead.
    std::vector<std::string> responses() const;

  private:
    struct Local;  // a stream we opened
    struct Peer;   // a unidirectional stream the server opened

    void step();
    bool perform(const Action& a);
    bool check_expect(const Action& a, bool final);
    bool holds(const Expectation& e, bool final) const;
    void fail_expect(const Action& a, const char* why);
    void finish();
    bool bodies_in_progress() const;
    void action_failed(std::string why);
    void arm(double ms);

    Local* local(const std::string& label, const Action& a, bool open_bidi);
    Local* open_uni(const std::string& label, uint64_t type, std::optional<uint64_t> push_id);
    void send(Local& s, const quic::Bytes& bytes, bool fin);
    bool inject(const Action& a);
    void pump(Local& s);
    void watch_bidi(Local& s);
    void on_response_frames(Local& s, std::vector<quic::h3::wire::ReceivedFrame>& frames);
    void on_peer_uni(std::shared_ptr<quic::uv::Stream> stream);
    void read_peer(Peer& p);
    void on_control_frame(const quic::h3::wire::ReceivedFrame& f);
    void record(Reaction r);
    void vlog(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));

    const Script& script_;
    RunOptions o_;
    uv_loop_t* loop_;
    std::function<void()> done_;
    std::shared_ptr<quic::uv::Connection> conn_;
    std::map<std::string, std::unique_ptr<Local>> locals_;
    std::vector<std::unique_ptr<Peer>> peers_;
    quic::h3::wire::FieldSectionDecoder decoder_;
    std::vector<Reaction> reactions_;
    std::vector<std::string> failures_;
    std::optional<quic::Error> closed_;
    size_t next_ = 0;
    bool waiting_expect_ = false, finished_ = false, performed_all_ = true;
    quic::Time started_{}, expect_deadline_{};
    std::optional<quic::Time> wait_until_, drain_deadline_;
    uv_timer_t* timer_ = nullptr;
    std::function<void()> on_timer_;
};

}  // namespace quiver::replay
