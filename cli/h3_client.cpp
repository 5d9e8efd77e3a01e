#include "h3_client.h"
#include "quic/overloaded.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "conn_log.h"
#include "http3/error.h"
#include "http3/message.h"

namespace quiver {
namespace {

using quic::h3::Field;

constexpr size_t kChunk = 64 * 1024;
// The progress bar is redrawn at most this often.
constexpr auto kProgressInterval = std::chrono::milliseconds(100);

std::string human_bytes(double n) {
    static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && u < 4) n /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", n, kUnits[u]);
    return buf;
}

}  // namespace

H3Client::H3Client(std::shared_ptr<quic::Connection> connection, std::vector<H3Request> requests,
                   H3ClientOptions options)
    : connection_(connection),
      session_(std::move(connection), quic::h3::Perspective::kClient),
      o_(std::move(options)),
      buf_(kChunk) {
    for (H3Request& r : requests) states_.push_back(State{std::move(r)});
}

H3Client::~H3Client() {
    for (State& s : states_)
        if (s.file) std::fclose(s.file);
    if (body_fd_ >= 0) ::close(body_fd_);
}

void H3Client::vlog(const char* fmt, ...) {
    if (!o_.verbose) return;
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(o_.verbose, fmt, ap);
    va_end(ap);
    std::fputc('\n', o_.verbose);
}

