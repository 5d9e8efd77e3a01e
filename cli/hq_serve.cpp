#include "hq_serve.h"

#include "body_source.h"
#include "hq_interop.h"
#include "root_path.h"

namespace quiver {
namespace {

// One request stream: the request line as it arrives, then the file going out.
struct HqRequest {
    std::string line;
    BodySource body;
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
        s->on_writable([self, req](quic::uv::Stream& st) { self->pump(st, *req); });
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
        r.body = BodySource::file(file.fd, file.size);
        log_("stream %llu: GET %s (%llu bytes)", (unsigned long long)s.id(), path->c_str(),
             (unsigned long long)r.body.size());
        pump(s, r);
    }

    void pump(quic::uv::Stream& s, HqRequest& r) {
        if (!r.answered || r.body.done()) return;
        auto sent = r.body.pump([&](quic::ByteSpan d, bool fin) { return s.write(d, fin); });
        if (!sent.ok() && sent.error().kind == quic::ErrorKind::kInvalidArgument)
            refuse(s, r, kHqReadError, "file shrank or read failed");
    }

    void refuse(quic::uv::Stream& s, HqRequest& r, uint64_t code, const char* why) {
        log_("stream %llu: reset with 0x%llx (%s)", (unsigned long long)s.id(),
             (unsigned long long)code, why);
        r.answered = true;
        r.body = BodySource();
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
