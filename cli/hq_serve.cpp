#include "hq_serve.h"

#include "file_source.h"
#include "hq_interop.h"
#include "root_path.h"

namespace quiver {
namespace {

// One request stream: the request line as it arrives; the file then goes to the stream at once.
struct HqRequest {
    std::string line;
    bool answered = false;  // sent or refused: later bytes are read and dropped
};

class HqConnection : public std::enable_shared_from_this<HqConnection> {
  public:
    HqConnection(std::shared_ptr<const ServedRoot> root, Log log)
        : root_(std::move(root)), log_(std::move(log)) {}

    void on_stream(const std::shared_ptr<quic::uv::Stream>& s) {
        auto req = std::make_shared<HqRequest>();
        auto self = shared_from_this();
        s->on_readable([self, req](quic::uv::Stream& st) { self->read(st, *req); });
    }

  private:
    void read(quic::uv::Stream& s, HqRequest& r) {
        uint8_t buf[1024];
        bool fin = false;
        for (;;) {
            auto n = s.read(buf, &fin);
            if (!n.ok()) return;  // reset by the client: nothing to answer
            if (r.answered) {
                if (*n == 0 || fin) return;
                continue;
            }
            r.line.append(reinterpret_cast<const char*>(buf), *n);
            if (r.line.size() > kHqMaxRequest) return refuse(s, r, kHqBadRequest, "too long");
            if (*n == 0 || fin) break;
        }
        // Answer at the line end or at FIN, whichever comes first.
        if (fin || r.line.find('\n') != std::string::npos) answer(s, r);
    }

    void answer(quic::uv::Stream& s, HqRequest& r) {
        r.answered = true;
        auto path = hq_parse_request(r.line);
        r.line.clear();
        r.line.shrink_to_fit();
        if (!path) return refuse(s, r, kHqBadRequest, "not a GET request");
        OpenedFile file = root_->open(*path);
        if (file.error) {
            log_("stream %llu: GET %s refused", (unsigned long long)s.id(), path->c_str());
            return refuse(s, r, file.error, hq_error_name(file.error));
        }
        log_("stream %llu: GET %s (%llu bytes)", (unsigned long long)s.id(), path->c_str(),
             (unsigned long long)file.size);
        if (file.size <= kReadWholeFileMax) {
            auto whole = read_whole_file(file.fd, file.size);
            if (!whole) return refuse(s, r, kHqReadError, "file shrank or read failed");
            auto sent = s.write_all(
                quic::ByteSpan(reinterpret_cast<const uint8_t*>(whole->data()), whole->size()),
                true);
            if (!sent.ok())
                log_("stream %llu: %s", (unsigned long long)s.id(),
                     sent.error().to_string().c_str());
            return;
        }
        // The whole file at once, read as it is sent; a read that fails later resets the
        // stream with kHqReadError (file_source.h).
        auto sent =
            s.write_source(file.size, file_source(file.fd, file.size, file.ctime_ns), kHqReadError);
        if (!sent.ok())
            log_("stream %llu: %s", (unsigned long long)s.id(), sent.error().to_string().c_str());
    }

    void refuse(quic::uv::Stream& s, HqRequest& r, uint64_t code, const char* why) {
        log_("stream %llu: reset with 0x%llx (%s)", (unsigned long long)s.id(),
             (unsigned long long)code, why);
        r.answered = true;
        s.cancel_write(code);
    }

    std::shared_ptr<const ServedRoot> root_;
    Log log_;
};

}  // namespace

void serve_hq(std::shared_ptr<quic::uv::Connection> connection,
              std::shared_ptr<const ServedRoot> root, Log log) {
    auto state = std::make_shared<HqConnection>(std::move(root), std::move(log));
    // The callbacks hold the state; the connection holds the callbacks until it is gone.
    connection->on_stream([state](std::shared_ptr<quic::uv::Stream> s) { state->on_stream(s); });
}

}  // namespace quiver
