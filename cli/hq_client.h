// The client side of hq-interop over one connection: one bidirectional stream per file, all
// at once as far as the server's stream limit allows (more on StreamsAvailable), each
// response written to its file or, in URL order, to stdout.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "quic/connection.h"

namespace quiver {

struct Download {
    std::string path;    // the request path ("/a/b.txt")
    std::string output;  // a file name, or "" for stdout
};

class HqClient {
  public:
    // `log`: -v output, or null.
    HqClient(std::shared_ptr<quic::Connection> connection, std::vector<Download> downloads,
             std::FILE* log);
    ~HqClient();
    HqClient(const HqClient&) = delete;
    HqClient& operator=(const HqClient&) = delete;

    // Opens as many request streams as the connection allows now (before the handshake:
    // they go in 0-RTT when a ticket allows it).
    void open_requests();
    // Handles one connection event (the caller polls them and handles its own too).
    void on_event(const quic::ConnectionEvent& event);

    // Every download ended (whole, refused or failed).
    bool finished() const { return ended_ == downloads_.size(); }
    bool all_complete() const { return complete_ == downloads_.size(); }
    // The first failure of a download, as one line ("" when none).
    const std::string& first_failure() const { return failure_; }
    bool write_failed() const { return write_failed_; }
    uint64_t bytes_received() const { return bytes_; }

  private:
    struct State {
        Download d;
        uint64_t stream = 0;
        bool opened = false, ended = false;
        std::FILE* file = nullptr;
        std::string held;  // stdout output waiting for the downloads before it
    };
    void read(State& s);
    void emit(State& s, const uint8_t* data, size_t n);
    void end(State& s, bool complete, const std::string& why);
    void flush_stdout();
    State* by_stream(uint64_t id);
    void logf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

    std::shared_ptr<quic::Connection> connection_;
    std::vector<State> downloads_;
    std::unordered_map<uint64_t, size_t> by_stream_;  // stream ID -> index in downloads_
    std::FILE* log_;
    size_t next_to_open_ = 0;
    size_t next_stdout_ = 0;  // the download stdout is currently showing
    size_t ended_ = 0, complete_ = 0;
    uint64_t bytes_ = 0;
    bool write_failed_ = false;
    std::string failure_;
};

}  // namespace quiver
