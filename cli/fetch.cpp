#include "fetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "quic/http3/message.h"
#include "quic/uv/clock.h"

namespace quiver {
namespace {

using quic::h3::Field;

// The progress bar is redrawn at most this often.
constexpr auto kProgressInterval = std::chrono::milliseconds(100);
// Bytes of the request body read from a file per chunk.
constexpr size_t kBodyChunk = 64 * 1024;

std::string human_bytes(double n) {
    static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && u < 4) n /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", n, kUnits[u]);
    return buf;
}

std::vector<std::string> and_empty(std::vector<std::string> v, size_t n) {
    v.resize(n);
    return v;
}

}  // namespace

Fetch::Fetch(std::vector<FetchRequest> requests, std::vector<std::string> outputs,
             RequestOptions options, bool progress, std::FILE* verbose)
    : output_(and_empty(std::move(outputs), requests.size())),
      o_(std::move(options)),
      progress_(progress),
      verbose_(verbose) {
    for (FetchRequest& r : requests) {
        State s;
        s.result.url = r.url;
        s.r = std::move(r);
        states_.push_back(std::move(s));
    }
}

Fetch::~Fetch() {
    if (body_fd_ >= 0) ::close(body_fd_);
}

void Fetch::vlog(const char* fmt, ...) {
    if (!verbose_) return;
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(verbose_, fmt, ap);
    va_end(ap);
    std::fputc('\n', verbose_);
}

// --- the request -------------------------------------------------------------------------------

std::string Fetch::open_body() {
    if (o_.has_body && !o_.body_file.empty()) {
        body_fd_ = ::open(o_.body_file.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (body_fd_ < 0 || fstat(body_fd_, &st) != 0)
            return "cannot read " + o_.body_file + ": " + std::strerror(errno);
        body_size_ = static_cast<uint64_t>(st.st_size);
    } else if (o_.has_body) {
        body_size_ = o_.body.size();
    }
    return "";
}

quic::Result<quic::ByteSpan> Fetch::body_chunk(uint64_t offset, std::vector<uint8_t>& buf) const {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kBodyChunk, body_size_ - offset));
    if (body_fd_ < 0)
        return quic::ByteSpan(reinterpret_cast<const uint8_t*>(o_.body.data()) + offset, want);
    buf.resize(kBodyChunk);
    const ssize_t got = want ? ::pread(body_fd_, buf.data(), want, static_cast<off_t>(offset)) : 0;
    if (got < 0 || (want && got == 0))
        return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument,
                                    "cannot read " + o_.body_file + ": file shrank or failed");
    return quic::ByteSpan(buf.data(), static_cast<size_t>(got));
}

std::vector<Field> Fetch::request_fields(size_t i) const {
    const State& s = states_[i];
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

// --- what the protocol reports -------------------------------------------------------------------

bool Fetch::sent(size_t i, quic::Time now, const std::vector<Field>& fields) {
    State& s = states_[i];
    s.sent = now;
    s.was_sent = true;
    if (!progress_started_) progress_start_ = now, progress_started_ = true;
    if (!fields.empty() && verbose_) {
        vlog("> %s %s HTTP/3", o_.method.c_str(), s.r.path.c_str());
        for (const Field& f : fields)
            if (f.name != ":method" && f.name != ":path" && f.name != ":scheme")
                vlog("> %s: %s", f.name.c_str(), f.value.c_str());
        vlog(">");
    }
    if (std::string e = output_.open(i); !e.empty()) {
        end(i, now, false, e, FetchFailure::kWrite);
        return false;
    }
    return true;
}

void Fetch::response(size_t i, quic::Time now, unsigned status, const std::vector<Field>& fields) {
    State& s = states_[i];
    s.result.status = status;
    s.first_byte = now;
    s.has_first_byte = true;
    if (const std::string* cl = quic::h3::find_field(fields, "content-length")) {
        char* end = nullptr;
        const unsigned long long v = std::strtoull(cl->c_str(), &end, 10);
        if (end && *end == '\0') s.content_length = v;
    }
    if (verbose_ && !fields.empty()) {
        vlog("< HTTP/3 %u", status);
        for (const Field& f : fields)
            if (f.name != ":status") vlog("< %s: %s", f.name.c_str(), f.value.c_str());
        vlog("<");
    }
    if (o_.fail_on_error && status >= 400) {
        s.discard = true;
        s.result.error = s.r.url + ": the requested URL returned error: " + std::to_string(status);
        if (failure_.empty()) failure_ = s.result.error, failure_kind_ = FetchFailure::kRefused;
        return;
    }
    if (o_.include_headers && !fields.empty()) {
        std::string block = "HTTP/3 " + std::to_string(status) + "\r\n";
        for (const Field& f : fields)
            if (f.name != ":status") block += f.name + ": " + f.value + "\r\n";
        block += "\r\n";
        if (std::string e = output_.write(i, block.data(), block.size()); !e.empty())
            end(i, now, false, e, FetchFailure::kWrite);
    }
}

bool Fetch::body(size_t i, quic::Time now, quic::ByteSpan data) {
    State& s = states_[i];
    if (s.ended) return false;
    s.result.bytes += data.size();
    bytes_ += data.size();
    if (!s.discard) {
        const std::string e =
            output_.write(i, reinterpret_cast<const char*>(data.data()), data.size());
        if (!e.empty()) {
            end(i, now, false, e, FetchFailure::kWrite);
            return false;
        }
    }
    if (progress_) draw_progress(now, false);
    return true;
}

void Fetch::end(size_t i, quic::Time now, bool complete, const std::string& why,
                FetchFailure failure) {
    State& s = states_[i];
    if (s.ended) return;
    s.ended = true;
    if (s.was_sent) s.result.duration_ns = (now - s.sent).count();
    if (s.has_first_byte) s.result.ttfb_ns = (s.first_byte - s.sent).count();
    ++ended_;
    if (std::string e = output_.end(i); !e.empty() && complete) {
        complete = false;
        failure = FetchFailure::kWrite;
        s.result.error = e;
    }
    if (complete && !s.discard) {
        s.result.complete = true;
        ++complete_;
    } else if (!complete) {
        if (s.result.error.empty()) s.result.error = why.empty() ? s.r.url + ": failed" : why;
        if (failure_.empty() || failure == FetchFailure::kWrite) {
            failure_ = s.result.error;
            failure_kind_ = failure;
        }
        vlog("* %s", s.result.error.c_str());
    }
    if (progress_) draw_progress(now, finished());
    if (finished() && on_finished_) {
        auto cb = std::move(on_finished_);
        on_finished_ = nullptr;
        cb();
    }
}

std::vector<FetchResult> Fetch::results() const {
    std::vector<FetchResult> out;
    for (const State& s : states_) out.push_back(s.result);
    return out;
}

// --- progress ----------------------------------------------------------------------------------

void Fetch::draw_progress(quic::Time now, bool force) {
    if (!force && now - progress_drawn_ < kProgressInterval) return;
    progress_drawn_ = now;
    uint64_t total = 0;
    bool known = true;
    for (const State& s : states_) {
        if (s.content_length)
            total += *s.content_length;
        else
            known = false;
    }
    const double secs =
        std::max(1e-3, std::chrono::duration<double>(now - progress_start_).count());
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

void Fetch::end_progress() {
    if (!progress_ || !progress_shown_) return;
    std::fputc('\n', stderr);
    progress_shown_ = false;
}

}  // namespace quiver
