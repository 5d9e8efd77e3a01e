// quiver client --record FILE: the client's HTTP/3 actions written as a replay script
// (docs/replay.md), so that `quiver replay FILE` performs them again and checks that the
// responses have the same status. One record per line, each with its time (ms since the
// connection was ready), flushed as it is written.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "quic/bytes.h"
#include "quic/http3/field.h"
#include "quic/time.h"

namespace quiver::replay {

class Recorder {
  public:
    // Opens `path` for writing and writes the script's header. max_body: request body bytes
    // kept per request; beyond it the record says how many were left out, and a replay sends
    // that many 'x' bytes instead. nullptr with `error` set when the file cannot be written.
    static std::unique_ptr<Recorder> open(const std::string& path, uint64_t max_body,
                                          const std::string& title, std::string& error);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // The connection is ready: times count from here.
    void start(quic::Time now) { start_ = now; }
    void headers(size_t request, quic::Time now, const std::vector<quic::h3::Field>& fields,
                 bool fin);
    void data(size_t request, quic::Time now, quic::ByteSpan bytes, bool fin);
    void reset(size_t request, quic::Time now, uint64_t code);
    // The response's status, recorded as what a replay expects.
    void response(size_t request, quic::Time now, unsigned status);

  private:
    Recorder(std::FILE* f, uint64_t max_body) : f_(f), max_body_(max_body) {}
    void write(const std::string& line);
    double ms(quic::Time now) const;

    std::FILE* f_;
    uint64_t max_body_;
    quic::Time start_{};
    std::vector<uint64_t> recorded_;  // body bytes recorded per request
};

}  // namespace quiver::replay
