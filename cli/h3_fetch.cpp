// HTTP/3 requests (RFC 9114) for Fetch through the library's client (quic/http3/client.h):
// every request at once as far as the server's stream limit allows, each body streamed both
// ways under flow control.
#include <map>

#include "fetch.h"
#include "quic/http3/client.h"
#include "quic/http3/error.h"
#include "quic/uv/clock.h"
#include "replay_record.h"

namespace quiver {
namespace {

using quic::h3::Field;
using quic::uv::clock_now;

class H3Fetch final : public FetchProtocol {
  public:
    H3Fetch(Fetch& fetch, std::shared_ptr<quic::uv::Connection> c)
        : fetch_(fetch), client_(quic::h3::Client::create(std::move(c))), buf_(64 * 1024) {
        client_->on_streams_available([this] { open_requests(); });
        client_->on_goaway([this](uint64_t id) {
            fetch_.vlog("* GOAWAY from the server (stream %llu)", (unsigned long long)id);
        });
    }

    void start() override { open_requests(); }

    void add_json(nlohmann::json& j) const override {
        const quic::h3::SessionStats q = client_->stats();
        j["qpack"] = {{"sections_encoded", q.sections_encoded},
                      {"sections_encoded_dynamic", q.sections_encoded_dynamic},
                      {"encoder_inserts", q.encoder_insert_count},
                      {"sections_decoded", q.sections_decoded},
                      {"sections_decoded_dynamic", q.sections_decoded_dynamic},
                      {"sections_blocked", q.sections_blocked},
                      {"decoder_inserts", q.decoder_insert_count}};
    }

    std::string summary() const override {
        const quic::h3::SessionStats q = client_->stats();
        char line[256];
        std::snprintf(
            line, sizeof line,
            "QPACK: encoded %llu sections (%llu with the dynamic table), decoded %llu "
            "(%llu with the dynamic table, %llu blocked)",
            (unsigned long long)q.sections_encoded, (unsigned long long)q.sections_encoded_dynamic,
            (unsigned long long)q.sections_decoded, (unsigned long long)q.sections_decoded_dynamic,
            (unsigned long long)q.sections_blocked);
        return line;
    }

  private:
    void open_requests() {
        const RequestOptions& o = fetch_.options();
        while (next_ < fetch_.size()) {
            const size_t i = next_;
            const FetchRequest& r = fetch_.request(i);
            const std::vector<Field> fields = fetch_.request_fields(i);
            quic::h3::Request req{o.method, "https", r.authority, r.path, {}};
            for (const Field& f : fields)
                if (f.name.empty() || f.name[0] != ':') req.fields.push_back(f);
            auto s = client_->request(req, !o.has_body);
            if (!s.ok() && s.error().kind == quic::ErrorKind::kWouldBlock) return;
            ++next_;
            if (!s.ok()) {
                fetch_.end(i, clock_now(), false,
                           r.url + ": cannot send the request: " + s.error().to_string(),
                           FetchFailure::kStream);
                continue;
            }
            std::shared_ptr<quic::h3::ClientStream> stream = std::move(s).value();
            record_request(stream->id(), req, !o.has_body);
            if (!fetch_.sent(i, clock_now(), fields)) {
                cancel(i, *stream);
                continue;
            }
            watch(i, *stream);
            streams_[i] = stream;
            if (o.has_body) pump_body(i, *stream);
        }
    }

