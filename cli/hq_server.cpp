#include "hq_server.h"
#include "quic/overloaded.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <vector>

#include "conn_log.h"
#include "hq_interop.h"
#include "root_path.h"

namespace quiver {
namespace {

// Bytes read from a file per write attempt.
constexpr size_t kChunk = 64 * 1024;

}  // namespace

HqServerSession::HqServerSession(std::shared_ptr<quic::Connection> connection, std::string root,
                                 std::FILE* log)
    : connection_(std::move(connection)),
      root_(std::move(root)),
      log_(log),
      name_(connection_->path().remote.to_string()) {
    logf("new connection");
}

HqServerSession::~HqServerSession() {
    for (auto& [id, r] : requests_)
        if (r.fd >= 0) ::close(r.fd);
}

void HqServerSession::logf(const char* fmt, ...) {
    if (!log_) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::fprintf(log_, "quiver server: %s: %s\n", name_.c_str(), buf);
}

void HqServerSession::on_activity() {
    using namespace quic;
    while (auto event = connection_->poll_event()) {
        if (log_ && !std::holds_alternative<StreamReadable>(*event) &&
            !std::holds_alternative<StreamWritable>(*event))
            logf("%s", describe(*event).c_str());
        std::visit(quic::Overloaded{
                       [&](const HandshakeCompleted&) {
                           logf("%s", describe(connection_->info()).c_str());
                       },
                       [&](const StreamReadable& e) { on_readable(e.stream_id); },
                       [&](const StreamWritable& e) { pump(e.stream_id); },
                       // The client abandoned its request: nothing to answer.
                       [&](const StreamResetReceived& e) {
                           if (requests_[e.stream_id].fd < 0) done(requests_[e.stream_id]);
                       },
                       // The client will not read (the connection answered with RESET_STREAM).
                       [&](const StopSendingReceived& e) { done(requests_[e.stream_id]); },
                       [&](const ConnectionClosed&) {
                           logf("%s", describe(connection_->stats()).c_str());
                       },
                       [](const auto&) {},
                   },
                   *event);
    }
}

void HqServerSession::on_readable(uint64_t id) {
    Request& r = requests_[id];
    uint8_t buf[1024];
    bool fin = false;
    for (;;) {
        auto n = connection_->read(id, buf, &fin);
        if (!n.ok()) return forget(id);
        // Bytes after the request line are read (for flow control) and ignored.
        if (r.answered || r.fd >= 0) {
            if (*n == 0 || fin) return;
            continue;
        }
        r.line.append(reinterpret_cast<const char*>(buf), *n);
        if (r.line.size() > kHqMaxRequest) return refuse(id, kHqBadRequest, "request too long");
        if (*n == 0 || fin) break;
    }
    // Answer at the line end or at FIN, whichever comes first.
    if (fin || r.line.find('\n') != std::string::npos) answer(id, r);
}

void HqServerSession::answer(uint64_t id, Request& r) {
    auto path = hq_parse_request(r.line);
    if (!path) return refuse(id, kHqBadRequest, "not a GET request");
    RootedFile file = resolve_under_root(root_, *path);
    if (file.error) {
        logf("stream %llu: GET %s refused", (unsigned long long)id, path->c_str());
        return refuse(id, file.error, hq_error_name(file.error));
    }
    r.fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (r.fd < 0 || fstat(r.fd, &st) != 0) return refuse(id, kHqNotFound, "cannot open");
    r.size = static_cast<uint64_t>(st.st_size);
    logf("stream %llu: GET %s (%llu bytes)", (unsigned long long)id, path->c_str(),
         (unsigned long long)r.size);
    pump(id);
}

void HqServerSession::pump(uint64_t id) {
    auto it = requests_.find(id);
    if (it == requests_.end() || it->second.fd < 0) return;
    Request& r = it->second;
    r.answered = true;
    std::vector<uint8_t> buf(static_cast<size_t>(std::min<uint64_t>(kChunk, r.size)));
    while (r.offset < r.size) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, r.size - r.offset));
        const ssize_t got = ::pread(r.fd, buf.data(), want, static_cast<off_t>(r.offset));
        if (got <= 0) return refuse(id, kHqReadError, "file shrank or read failed");
        const bool last = r.offset + static_cast<uint64_t>(got) == r.size;
        auto written = connection_->write(id, {buf.data(), static_cast<size_t>(got)}, last);
        if (!written.ok()) return forget(id);  // the stream is gone (reset, closed)
        r.offset += *written;
        if (*written < static_cast<size_t>(got)) return;  // StreamWritable resumes
    }
    if (r.size == 0) (void)connection_->finish(id);
    done(r);
}

void HqServerSession::refuse(uint64_t id, uint64_t code, const char* why) {
    logf("stream %llu: reset with 0x%llx (%s)", (unsigned long long)id, (unsigned long long)code,
         why);
    (void)connection_->reset_stream(id, code);
    done(requests_[id]);
}

void HqServerSession::done(Request& r) {
    if (r.fd >= 0) ::close(r.fd);
    r.fd = -1;
    r.answered = true;
    r.line.clear();
    r.line.shrink_to_fit();
}

void HqServerSession::forget(uint64_t id) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    if (it->second.fd >= 0) ::close(it->second.fd);
    requests_.erase(it);
}

}  // namespace quiver
