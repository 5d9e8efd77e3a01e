#include "replay_run.h"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <utility>

#include "quic/connection.h"
#include "quic/http3/error.h"
#include "quic/uv/clock.h"
#include "quic/uv/stream.h"
#include "uv_handles.h"

namespace quiver::replay {
namespace {

namespace wire = quic::h3::wire;
using quic::h3::Field;

constexpr size_t kReadChunk = 16 * 1024;
// What we keep of a peer's stream header before its type is known: one varint (RFC 9000 §16).
constexpr size_t kMaxVarint = 8;

quic::Duration millis(double ms) {
    return std::chrono::duration_cast<quic::Duration>(
        std::chrono::duration<double, std::milli>(ms));
}
double millis_until(quic::Time now, quic::Time t) {
    return std::chrono::duration<double, std::milli>(t - now).count();
}

std::string substitute(std::string value, const std::string& authority) {
    static constexpr std::string_view kKey = "{authority}";
    for (size_t at = value.find(kKey); at != std::string::npos; at = value.find(kKey, at)) {
        value.replace(at, kKey.size(), authority);
        at += authority.size();
    }
    return value;
}

bool code_matches(const std::vector<ErrorCode>& codes, uint64_t code, bool transport) {
    if (codes.empty()) return true;
    return std::any_of(codes.begin(), codes.end(), [&](const ErrorCode& c) {
        if (c.code != code) return false;
        if (c.space == ErrorCode::Space::kTransport) return transport;
        if (c.space == ErrorCode::Space::kApplication) return !transport;
        return true;
    });
}

bool status_matches(const std::vector<int>& statuses, int status) {
    if (statuses.empty()) return true;
    return std::any_of(statuses.begin(), statuses.end(),
                       [&](int s) { return s == status || (s < 10 && status / 100 == s); });
}

std::string describe(const Expectation& e) {
    std::string out;
    auto codes = [&] {
        std::string c;
        for (const ErrorCode& x : e.codes) c += (c.empty() ? " " : "|") + describe(x);
        return c;
    };
    switch (e.what) {
        case Expectation::What::kResponse: {
            out = "response on " + e.stream;
            std::string s;
            for (int x : e.statuses)
                s += (s.empty() ? " " : "|") +
                     (x < 10 ? std::to_string(x) + "xx" : std::to_string(x));
            out += s;
            for (const Field& f : e.fields) out += " " + f.name + ": " + f.value;
            return out;
        }
        case Expectation::What::kStreamReset:
            return "RESET_STREAM on " + e.stream + codes();
        case Expectation::What::kStopSending:
            return "STOP_SENDING on " + e.stream + codes();
        case Expectation::What::kConnectionClose:
            return "CONNECTION_CLOSE" + codes();
        case Expectation::What::kGoaway:
            return "GOAWAY";
        case Expectation::What::kAlive:
            return "the connection still open";
    }
    return out;
}

// A varint at the start of `b` (RFC 9000 §16), once all its bytes are there.
std::optional<std::pair<uint64_t, size_t>> leading_varint(const quic::Bytes& b) {
    if (b.empty()) return std::nullopt;
    const size_t n = quic::varint_length_from_first_byte(b[0]);
    if (b.size() < n) return std::nullopt;
    uint64_t v = b[0] & 0x3f;
    for (size_t i = 1; i < n; ++i) v = v << 8 | b[i];
    return std::pair{v, n};
}

}  // namespace

std::string describe(const Reaction& r) {
    char code[96];
    switch (r.kind) {
        case Reaction::Kind::kResponse:
            return "response " + r.stream + " " + std::to_string(r.status);
        case Reaction::Kind::kStreamReset:
            return "RESET_STREAM " + r.stream + " " +
                   describe(ErrorCode{ErrorCode::Space::kApplication, r.code});
        case Reaction::Kind::kStopSending:
            return "STOP_SENDING " + r.stream + " " +
                   describe(ErrorCode{ErrorCode::Space::kApplication, r.code});
        case Reaction::Kind::kClose:
            return "CONNECTION_CLOSE " +
                   describe(ErrorCode{
                       r.transport ? ErrorCode::Space::kTransport : ErrorCode::Space::kApplication,
                       r.code});
        case Reaction::Kind::kGoaway:
            std::snprintf(code, sizeof code, "GOAWAY %llu", (unsigned long long)r.code);
            return code;
        case Reaction::Kind::kMalformed:
            return "malformed: " + r.text;
    }
    return {};
}

struct Run::Local {
    std::string label;
    std::shared_ptr<quic::uv::Stream> stream;
    bool bidi = false;
    quic::Bytes pending;
    bool fin_queued = false, fin_sent = false, stopped = false;
    // The receive side of a request stream.
    wire::FrameReader reader;
    bool reader_failed = false, fin_received = false;
    std::optional<int> status;
    std::vector<Field> fields;
    uint64_t body_bytes = 0;
    std::optional<uint64_t> reset_code;
};

struct Run::Peer {
    std::shared_ptr<quic::uv::Stream> stream;
    quic::Bytes head;  // the stream type, until complete
    std::optional<uint64_t> type;
    wire::FrameReader reader;
    bool failed = false;
};

namespace {

// Our SETTINGS' QPACK values are what our decoder may be sent (RFC 9204 §5).
wire::FieldSectionDecoder::Options decoder_options(const Script& s) {
    wire::FieldSectionDecoder::Options o;
    for (const quic::h3::Setting& x : s.settings) {
        if (x.id == 0x01) o.max_table_capacity = x.value;
        if (x.id == 0x07) o.max_blocked_streams = x.value;
    }
    return o;
}

}  // namespace

Run::Run(const Script& script, RunOptions options, uv_loop_t* loop, std::function<void()> done)
    : script_(script),
      o_(std::move(options)),
      loop_(loop),
      done_(std::move(done)),
      decoder_(decoder_options(script)) {
    timer_ = new_handle<uv_timer_t>();
    uv_timer_init(loop_, timer_);
    on_timer_ = [this] { step(); };
    timer_->data = &on_timer_;
}

Run::~Run() {
    close_handle(timer_);
    // The streams and the connection may outlive us (the transport closes after we are
    // gone): their callbacks must not reach us then.
    for (auto& [label, l] : locals_) {
        l->stream->on_readable({});
        l->stream->on_writable({});
    }
    for (auto& p : peers_) p->stream->on_readable({});
    if (conn_) {
        conn_->on_stream({});
        conn_->on_uni_stream({});
    }
}

void Run::vlog(const char* fmt, ...) const {
    if (!o_.verbose) return;
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(o_.verbose, fmt, ap);
    va_end(ap);
    std::fputc('\n', o_.verbose);
}

void Run::start(std::shared_ptr<quic::uv::Connection> connection) {
    conn_ = std::move(connection);
    started_ = quic::uv::clock_now();
    conn_->on_uni_stream(
        [this](std::shared_ptr<quic::uv::Stream> s) { on_peer_uni(std::move(s)); });
    conn_->on_stream([this](std::shared_ptr<quic::uv::Stream> s) {
        // RFC 9114 §6.1: a server opens no bidirectional streams; say so, and refuse it.
        record(Reaction{Reaction::Kind::kMalformed,
                        "",
                        0,
                        {},
                        s->id(),
                        false,
                        "the server opened a bidirectional stream"});
        s->cancel_read(quic::h3::to_underlying(quic::h3::H3Error::kStreamCreationError));
    });
    if (script_.control_streams) {
        // RFC 9114 §6.2.1: the control stream starts with SETTINGS; RFC 9204 §4.2: one encoder
        // and one decoder stream.
        Local* c = open_uni("control", wire::kControlStream, std::nullopt);
        if (c) {
            quic::Bytes frame;
            wire::append_frame(frame, wire::kSettings, wire::settings_payload(script_.settings));
            send(*c, frame, false);
        }
        open_uni("encoder", wire::kQpackEncoderStream, std::nullopt);
        open_uni("decoder", wire::kQpackDecoderStream, std::nullopt);
    }
    step();
}

void Run::closed(const quic::Error& why) {
    if (finished_ || closed_) return;
    closed_ = why;
    if (why.remote && why.kind == quic::ErrorKind::kProtocol)
        record(Reaction{Reaction::Kind::kClose,
                        "",
                        0,
                        {},
                        why.code,
                        why.space == quic::ErrorSpace::kTransport,
                        why.reason});
    else
        record(Reaction{Reaction::Kind::kMalformed,
                        "",
                        0,
                        {},
                        why.code,
                        false,
                        "connection ended: " + why.to_string()});
    step();
}

void Run::arm(double ms) {
    uv_timer_start(timer_, run_data<uv_timer_t>, static_cast<uint64_t>(std::max(0.0, ms)) + 1, 0);
}

void Run::step() {
    if (finished_) return;
    const auto& actions = script_.actions;
    while (next_ < actions.size()) {
        const Action& a = actions[next_];
        const quic::Time now = quic::uv::clock_now();
        if (waiting_expect_) {
            const bool final = closed_.has_value() || now >= expect_deadline_;
            if (!check_expect(a, final)) {
                arm(millis_until(now, expect_deadline_));
                return;
            }
            waiting_expect_ = false;
            ++next_;
            continue;
        }
        if (o_.recorded_timing && a.time_ms && !closed_) {
            const quic::Time due = started_ + millis(*a.time_ms);
            if (now < due) return arm(millis_until(now, due));
        }
        if (a.kind == Action::Kind::kExpect) {
            waiting_expect_ = true;
            expect_deadline_ = now + millis(a.timeout_ms);
            continue;
        }
        if (a.kind == Action::Kind::kWait && !closed_) {
            if (!wait_until_) wait_until_ = now + millis(a.ms);
            if (now < *wait_until_) return arm(millis_until(now, *wait_until_));
            wait_until_.reset();
        }
        if (!closed_) perform(a);
        ++next_;
    }
    // Responses still to come or still arriving are printed whole: wait for them, a while.
    const quic::Time now = quic::uv::clock_now();
    if (!closed_ && bodies_in_progress()) {
        if (!drain_deadline_) drain_deadline_ = now + millis(o_.linger_ms);
        if (now < *drain_deadline_) return arm(millis_until(now, *drain_deadline_));
    }
    finish();
}

bool Run::bodies_in_progress() const {
    return std::any_of(locals_.begin(), locals_.end(), [](const auto& l) {
        const Local& s = *l.second;
        // A request sent whole (or a response started) whose response has not ended.
        return s.bidi && (s.status || s.fin_sent) && !s.fin_received && !s.reset_code &&
               !s.reader_failed && !s.stopped;
    });
}

void Run::finish() {
    if (finished_) return;
    finished_ = true;
    uv_timer_stop(timer_);
    if (conn_ && !closed_)
        conn_->close(quic::h3::to_underlying(quic::h3::H3Error::kNoError), "replay done");
    done_();
}

bool Run::holds(const Expectation& e, bool final) const {
    using K = Reaction::Kind;
    if (e.what == Expectation::What::kAlive) return final && !closed_;
    return std::any_of(reactions_.begin(), reactions_.end(), [&](const Reaction& r) {
        switch (e.what) {
            case Expectation::What::kResponse: {
                if (r.kind != K::kResponse || r.stream != e.stream ||
                    !status_matches(e.statuses, r.status))
                    return false;
                return std::all_of(e.fields.begin(), e.fields.end(), [&](const Field& want) {
                    return std::any_of(r.fields.begin(), r.fields.end(), [&](const Field& f) {
                        return f.name == want.name &&
                               f.value == substitute(want.value, o_.authority);
                    });
                });
            }
            case Expectation::What::kStreamReset:
                return r.kind == K::kStreamReset && r.stream == e.stream &&
                       code_matches(e.codes, r.code, false);
            case Expectation::What::kStopSending:
                return r.kind == K::kStopSending && r.stream == e.stream &&
                       code_matches(e.codes, r.code, false);
            case Expectation::What::kConnectionClose:
                return r.kind == K::kClose && code_matches(e.codes, r.code, r.transport);
            case Expectation::What::kGoaway:
                return r.kind == K::kGoaway;
            case Expectation::What::kAlive:
                return false;
        }
        return false;
    });
}

bool Run::check_expect(const Action& a, bool final) {
    for (const Expectation& e : a.any_of)
        if (holds(e, final)) {
            vlog("* %s %s %d: expectation holds", o_.script_name.c_str(), o_.position.c_str(),
                 a.line);
            return true;
        }
    if (!final) return false;
    fail_expect(a, closed_ ? "before the connection ended" : nullptr);
    return true;
}

void Run::fail_expect(const Action& a, const char* why) {
    std::string want;
    for (const Expectation& e : a.any_of) want += (want.empty() ? "" : " or ") + describe(e);
    std::string seen;
    for (const Reaction& r : reactions_) seen += (seen.empty() ? "" : ", ") + describe(r);
    char timeout[64];
    std::snprintf(timeout, sizeof timeout, "within %g ms", a.timeout_ms);
    failures_.push_back(o_.script_name + " " + o_.position + " " + std::to_string(a.line) +
                        ": expected " + want + " " + (why ? why : timeout) + "; saw " +
                        (seen.empty() ? "nothing" : seen));
}

void Run::record(Reaction r) {
    vlog("< %s", describe(r).c_str());
    reactions_.push_back(std::move(r));
    if (waiting_expect_ && !finished_) {
        // Re-check from the loop, not from inside a stream callback that may be reading.
        uv_timer_start(timer_, run_data<uv_timer_t>, 0, 0);
    }
}

std::vector<std::string> Run::responses() const {
    std::vector<std::string> out;
    for (const auto& [label, s] : locals_) {
        if (!s->bidi) continue;
        std::string line = label + ": ";
        if (s->status) {
            line += std::to_string(*s->status);
            for (const Field& f : s->fields)
                if (f.name != ":status") line += ", " + f.name + ": " + f.value;
            line += "; body " + std::to_string(s->body_bytes) + " bytes" +
                    (s->fin_received ? "" : " (incomplete)");
        } else if (s->reset_code) {
            line +=
                "reset with " + describe(ErrorCode{ErrorCode::Space::kApplication, *s->reset_code});
        } else {
            line += "no response";
        }
        out.push_back(std::move(line));
    }
    return out;
}

void Run::action_failed(std::string why) {
    performed_all_ = false;
    failures_.push_back(std::move(why));
}

// --- sending --------------------------------------------------------------------------------

Run::Local* Run::open_uni(const std::string& label, uint64_t type,
                          std::optional<uint64_t> push_id) {
    auto s = conn_->open_uni_stream();
    if (!s.ok()) {
        action_failed(o_.script_name + ": cannot open unidirectional stream '" + label +
                      "': " + s.error().to_string());
        return nullptr;
    }
    auto l = std::make_unique<Local>();
    l->label = label;
    l->stream = std::move(s).value();
    Local* p = l.get();
    locals_[label] = std::move(l);
    p->stream->on_writable([this, p](quic::uv::Stream&) { pump(*p); });
    vlog("> %s: unidirectional stream %llu, type 0x%llx", label.c_str(),
         (unsigned long long)p->stream->id(), (unsigned long long)type);
    send(*p, wire::stream_header(type, push_id), false);
    return p;
}

Run::Local* Run::local(const std::string& label, const Action& a, bool open_bidi) {
    if (auto it = locals_.find(label); it != locals_.end()) return it->second.get();
    if (!open_bidi) {
        action_failed(o_.script_name + " " + o_.position + " " + std::to_string(a.line) +
                      ": no stream '" + label + "'");
        return nullptr;
    }
    auto s = conn_->open_stream();
    if (!s.ok()) {
        action_failed(o_.script_name + " " + o_.position + " " + std::to_string(a.line) +
                      ": cannot open stream '" + label + "': " + s.error().to_string());
        return nullptr;
    }
    auto l = std::make_unique<Local>();
    l->label = label;
    l->bidi = true;
    l->stream = std::move(s).value();
    Local* p = l.get();
    locals_[label] = std::move(l);
    vlog("> %s: stream %llu", label.c_str(), (unsigned long long)p->stream->id());
    p->stream->on_writable([this, p](quic::uv::Stream&) { pump(*p); });
    watch_bidi(*p);
    return p;
}

void Run::send(Local& s, const quic::Bytes& bytes, bool fin) {
    if (s.fin_sent || s.stopped) return;
    s.pending.insert(s.pending.end(), bytes.begin(), bytes.end());
    s.fin_queued = s.fin_queued || fin;
    pump(s);
}

void Run::pump(Local& s) {
    while (!s.fin_sent && !s.stopped && (!s.pending.empty() || s.fin_queued)) {
        auto n = s.stream->write(s.pending, s.fin_queued);
        if (!n.ok()) {
            if (n.error().kind == quic::ErrorKind::kStreamStopped) {
                s.stopped = true;
                record(Reaction{Reaction::Kind::kStopSending, s.label, 0, {}, n.error().code});
            }
            s.pending.clear();
            return;
        }
        const bool all = *n == s.pending.size();
        s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<std::ptrdiff_t>(*n));
        if (all && s.fin_queued) s.fin_sent = true;
        if (!all || *n == 0) return;  // on_writable calls again
    }
}

