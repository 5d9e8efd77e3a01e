// The one client of `quiver client`: the requests of a run and what happened to them, whatever
// the protocol (docs/architecture.md, "The commands"). A protocol (FetchProtocol: hq-interop,
// HTTP/3) sends each request and reports its response here; Fetch writes bodies in order
// (cli/output.h), prints the -v lines and the progress bar, and keeps the results --json and
// the exit code are made of.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "output.h"
#include "quic/bytes.h"
#include "quic/http3/field.h"
#include "quic/result.h"
#include "quic/time.h"
#include "quic/uv/connection.h"

namespace quiver {

namespace replay {
class Recorder;
}

struct FetchRequest {
    std::string url;        // as given, for messages and --json
    std::string authority;  // host[:port]
    std::string path;       // "/a/b?q"
};

// curl's HTTP options (HTTP/3 only; hq-interop sends GET and nothing else).
struct RequestOptions {
    std::string method = "GET";
    // Extra header fields (-H), names lower-cased; an empty value removes a default field.
    std::vector<quic::h3::Field> headers;
    // The request body: `body` bytes, or the file `body_file` when set.
    bool has_body = false;
    std::string body, body_file;
    bool include_headers = false;  // -i / -I: status line and fields before the body
    bool fail_on_error = false;    // -f: a status >= 400 fails (exit 22), its body is dropped
};

// How a request failed, for the exit code (cli/client.cpp).
enum class FetchFailure { kNone, kWrite, kRefused, kStream, kOther };

// What --json reports per request.
struct FetchResult {
    std::string url;
    unsigned status = 0;
    uint64_t bytes = 0;        // response body bytes
    uint64_t body_sent = 0;    // request body bytes
    int64_t ttfb_ns = -1;      // request sent -> response header section (hq: first byte)
    int64_t duration_ns = -1;  // request sent -> response complete
    bool complete = false;
    std::string error;
};

class Fetch {
  public:
    Fetch(std::vector<FetchRequest> requests, std::vector<std::string> outputs,
          RequestOptions options, bool progress, std::FILE* verbose);
    ~Fetch();
    Fetch(const Fetch&) = delete;
    Fetch& operator=(const Fetch&) = delete;

    size_t size() const { return states_.size(); }
    const FetchRequest& request(size_t i) const { return states_[i].r; }
    const RequestOptions& options() const { return o_; }

    // Opens the -d @FILE / --data-binary @FILE body. Returns "" or why not (exit 26).
    std::string open_body();
    uint64_t body_size() const { return body_size_; }
    // The request body's bytes at `offset` (into `buf` when read from a file); fails when
    // the file shrank or cannot be read.
    quic::Result<quic::ByteSpan> body_chunk(uint64_t offset, std::vector<uint8_t>& buf) const;
    // The HTTP/3 header section of request i: pseudo-header fields, defaults, -H fields.
    std::vector<quic::h3::Field> request_fields(size_t i) const;

    // --- what the protocol reports -----------------------------------------------------------
    // Request i went out (fields: what -v shows; empty for hq). Returns false when its output
    // cannot be opened: the request then ended, and the protocol cancels its stream.
    bool sent(size_t i, quic::Time now, const std::vector<quic::h3::Field>& fields);
    // The response's header section (h3), or its first byte (hq: status 200).
    void response(size_t i, quic::Time now, unsigned status,
                  const std::vector<quic::h3::Field>& fields);
    // Body bytes. Returns false when they could not be written: the request ended, and the
    // protocol cancels its stream.
    bool body(size_t i, quic::Time now, quic::ByteSpan data);
    void uploaded(size_t i, uint64_t n) { states_[i].result.body_sent += n; }
    // Request i is over: whole (`complete`), or failed for `why`.
    void end(size_t i, quic::Time now, bool complete, const std::string& why,
             FetchFailure failure = FetchFailure::kOther);
    bool ended(size_t i) const { return states_[i].ended; }
    // Runs once every request has ended.
    void on_finished(std::function<void()> cb) { on_finished_ = std::move(cb); }

    bool finished() const { return ended_ == states_.size(); }
    bool all_complete() const { return complete_ == states_.size(); }
    FetchFailure failure() const { return failure_kind_; }
    const std::string& first_failure() const { return failure_; }
    uint64_t bytes_received() const { return bytes_; }
    std::vector<FetchResult> results() const;

    // --record: where the protocol writes what it sends (null: not recording).
    void set_recorder(replay::Recorder* r) { recorder_ = r; }
    replay::Recorder* recorder() const { return recorder_; }

    // -v: a line on stderr ("* ", "> ", "< " prefixes as curl's).
    void vlog(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    bool verbose() const { return verbose_ != nullptr; }
    void draw_progress(quic::Time now, bool force);
    void end_progress();

  private:
    struct State {
        FetchRequest r;
        FetchResult result;
        bool ended = false;
        bool discard = false;  // -f and an error status: the body is read and dropped
        std::optional<uint64_t> content_length;
        quic::Time sent{}, first_byte{};
        bool has_first_byte = false, was_sent = false;
    };

    std::vector<State> states_;
    OrderedOutput output_;
    RequestOptions o_;
    bool progress_;
    std::FILE* verbose_;
    int body_fd_ = -1;
    uint64_t body_size_ = 0;
    size_t ended_ = 0, complete_ = 0;
    uint64_t bytes_ = 0;
    FetchFailure failure_kind_ = FetchFailure::kNone;
    std::string failure_;
    std::function<void()> on_finished_;
    replay::Recorder* recorder_ = nullptr;
    quic::Time progress_start_{}, progress_drawn_{};
    bool progress_started_ = false, progress_shown_ = false;
};

// One protocol's way of sending Fetch's requests on a connection.
class FetchProtocol {
  public:
    virtual ~FetchProtocol() = default;
    // The connection can carry requests now (before the handshake: 0-RTT).
    virtual void start() = 0;
    // Protocol statistics for --json (QPACK counters) and a -v summary line ("" for none).
    virtual void add_json(nlohmann::json& j) const { (void)j; }
    virtual std::string summary() const { return ""; }
};

std::unique_ptr<FetchProtocol> make_hq_fetch(Fetch& fetch,
                                             std::shared_ptr<quic::uv::Connection> connection);
std::unique_ptr<FetchProtocol> make_h3_fetch(Fetch& fetch,
                                             std::shared_ptr<quic::uv::Connection> connection);

}  // namespace quiver