std::string H3Client::start(quic::Time now, bool early) {
    now_ = progress_start_ = now;
    if (o_.has_body && !o_.body_file.empty()) {
        body_fd_ = ::open(o_.body_file.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (body_fd_ < 0 || fstat(body_fd_, &st) != 0)
            return "cannot read " + o_.body_file + ": " + std::strerror(errno);
        body_size_ = static_cast<uint64_t>(st.st_size);
    } else if (o_.has_body) {
        body_size_ = o_.body.size();
    }
    if (auto st = session_.start(); !st) return st.error().to_string();
    flush_stdout();  // skips leading requests that go to files
    may_open_ = early;
    if (early) open_requests();
    return "";
}

std::optional<quic::h3::SessionEvent> H3Client::poll_event(quic::Time now) {
    now_ = now;
    auto ev = session_.poll_event(now);
    if (ev) handle(*ev);
    if (o_.progress) draw_progress(false);
    return ev;
}

H3Client::State* H3Client::by_stream(uint64_t id) {
    auto it = by_stream_.find(id);
    return it == by_stream_.end() ? nullptr : &states_[it->second];
}

void H3Client::handle(const quic::h3::SessionEvent& event) {
    using namespace quic;
    using namespace quic::h3;
    std::visit(
        quic::Overloaded{
            [&](const HandshakeCompleted&) {
                handshake_done_ = true;
                const ConnectionInfo& i = connection_->info();
                vlog("* QUIC version 0x%x, ALPN %s, cipher %s%s%s", i.version, i.alpn.c_str(),
                     i.cipher.c_str(), i.resumed ? ", resumed" : "",
                     i.early_data_accepted ? ", 0-RTT accepted" : "");
                vlog("* handshake completed in %.1f ms",
                     double(connection_->stats().handshake_duration_ns) / 1e6);
                may_open_ = true;
                open_requests();
            },
            [&](const StreamsAvailable& e) {
                if (e.bidirectional && may_open_) open_requests();
            },
            [&](const ZeroRttRejected&) { vlog("* 0-RTT rejected by the server"); },
            [&](const ResponseHeaders& e) {
                if (State* s = by_stream(e.stream_id)) on_response(*s, e.status, e.fields);
            },
            [&](const InterimResponse& e) { vlog("< HTTP/3 %u (interim)", e.status); },
            [&](const BodyReadable& e) {
                if (State* s = by_stream(e.stream_id); s && !s->ended) read(*s);
            },
            [&](const Trailers& e) {
                for (const Field& f : e.fields) vlog("< %s: %s", f.name.c_str(), f.value.c_str());
            },
            [&](const MessageComplete& e) {
                if (State* s = by_stream(e.stream_id); s && !s->ended) {
                    read(*s);
                    end(*s, true, "");
                }
            },
            [&](const StreamWritable& e) {
                if (State* s = by_stream(e.stream_id); s && !s->ended) pump_body(*s);
            },
            [&](const StreamAborted& e) {
                if (State* s = by_stream(e.stream_id); s && !s->ended) {
                    stream_failed_ = true;
                    end(*s, false,
                        s->r.url + ": the stream was reset with " + h3_error_name(e.error_code));
                }
            },
            [&](const GoAwayReceived& e) {
                vlog("* GOAWAY from the server (stream %llu)", (unsigned long long)e.id);
            },
            [](const auto&) {},
        },
        event);
}

std::vector<Field> H3Client::request_fields(const State& s) const {
    std::vector<Field> f = {{":method", o_.method},
                            {":scheme", "https"},
                            {":authority", s.r.authority},
                            {":path", s.r.path}};
    std::vector<Field> defaults = {{"user-agent", std::string("quiver/") + QUIVER_VERSION},
                                   {"accept", "*/*"}};
    if (o_.has_body) {
        defaults.push_back({"content-type", "application/x-www-form-urlencoded"});
        defaults.push_back({"content-length", std::to_string(body_size_)});
    }
    auto given = [&](const std::string& name) {
        return std::any_of(o_.headers.begin(), o_.headers.end(),
                           [&](const Field& h) { return h.name == name; });
    };
    for (Field& d : defaults)
        if (!given(d.name)) f.push_back(std::move(d));
    for (const Field& h : o_.headers)
        if (!h.value.empty()) f.push_back(h);
    return f;
}

void H3Client::open_requests() {
    while (next_to_open_ < states_.size()) {
        State& s = states_[next_to_open_];
        const std::vector<Field> fields = request_fields(s);
        auto id = session_.send_request(fields, !o_.has_body);
        if (!id.ok()) {
            if (id.error().is_transport(quic::TransportErrorCode::kStreamLimitError))
                return;  // StreamsAvailable brings us back
            ++next_to_open_;
            stream_failed_ = true;
            end(s, false, s.r.url + ": cannot send the request: " + id.error().to_string());
            continue;
        }
        ++next_to_open_;
        s.stream = *id;
        s.opened = true;
        s.sent = now_;
        by_stream_[s.stream] = next_to_open_ - 1;
        if (o_.verbose) {
            vlog("> %s %s HTTP/3", o_.method.c_str(), s.r.path.c_str());
            for (const Field& f : fields)
                if (f.name != ":method" && f.name != ":path" && f.name != ":scheme")
                    vlog("> %s: %s", f.name.c_str(), f.value.c_str());
            vlog(">");
        }
        if (!s.r.output.empty()) {
            s.file = std::fopen(s.r.output.c_str(), "wb");
            if (!s.file) {
                write_failed_ = true;
                (void)session_.cancel(s.stream);
                end(s, false, "cannot write " + s.r.output + ": " + std::strerror(errno));
                continue;
            }
        }
        s.body_done = !o_.has_body;
        if (o_.has_body) pump_body(s);
    }
}

void H3Client::pump_body(State& s) {
    while (!s.body_done) {
        const uint64_t left = body_size_ - s.body_sent;
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, left));
        quic::ByteSpan chunk;
        if (body_fd_ >= 0) {
            const ssize_t got =
                want ? ::pread(body_fd_, buf_.data(), want, static_cast<off_t>(s.body_sent)) : 0;
            if (got < 0 || (want && got == 0)) {
                (void)session_.cancel(s.stream);
                return end(s, false, "cannot read " + o_.body_file + ": file shrank or failed");
            }
            chunk = quic::ByteSpan(buf_.data(), static_cast<size_t>(got));
        } else {
            chunk = quic::ByteSpan(reinterpret_cast<const uint8_t*>(o_.body.data()) + s.body_sent,
                                   want);
        }
        const bool last = s.body_sent + chunk.size() == body_size_;
        auto n = session_.send_body(s.stream, chunk, last);
        if (!n.ok()) return;  // the stream is gone: StreamAborted says why
        s.body_sent += *n;
        if (*n < chunk.size()) return;  // StreamWritable resumes
        if (last) s.body_done = true;
    }
}

void H3Client::on_response(State& s, unsigned status, const std::vector<Field>& fields) {
    s.status = status;
    s.first_byte = now_;
    s.has_first_byte = true;
    if (const std::string* cl = quic::h3::find_field(fields, "content-length")) {
        char* end = nullptr;
        const unsigned long long v = std::strtoull(cl->c_str(), &end, 10);
        if (end && *end == '\0') s.content_length = v;
    }
    if (o_.verbose) {
        vlog("< HTTP/3 %u", status);
        for (const Field& f : fields)
            if (f.name != ":status") vlog("< %s: %s", f.name.c_str(), f.value.c_str());
        vlog("<");
    }
    if (o_.fail_on_error && status >= 400) {
        s.discard = true;
        http_failed_ = true;
        s.error = s.r.url + ": the requested URL returned error: " + std::to_string(status);
        if (failure_.empty()) failure_ = s.error;
        return;
    }
    if (o_.include_headers) {
        std::string block = "HTTP/3 " + std::to_string(status) + "\r\n";
        for (const Field& f : fields)
            if (f.name != ":status") block += f.name + ": " + f.value + "\r\n";
        block += "\r\n";
        emit(s, block.data(), block.size());
    }
}