bool Run::perform(const Action& a) {
    using K = Action::Kind;
    const bool bidi_ok =
        a.kind == K::kHeaders || a.kind == K::kData || a.kind == K::kFrame || a.kind == K::kRaw;
    switch (a.kind) {
        case K::kHeaders: {
            Local* s = local(a.stream, a, bidi_ok);
            if (!s) return false;
            quic::Bytes section = a.bytes;
            if (!a.encoded) {
                std::vector<Field> fields = a.fields;
                for (Field& f : fields) f.value = substitute(f.value, o_.authority);
                section = wire::encode_field_section(fields, a.huffman);
                for (const Field& f : fields)
                    vlog("> %s: %s: %s", a.stream.c_str(), f.name.c_str(), f.value.c_str());
            }
            quic::Bytes frame;
            wire::append_frame(frame, wire::kHeaders, section);
            send(*s, frame, a.fin);
            return true;
        }
        case K::kData: {
            Local* s = local(a.stream, a, bidi_ok);
            if (!s) return false;
            quic::Bytes frame;
            wire::append_frame(frame, wire::kData, a.bytes);
            vlog("> %s: DATA %zu bytes%s", a.stream.c_str(), a.bytes.size(), a.fin ? ", FIN" : "");
            send(*s, frame, a.fin);
            return true;
        }
        case K::kFrame: {
            Local* s = local(a.stream, a, bidi_ok);
            if (!s) return false;
            quic::Bytes frame;
            wire::append_frame(frame, a.frame_type, a.bytes, a.length);
            vlog("> %s: frame 0x%llx, %zu payload bytes", a.stream.c_str(),
                 (unsigned long long)a.frame_type, a.bytes.size());
            send(*s, frame, a.fin);
            return true;
        }
        case K::kRaw: {
            Local* s = local(a.stream, a, bidi_ok);
            if (!s) return false;
            send(*s, a.bytes, a.fin);
            return true;
        }
        case K::kUniStream: {
            if (locals_.count(a.stream)) {
                action_failed(o_.script_name + " " + o_.position + " " + std::to_string(a.line) +
                              ": stream '" + a.stream + "' exists already");
                return false;
            }
            Local* s = open_uni(a.stream, a.stream_type, a.push_id);
            if (s) send(*s, a.bytes, a.fin);
            return s != nullptr;
        }
        case K::kFin: {
            Local* s = local(a.stream, a, false);
            if (s) send(*s, {}, true);
            return s != nullptr;
        }
        case K::kResetStream: {
            Local* s = local(a.stream, a, false);
            if (!s) return false;
            vlog("> %s: RESET_STREAM 0x%llx", a.stream.c_str(), (unsigned long long)a.code);
            s->stream->cancel_write(a.code);
            s->stopped = true;
            return true;
        }
        case K::kStopSending: {
            Local* s = local(a.stream, a, false);
            if (!s) return false;
            vlog("> %s: STOP_SENDING 0x%llx", a.stream.c_str(), (unsigned long long)a.code);
            s->stream->cancel_read(a.code);
            return true;
        }
        case K::kGoaway:
        case K::kSettings: {
            Local* s = local("control", a, false);
            if (!s) return false;
            quic::Bytes frame;
            if (a.kind == K::kGoaway)
                wire::append_frame(frame, wire::kGoaway, wire::varint_payload(a.id));
            else
                wire::append_frame(frame, wire::kSettings, wire::settings_payload(a.settings));
            send(*s, frame, false);
            return true;
        }
        case K::kDatagram: {
            auto st = conn_->send_datagram(a.bytes);
            if (!st.ok())
                action_failed(o_.script_name + " " + o_.position + " " + std::to_string(a.line) +
                              ": cannot send the datagram: " + st.error().to_string());
            return st.ok();
        }
        case K::kQuicFrame:
            return inject(a);
        case K::kWait:
        case K::kExpect:
            return true;
    }
    return true;
}