    void watch(size_t i, quic::h3::ClientStream& s) {
        s.on_response([this, i](quic::h3::ClientStream& st, const quic::h3::Response& r) {
            if (auto* rec = fetch_.recorder())
                rec->response(st.id(), clock_now(), r.status, r.fields);
            fetch_.response(i, clock_now(), r.status, r.fields);
        });
        s.on_interim([this](quic::h3::ClientStream&, const quic::h3::Response& r) {
            fetch_.vlog("< HTTP/3 %u (interim)", r.status);
        });
        s.on_body([this, i](quic::h3::ClientStream& st) { read(i, st); });
        s.on_trailers([this](quic::h3::ClientStream&, const std::vector<Field>& fields) {
            for (const Field& f : fields) fetch_.vlog("< %s: %s", f.name.c_str(), f.value.c_str());
        });
        s.on_writable([this, i](quic::h3::ClientStream& st) { pump_body(i, st); });
        s.on_complete([this, i](quic::h3::ClientStream& st, const quic::Error* e) {
            const FetchRequest& r = fetch_.request(i);
            if (!e) {
                read(i, st);
                fetch_.end(i, clock_now(), true, "");
            } else {
                fetch_.end(
                    i, clock_now(), false,
                    r.url + ": the stream was reset with " + quic::h3::h3_error_name(e->code),
                    FetchFailure::kStream);
            }
            streams_.erase(i);
        });
    }

    void read(size_t i, quic::h3::ClientStream& s) {
        for (;;) {
            bool fin = false;
            auto n = s.read_body(buf_, &fin);
            if (!n.ok() || *n == 0) return;
            if (!fetch_.body(i, clock_now(), {buf_.data(), *n})) return cancel(i, s);
            if (fin) return;
        }
    }

    void pump_body(size_t i, quic::h3::ClientStream& s) {
        uint64_t& sent = body_sent_[i];
        while (!fetch_.ended(i) && !body_done_[i]) {
            auto chunk = fetch_.body_chunk(sent, file_buf_);
            if (!chunk.ok()) {
                cancel(i, s);
                return fetch_.end(i, clock_now(), false, chunk.error().reason);
            }
            const bool last = sent + chunk->size() == fetch_.body_size();
            if (chunk->empty() && !last) return;
            auto n = s.write_body(*chunk, last);
            if (!n.ok()) return;  // the stream is gone: on_complete says why
            sent += *n;
            fetch_.uploaded(i, *n);
            if (auto* rec = fetch_.recorder(); rec && (*n > 0 || last))
                rec->data(s.id(), clock_now(), chunk->first(*n), last && *n == chunk->size());
            if (*n < chunk->size()) return;  // on_writable resumes
            if (last) body_done_[i] = true;
        }
    }

    // --record: the header section exactly as quic::h3::Client sends it (pseudo-fields first).
    void record_request(uint64_t stream_id, const quic::h3::Request& req, bool fin) {
        auto* rec = fetch_.recorder();
        if (!rec) return;
        std::vector<Field> sent = {{":method", req.method},
                                   {":scheme", req.scheme},
                                   {":authority", req.authority},
                                   {":path", req.path}};
        sent.insert(sent.end(), req.fields.begin(), req.fields.end());
        rec->headers(stream_id, clock_now(), sent, fin);
    }
    void cancel(size_t i, quic::h3::ClientStream& s) {
        const uint64_t code = quic::h3::to_underlying(quic::h3::H3Error::kRequestCancelled);
        // What quic::h3::Client::cancel sends (RFC 9114 §4.1.1): STOP_SENDING while the
        // response is still coming (it is: we cancel while reading it, or before), and
        // RESET_STREAM while the request body is not all sent.
        if (auto* rec = fetch_.recorder()) {
            rec->stop_sending(s.id(), clock_now(), code);
            if (fetch_.options().has_body && !body_done_[i])
                rec->reset_stream(s.id(), clock_now(), code);
        }
        s.cancel(code);
    }

    Fetch& fetch_;
    std::shared_ptr<quic::h3::Client> client_;
    std::map<size_t, std::shared_ptr<quic::h3::ClientStream>> streams_;
    std::map<size_t, uint64_t> body_sent_;
    std::map<size_t, bool> body_done_;
    size_t next_ = 0;
    std::vector<uint8_t> buf_, file_buf_;
};

}  // namespace

std::unique_ptr<FetchProtocol> make_h3_fetch(Fetch& fetch,
                                             std::shared_ptr<quic::uv::Connection> connection) {
    return std::make_unique<H3Fetch>(fetch, std::move(connection));
}

}  // namespace quiver