void H3Client::read(State& s) {
    for (;;) {
        bool fin = false;
        auto n = session_.read_body(s.stream, buf_, &fin);
        if (!n.ok() || *n == 0) return;
        s.bytes += *n;
        bytes_ += *n;
        if (!s.discard) emit(s, reinterpret_cast<const char*>(buf_.data()), *n);
        if (s.ended || fin) return;
    }
}

void H3Client::emit(State& s, const char* data, size_t n) {
    std::FILE* out = s.file;
    if (!out) {
        if (&s != &states_[next_stdout_]) {
            s.held.append(data, n);
            return;
        }
        out = stdout;
    }
    if (std::fwrite(data, 1, n, out) != n) {
        write_failed_ = true;
        (void)session_.cancel(s.stream);
        end(s, false,
            "cannot write " + (s.file ? s.r.output : std::string("stdout")) + ": " +
                std::strerror(errno));
    }
}

void H3Client::end(State& s, bool complete, const std::string& why) {
    if (s.ended) return;
    s.ended = true;
    s.done = now_;
    ++ended_;
    if (s.file) {
        if (std::fclose(s.file) != 0 && complete) {
            complete = false;
            write_failed_ = true;
        }
        s.file = nullptr;
    }
    if (complete) {
        s.complete = true;
        ++complete_;
    } else {
        s.error = why.empty() ? s.r.url + ": failed" : why;
        if (failure_.empty()) failure_ = s.error;
        vlog("* %s", s.error.c_str());
    }
    flush_stdout();
    if (o_.progress) draw_progress(finished());
}

// Shows held stdout output in URL order: each response once all before it ended.
void H3Client::flush_stdout() {
    while (next_stdout_ < states_.size()) {
        State& s = states_[next_stdout_];
        if (!s.r.output.empty()) {
            ++next_stdout_;
            continue;
        }
        if (!s.held.empty()) {
            std::fwrite(s.held.data(), 1, s.held.size(), stdout);
            s.held.clear();
            s.held.shrink_to_fit();
        }
        if (!s.ended) return;
        ++next_stdout_;
    }
    std::fflush(stdout);
}

void H3Client::draw_progress(bool force) {
    if (!force && now_ - progress_drawn_ < kProgressInterval) return;
    progress_drawn_ = now_;
    uint64_t total = 0;
    bool known = true;
    for (const State& s : states_) {
        if (s.content_length)
            total += *s.content_length;
        else
            known = false;
    }
    const double secs =
        std::max(1e-3, std::chrono::duration<double>(now_ - progress_start_).count());
    const double rate = double(bytes_) / secs;
    char line[160];
    if (known && total > 0) {
        const double frac = std::min(1.0, double(bytes_) / double(total));
        char bar[31];
        const int filled = static_cast<int>(frac * 30);
        for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '#' : '-';
        bar[30] = '\0';
        std::snprintf(line, sizeof line, "\r[%s] %3.0f%% %s of %s, %s/s, %zu/%zu files  ", bar,
                      frac * 100, human_bytes(double(bytes_)).c_str(),
                      human_bytes(double(total)).c_str(), human_bytes(rate).c_str(), ended_,
                      states_.size());
    } else {
        std::snprintf(line, sizeof line, "\r%s, %s/s, %zu/%zu files  ",
                      human_bytes(double(bytes_)).c_str(), human_bytes(rate).c_str(), ended_,
                      states_.size());
    }
    std::fputs(line, stderr);
    progress_shown_ = true;
}

void H3Client::end_progress() {
    if (!o_.progress || !progress_shown_) return;
    std::fputc('\n', stderr);
    progress_shown_ = false;
}

std::vector<H3Result> H3Client::results() const {
    std::vector<H3Result> out;
    for (const State& s : states_) {
        H3Result r;
        r.url = s.r.url;
        r.status = s.status;
        r.bytes = s.bytes;
        r.body_sent = s.body_sent;
        r.complete = s.complete;
        r.error = s.error;
        if (s.opened && s.has_first_byte) r.ttfb_ns = (s.first_byte - s.sent).count();
        if (s.opened && s.ended) r.duration_ns = (s.done - s.sent).count();
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace quiver
