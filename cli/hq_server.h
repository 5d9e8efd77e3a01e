// The server side of hq-interop for one connection: reads each request, then streams the file
// as the connection's send buffer allows (a write that takes fewer bytes is resumed on
// StreamWritable), so a large file never sits in memory.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "quic/connection.h"

namespace quiver {

class HqServerSession {
  public:
    // `root`: the realpath of the served directory. `log`: -v output, or null.
    HqServerSession(std::shared_ptr<quic::Connection> connection, std::string root, std::FILE* log);
    ~HqServerSession();
    HqServerSession(const HqServerSession&) = delete;
    HqServerSession& operator=(const HqServerSession&) = delete;

    // Handles every pending connection event.
    void on_activity();
    quic::Connection& connection() { return *connection_; }
    bool closed() const { return connection_->is_closed(); }

  private:
    struct Request {
        std::string line;  // the request bytes read so far
        int fd = -1;       // the file being sent, once the request is complete
        uint64_t offset = 0, size = 0;
        // Answered (sent, or refused): kept so that late bytes or a late FIN on the stream
        // are not taken for a new request.
        bool answered = false;
    };
    void on_readable(uint64_t id);
    void answer(uint64_t id, Request& r);
    void pump(uint64_t id);
    void refuse(uint64_t id, uint64_t code, const char* why);
    void done(Request& r);
    void forget(uint64_t id);
    void logf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

    std::shared_ptr<quic::Connection> connection_;
    std::string root_;
    std::FILE* log_;
    std::string name_;  // for log lines: the client's address
    std::map<uint64_t, Request> requests_;
};

}  // namespace quiver
