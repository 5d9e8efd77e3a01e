// hq-interop requests (cli/hq_interop.h) for Fetch: one bidirectional stream per file, opened
// as the server's stream limit allows, "GET /path\r\n" then FIN; the answer is the file's bytes.
#include <cstdio>
#include <map>

#include "fetch.h"
#include "hq_interop.h"
#include "quic/uv/clock.h"
#include "quic/uv/stream.h"

namespace quiver {
namespace {

using quic::uv::clock_now;

class HqFetch final : public FetchProtocol {
  public:
    HqFetch(Fetch& fetch, std::shared_ptr<quic::uv::Connection> c)
        : fetch_(fetch), conn_(std::move(c)), buf_(64 * 1024) {}

    void start() override {
        for (size_t i = 0; i < fetch_.size(); ++i) open(i);
    }

  private:
    void open(size_t i) {
        conn_->open_stream_when_allowed([this,
                                         i](quic::Result<std::shared_ptr<quic::uv::Stream>> s) {
            const FetchRequest& r = fetch_.request(i);
            if (!s.ok())
                return fetch_.end(i, clock_now(), false,
                                  r.path + ": cannot send the request: " + s.error().to_string());
            std::shared_ptr<quic::uv::Stream> stream = std::move(s).value();
            if (!fetch_.sent(i, clock_now(), {})) return abandon(*stream);
            streams_[i] = stream;
            stream->on_readable([this, i](quic::uv::Stream& st) { read(i, st); });
            const std::string line = hq_request(r.path);
            (void)stream->write_all({reinterpret_cast<const uint8_t*>(line.data()), line.size()},
                                    true);
        });
    }

    static void abandon(quic::uv::Stream& s) {
        s.cancel_read(0);
        s.cancel_write(0);
    }

    void read(size_t i, quic::uv::Stream& s) {
        for (;;) {
            bool fin = false;
            auto n = s.read(buf_, &fin);
            const quic::Time now = clock_now();
            if (!n.ok()) return failed(i, n.error());
            if (*n && !started_[i]) {
                started_[i] = true;
                fetch_.response(i, now, 200, {});
            }
            if (*n && !fetch_.body(i, now, {buf_.data(), *n})) return abandon(s);
            if (fin) {
                if (!started_[i]) fetch_.response(i, now, 200, {});
                fetch_.end(i, now, true, "");
                streams_.erase(i);
                return;
            }
            if (*n == 0) return;
        }
    }

    void failed(size_t i, const quic::Error& e) {
        const FetchRequest& r = fetch_.request(i);
        if (e.kind == quic::ErrorKind::kStreamReset && e.remote) {
            char why[128];
            std::snprintf(why, sizeof why, ": the server reset the stream with 0x%llx (%s)",
                          (unsigned long long)e.code, hq_error_name(e.code));
            fetch_.end(i, clock_now(), false, r.path + why, FetchFailure::kRefused);
        } else {
            fetch_.end(i, clock_now(), false, r.path + ": " + e.to_string());
        }
        streams_.erase(i);
    }

    Fetch& fetch_;
    std::shared_ptr<quic::uv::Connection> conn_;
    std::map<size_t, std::shared_ptr<quic::uv::Stream>> streams_;
    std::map<size_t, bool> started_;
    std::vector<uint8_t> buf_;
};

}  // namespace

std::unique_ptr<FetchProtocol> make_hq_fetch(Fetch& fetch,
                                             std::shared_ptr<quic::uv::Connection> connection) {
    return std::make_unique<HqFetch>(fetch, std::move(connection));
}

}  // namespace quiver