// RFC 9000 §19: the frame a quic_frame action describes, handed to the core as it is.
bool Run::inject(const Action& a) {
    uint64_t id = a.stream_id.value_or(0);
    if (!a.stream.empty()) {
        Local* s = local(a.stream, a, false);
        if (!s) return false;
        id = s->stream->id();
    }
    const std::string& t = a.quic_type;
    quic::Frame f = quic::PingFrame{};
    if (t == "MAX_DATA") f = quic::MaxDataFrame{a.maximum};
    if (t == "MAX_STREAM_DATA") f = quic::MaxStreamDataFrame{id, a.maximum};
    if (t == "MAX_STREAMS") f = quic::MaxStreamsFrame{a.bidirectional, a.maximum};
    if (t == "DATA_BLOCKED") f = quic::DataBlockedFrame{a.maximum};
    if (t == "STREAM_DATA_BLOCKED") f = quic::StreamDataBlockedFrame{id, a.maximum};
    if (t == "STREAMS_BLOCKED") f = quic::StreamsBlockedFrame{a.bidirectional, a.maximum};
    if (t == "STREAM") f = quic::StreamFrame{id, a.offset, a.bytes, a.fin, true};
    if (t == "RESET_STREAM") f = quic::ResetStreamFrame{id, a.code, a.final_size};
    if (t == "STOP_SENDING") f = quic::StopSendingFrame{id, a.code};
    if (t == "RETIRE_CONNECTION_ID") f = quic::RetireConnectionIdFrame{a.id};
    vlog("> QUIC %s", t.c_str());
    auto st = conn_->core().inject_frame(f);
    if (!st.ok()) {
        action_failed(o_.script_name + " " + o_.position + " " + std::to_string(a.line) +
                      ": cannot inject " + t + ": " + st.error().to_string());
        return false;
    }
    conn_->flush();
    return true;
}

