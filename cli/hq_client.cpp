#include "hq_client.h"

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "hq_interop.h"

namespace quiver {

HqClient::HqClient(std::shared_ptr<quic::Connection> connection, std::vector<Download> downloads,
                   std::FILE* log)
    : connection_(std::move(connection)), log_(log) {
    for (Download& d : downloads) downloads_.push_back(State{std::move(d)});
    flush_stdout();  // skips leading downloads that go to files
}

HqClient::~HqClient() {
    for (State& s : downloads_)
        if (s.file) std::fclose(s.file);
}

void HqClient::logf(const char* fmt, ...) {
    if (!log_) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::fprintf(log_, "quiver client: %s\n", buf);
}

void HqClient::open_requests() {
    while (next_to_open_ < downloads_.size()) {
        State& s = downloads_[next_to_open_];
        auto id = connection_->open_stream(true);
        if (!id.ok()) return;  // the server's stream limit: StreamsAvailable brings us back
        ++next_to_open_;
        s.stream = *id;
        s.opened = true;
        by_stream_[s.stream] = next_to_open_ - 1;
        if (!s.d.output.empty()) {
            s.file = std::fopen(s.d.output.c_str(), "wb");
            if (!s.file) {
                write_failed_ = true;
                (void)connection_->reset_stream(s.stream, 0);
                end(s, false, "cannot write " + s.d.output + ": " + std::strerror(errno));
                continue;
            }
        }
        const std::string request = hq_request(s.d.path);
        auto n = connection_->write(
            s.stream, {reinterpret_cast<const uint8_t*>(request.data()), request.size()}, true);
        if (!n.ok() || *n != request.size()) {
            end(s, false, s.d.path + ": cannot send the request");
            continue;
        }
        logf("stream %llu: GET %s", (unsigned long long)s.stream, s.d.path.c_str());
    }
}

HqClient::State* HqClient::by_stream(uint64_t id) {
    auto it = by_stream_.find(id);
    return it == by_stream_.end() ? nullptr : &downloads_[it->second];
}

void HqClient::on_event(const quic::ConnectionEvent& event) {
    using namespace quic;
    if (std::holds_alternative<HandshakeCompleted>(event)) {
        open_requests();
    } else if (auto* a = std::get_if<StreamsAvailable>(&event)) {
        if (a->bidirectional) open_requests();
    } else if (auto* r = std::get_if<StreamReadable>(&event)) {
        if (State* s = by_stream(r->stream_id); s && !s->ended) read(*s);
    } else if (auto* reset = std::get_if<StreamResetReceived>(&event)) {
        if (State* s = by_stream(reset->stream_id); s && !s->ended) {
            char why[128];
            std::snprintf(why, sizeof why, ": the server reset the stream with 0x%llx (%s)",
                          (unsigned long long)reset->error_code, hq_error_name(reset->error_code));
            end(*s, false, s->d.path + why);
        }
    }
}

void HqClient::read(State& s) {
    uint8_t buf[64 * 1024];
    for (;;) {
        bool fin = false;
        auto n = connection_->read(s.stream, buf, &fin);
        if (!n.ok()) return;  // a reset: StreamResetReceived says why
        if (*n) emit(s, buf, *n);
        if (s.ended) return;
        if (fin) return end(s, true, "");
        if (*n == 0) return;
    }
}

void HqClient::emit(State& s, const uint8_t* data, size_t n) {
    bytes_ += n;
    std::FILE* out = s.file;
    if (!out) {
        if (&s != &downloads_[next_stdout_]) {
            s.held.append(reinterpret_cast<const char*>(data), n);
            return;
        }
        out = stdout;
    }
    if (std::fwrite(data, 1, n, out) != n) {
        write_failed_ = true;
        (void)connection_->stop_sending(s.stream, 0);
        end(s, false,
            "cannot write " + (s.file ? s.d.output : std::string("stdout")) + ": " +
                std::strerror(errno));
    }
}

void HqClient::end(State& s, bool complete, const std::string& why) {
    if (s.ended) return;
    s.ended = true;
    ++ended_;
    if (s.file) {
        if (std::fclose(s.file) != 0 && complete) {
            complete = false;
            write_failed_ = true;
        }
        s.file = nullptr;
    }
    if (complete) {
        ++complete_;
        logf("stream %llu: %s complete", (unsigned long long)s.stream, s.d.path.c_str());
    } else {
        if (failure_.empty()) failure_ = why.empty() ? s.d.path + ": failed" : why;
        logf("stream %llu: %s", (unsigned long long)s.stream, why.c_str());
    }
    flush_stdout();
}

// Shows held stdout output in URL order: each download's bytes once all before it ended.
void HqClient::flush_stdout() {
    while (next_stdout_ < downloads_.size()) {
        State& s = downloads_[next_stdout_];
        if (!s.d.output.empty()) {
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

}  // namespace quiver
