// The client side of HTTP/3 (RFC 9114) over one connection, curl-like: every URL is one
// request stream, all at once as far as the server's stream limit allows; each response
// body goes to its file or, in URL order, to stdout (-i puts the status line and header
// fields before it). A request body (-d, --data-binary @FILE) streams as flow control allows.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "http3/session.h"
#include "quic/connection.h"

namespace quiver {

struct H3Request {
    std::string url;        // as given, for messages and --json
    std::string authority;  // host[:port]
    std::string path;       // "/a/b?q"
    std::string output;     // a file name, or "" for stdout
};

struct H3ClientOptions {
    std::string method = "GET";
    // Extra header fields (-H), names lower-cased; an empty value removes a default field.
    std::vector<quic::h3::Field> headers;
    // The request body: `body` bytes, or the file `body_file` when set.
    bool has_body = false;
    std::string body, body_file;
    bool include_headers = false;  // -i / -I: status line and fields before the body
    bool fail_on_error = false;    // -f: a status >= 400 fails (exit 22), its body is dropped
    bool progress = false;         // a progress bar on stderr
    std::FILE* verbose = nullptr;  // -v: curl-style "* ", "> ", "< " lines
};

// What --json reports per request.
struct H3Result {
    std::string url;
    unsigned status = 0;
    uint64_t bytes = 0;        // response body bytes
    uint64_t body_sent = 0;    // request body bytes
    int64_t ttfb_ns = -1;      // request sent -> response header section
    int64_t duration_ns = -1;  // request sent -> response complete
    bool complete = false;
    std::string error;
};

class H3Client {
  public:
    H3Client(std::shared_ptr<quic::Connection> connection, std::vector<H3Request> requests,
             H3ClientOptions options);
    ~H3Client();
    H3Client(const H3Client&) = delete;
    H3Client& operator=(const H3Client&) = delete;

    // Starts the session (control and QPACK streams) and, with `early`, sends the requests
    // now (0-RTT when a ticket allows it); otherwise they go once the handshake completes.
    // Returns an error text ("" on success).
    std::string start(quic::Time now, bool early);
    // The next event after the client handled it (the caller handles its own: tickets,
    // ConnectionClosed...); nullopt when none for now.
    std::optional<quic::h3::SessionEvent> poll_event(quic::Time now);

    bool finished() const { return ended_ == states_.size(); }
    bool all_complete() const { return complete_ == states_.size(); }
    const std::string& first_failure() const { return failure_; }
    bool write_failed() const { return write_failed_; }
    bool http_failed() const { return http_failed_; }  // -f and a status >= 400
    bool stream_failed() const { return stream_failed_; }
    std::vector<H3Result> results() const;
    uint64_t bytes_received() const { return bytes_; }
    quic::h3::SessionStats stats() const { return session_.stats(); }
    void end_progress();

  private:
    struct State {
        H3Request r;
        uint64_t stream = 0;
        bool opened = false, ended = false, complete = false;
        unsigned status = 0;
        std::FILE* file = nullptr;
        std::string held;      // stdout output waiting for the requests before it
        bool discard = false;  // -f and an error status: the body is read and dropped
        uint64_t bytes = 0, body_sent = 0;
        std::optional<uint64_t> content_length;
        bool body_done = true;
        quic::Time sent{}, first_byte{}, done{};
        bool has_first_byte = false;
        std::string error;
    };
    void handle(const quic::h3::SessionEvent& event);
    void open_requests();
    void pump_body(State& s);
    void on_response(State& s, unsigned status, const std::vector<quic::h3::Field>& fields);
    void read(State& s);
    void emit(State& s, const char* data, size_t n);
    void end(State& s, bool complete, const std::string& why);
    void flush_stdout();
    void draw_progress(bool force);
    State* by_stream(uint64_t id);
    std::vector<quic::h3::Field> request_fields(const State& s) const;
    void vlog(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

    std::shared_ptr<quic::Connection> connection_;
    quic::h3::Session session_;
    H3ClientOptions o_;
    std::vector<State> states_;
    std::unordered_map<uint64_t, size_t> by_stream_;
    quic::Time now_{};
    bool handshake_done_ = false, may_open_ = false;
    int body_fd_ = -1;
    uint64_t body_size_ = 0;
    size_t next_to_open_ = 0, next_stdout_ = 0;
    size_t ended_ = 0, complete_ = 0;
    uint64_t bytes_ = 0;
    bool write_failed_ = false, http_failed_ = false, stream_failed_ = false;
    std::string failure_;
    std::vector<uint8_t> buf_;
    // Progress bar.
    quic::Time progress_start_{}, progress_drawn_{};
    bool progress_shown_ = false;
};

}  // namespace quiver