// --- receiving ------------------------------------------------------------------------------

void Run::watch_bidi(Local& s) {
    Local* p = &s;
    s.stream->on_readable([this, p](quic::uv::Stream& st) {
        uint8_t buf[kReadChunk];
        while (true) {
            bool fin = false;
            auto n = st.read(buf, &fin);
            if (!n.ok()) {
                if (n.error().kind == quic::ErrorKind::kStreamReset && n.error().remote &&
                    !p->reset_code) {
                    p->reset_code = n.error().code;
                    record(Reaction{Reaction::Kind::kStreamReset, p->label, 0, {}, n.error().code});
                    if (drain_deadline_ && !finished_)
                        uv_timer_start(timer_, run_data<uv_timer_t>, 0, 0);
                }
                return;
            }
            if (*n > 0 && !p->reader_failed) {
                auto frames = p->reader.feed(quic::ByteSpan(buf, *n));
                if (!frames.ok()) {
                    p->reader_failed = true;
                    record(Reaction{Reaction::Kind::kMalformed,
                                    p->label,
                                    0,
                                    {},
                                    frames.error().code,
                                    false,
                                    p->label + ": " + frames.error().to_string()});
                } else {
                    on_response_frames(*p, *frames);
                }
            }
            if (fin) {
                p->fin_received = true;
                vlog("< %s: FIN", p->label.c_str());
                if (drain_deadline_ && !finished_)
                    uv_timer_start(timer_, run_data<uv_timer_t>, 0, 0);
                return;
            }
            if (*n == 0) return;
        }
    });
}

void Run::on_response_frames(Local& s, std::vector<wire::ReceivedFrame>& frames) {
    for (wire::ReceivedFrame& f : frames) {
        if (f.type == wire::kData) {
            s.body_bytes += f.payload.size();
            if (f.complete)
                vlog("< %s: DATA %llu bytes", s.label.c_str(), (unsigned long long)f.length);
            continue;
        }
        if (f.type != wire::kHeaders) {
            vlog("< %s: frame 0x%llx, %llu bytes", s.label.c_str(), (unsigned long long)f.type,
                 (unsigned long long)f.length);
            continue;
        }
        auto section = decoder_.decode(s.stream->id(), f.payload);
        if (!section.ok() || section->outcome != wire::FieldSectionDecoder::Outcome::kDecoded) {
            record(Reaction{Reaction::Kind::kMalformed,
                            s.label,
                            0,
                            {},
                            0,
                            false,
                            s.label + ": a field section we cannot decode" +
                                (section.ok() ? "" : ": " + section.error().to_string())});
            continue;
        }
        if (s.status) {  // trailers
            vlog("< %s: trailers, %zu fields", s.label.c_str(), section->fields.size());
            continue;
        }
        int status = 0;
        for (const Field& x : section->fields)
            if (x.name == ":status") status = std::atoi(x.value.c_str());
        for (const Field& x : section->fields)
            vlog("< %s: %s: %s", s.label.c_str(), x.name.c_str(), x.value.c_str());
        if (status >= 100 && status < 200) continue;  // informational (RFC 9114 §4.1)
        s.status = status;
        s.fields = section->fields;
        record(Reaction{Reaction::Kind::kResponse, s.label, status, section->fields});
    }
}

void Run::on_peer_uni(std::shared_ptr<quic::uv::Stream> stream) {
    auto p = std::make_unique<Peer>();
    p->stream = std::move(stream);
    Peer* raw = p.get();
    peers_.push_back(std::move(p));
    raw->stream->on_readable([this, raw](quic::uv::Stream&) { read_peer(*raw); });
}

void Run::read_peer(Peer& p) {
    uint8_t buf[kReadChunk];
    while (true) {
        bool fin = false;
        auto n = p.stream->read(buf, &fin);
        if (!n.ok() || (*n == 0 && !fin)) return;
        quic::ByteSpan data(buf, *n);
        if (!p.type) {
            const size_t take = std::min(data.size(), kMaxVarint - p.head.size());
            p.head.insert(p.head.end(), data.begin(),
                          data.begin() + static_cast<std::ptrdiff_t>(take));
            auto v = leading_varint(p.head);
            if (v) {
                p.type = v->first;
                vlog("< server unidirectional stream %llu, type 0x%llx",
                     (unsigned long long)p.stream->id(), (unsigned long long)*p.type);
                // The bytes after the type, from head and from the rest of this read.
                quic::Bytes rest(p.head.begin() + static_cast<std::ptrdiff_t>(v->second),
                                 p.head.end());
                rest.insert(rest.end(), data.begin() + static_cast<std::ptrdiff_t>(take),
                            data.end());
                p.head = std::move(rest);
                data = p.head;
            } else {
                data = {};
            }
        }
        if (p.type && !data.empty() && !p.failed) {
            if (*p.type == wire::kControlStream) {
                auto frames = p.reader.feed(data);
                if (!frames.ok()) {
                    p.failed = true;
                    record(Reaction{Reaction::Kind::kMalformed,
                                    "",
                                    0,
                                    {},
                                    0,
                                    false,
                                    "server control stream: " + frames.error().to_string()});
                } else {
                    for (const auto& f : *frames) on_control_frame(f);
                }
            } else if (*p.type == wire::kQpackEncoderStream) {
                auto st = decoder_.on_encoder_stream_data(data);
                if (!st.ok()) {
                    p.failed = true;
                    record(Reaction{Reaction::Kind::kMalformed,
                                    "",
                                    0,
                                    {},
                                    0,
                                    false,
                                    "server encoder stream: " + st.error().to_string()});
                }
            }
            p.head.clear();
        }
        if (fin) {
            if (p.type && *p.type == wire::kControlStream)
                record(Reaction{Reaction::Kind::kMalformed,
                                "",
                                0,
                                {},
                                0,
                                false,
                                "the server closed its control stream"});
            return;
        }
    }
}

void Run::on_control_frame(const wire::ReceivedFrame& f) {
    if (f.type == wire::kGoaway && f.id) {
        record(Reaction{Reaction::Kind::kGoaway, "", 0, {}, *f.id});
        return;
    }
    if (f.type == wire::kSettings && f.settings) {
        vlog("< control: SETTINGS (%zu others)", f.settings->others.size());
        return;
    }
    vlog("< control: frame 0x%llx, %llu bytes", (unsigned long long)f.type,
         (unsigned long long)f.length);
}

}  // namespace quiver::replay
