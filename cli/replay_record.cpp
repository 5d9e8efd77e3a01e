#include "replay_record.h"

#include <algorithm>
#include <cstdio>

#include "qlog/limits.h"

namespace quiver::replay {
namespace {

using qlog::JsonOut;
using quic::Time;
namespace tr = quic::trace;

// Hands every event to `inner` (the --qlog-dir trace, when there is one) and the connection's
// parameters to the recording too: the versions and transport parameters offered and chosen
// exactly as the core reports them, in the qlog writer's own events.
class RecordingTracer final : public tr::Tracer {
  public:
    RecordingTracer(std::shared_ptr<Tracer> inner, std::shared_ptr<qlog::QlogTracer> out)
        : inner_(std::move(inner)), out_(std::move(out)) {}

    void version_information(Time t, std::span<const quic::Version> ours,
                             std::span<const quic::Version> peer, quic::Version chosen) override {
        out_->version_information(t, ours, peer, chosen);
        if (inner_) inner_->version_information(t, ours, peer, chosen);
    }
    void alpn_information(Time t, std::string_view chosen) override {
        out_->alpn_information(t, chosen);
        if (inner_) inner_->alpn_information(t, chosen);
    }
    void parameters_set(Time t, bool local, const quic::TransportParameters& p) override {
        out_->parameters_set(t, local, p);
        if (inner_) inner_->parameters_set(t, local, p);
    }

    // The rest only goes on.
    void connection_started(Time t, const quic::Path& p, quic::Version v,
                            const quic::ConnectionId& s, const quic::ConnectionId& d) override {
        if (inner_) inner_->connection_started(t, p, v, s, d);
    }
    void connection_state_updated(Time t, quic::ConnectionState a,
                                  quic::ConnectionState b) override {
        if (inner_) inner_->connection_state_updated(t, a, b);
    }
    void connection_closed(Time t, const quic::ConnectionClosed& c) override {
        if (inner_) inner_->connection_closed(t, c);
    }
    void packet_sent(Time t, const tr::PacketHeaderInfo& h,
                     std::span<const quic::Frame> f) override {
        if (inner_) inner_->packet_sent(t, h, f);
    }
    void packet_received(Time t, const tr::PacketHeaderInfo& h,
                         std::span<const quic::Frame> f) override {
        if (inner_) inner_->packet_received(t, h, f);
    }
    void packet_dropped(Time t, quic::PacketType p, size_t n, tr::DropReason r) override {
        if (inner_) inner_->packet_dropped(t, p, n, r);
    }
    void packet_buffered(Time t, quic::PacketType p, size_t n) override {
        if (inner_) inner_->packet_buffered(t, p, n);
    }
    void version_negotiation_received(Time t, std::span<const quic::Version> v) override {
        if (inner_) inner_->version_negotiation_received(t, v);
    }
    void retry_received(Time t, const quic::ConnectionId& c, size_t n) override {
        if (inner_) inner_->retry_received(t, c, n);
    }
    void metrics_updated(Time t, const tr::RecoveryMetrics& m) override {
        if (inner_) inner_->metrics_updated(t, m);
    }
    void congestion_state_updated(Time t, std::string_view a, std::string_view b) override {
        if (inner_) inner_->congestion_state_updated(t, a, b);
    }
    void packet_lost(Time t, quic::PacketType p, uint64_t pn, tr::LossTrigger w) override {
        if (inner_) inner_->packet_lost(t, p, pn, w);
    }
    void timer_updated(Time t, tr::TimerKind k, std::optional<Time> d) override {
        if (inner_) inner_->timer_updated(t, k, d);
    }
    void mtu_updated(Time t, size_t a, size_t b, bool done) override {
        if (inner_) inner_->mtu_updated(t, a, b, done);
    }
    void key_updated(Time t, tr::KeyKind k, uint64_t g, tr::KeyTrigger w) override {
        if (inner_) inner_->key_updated(t, k, g, w);
    }
    void key_discarded(Time t, tr::KeyKind k, uint64_t g) override {
        if (inner_) inner_->key_discarded(t, k, g);
    }
    void stream_state_updated(Time t, uint64_t id, std::string_view s) override {
        if (inner_) inner_->stream_state_updated(t, id, s);
    }
    void datagram_received(Time t, size_t n) override {
        if (inner_) inner_->datagram_received(t, n);
    }
    void http3_frame_created(Time t, uint64_t id, const tr::Http3Frame& f) override {
        if (inner_) inner_->http3_frame_created(t, id, f);
    }
    void http3_frame_parsed(Time t, uint64_t id, const tr::Http3Frame& f) override {
        if (inner_) inner_->http3_frame_parsed(t, id, f);
    }
    void http3_stream_type_set(Time t, uint64_t id, bool local, std::string_view type) override {
        if (inner_) inner_->http3_stream_type_set(t, id, local, type);
    }

  private:
    std::shared_ptr<Tracer> inner_;
    std::shared_ptr<qlog::QlogTracer> out_;
};

// The version as the qlog writer writes it (quic events draft: QuicVersion is hex).
std::string version_hex(quic::Version v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(v));
    return buf;
}

// H3 events draft §7.2 HTTP3HTTPField. A request's fields are ours and go whole, exactly as
// sent, in order (a replay sends them again); a response's come from the peer and are cut to
// the writer's caps (qlog/limits.h): a replay reads only its :status.
void fields_json(JsonOut& j, const std::vector<quic::h3::Field>& fields, bool from_peer) {
    j.begin_array();
    for (size_t i = 0; i < fields.size(); ++i) {
        const quic::h3::Field& f = fields[i];
        if (from_peer && i == qlog::kMaxHttp3Fields) break;
        const size_t max = from_peer ? qlog::kMaxHttp3FieldBytes : SIZE_MAX;
        j.begin_object().key("name").text(f.name, max).key("value").text(f.value, max);
        j.end_object();
    }
    j.end_array();
}

}  // namespace

std::unique_ptr<Recorder> Recorder::open(const std::string& path, uint64_t max_body,
                                         std::string title, std::string& error) {
    auto out = std::make_shared<qlog::QlogTracer>(path, quic::Role::kClient, quic::ConnectionId{},
                                                  qlog::Schema::kDraft, qlog::Level::kFull);
    if (!out->ok()) {
        error = "cannot write " + path;
        return nullptr;
    }
    out->add_event_schema(std::string(kRecordingEventSchema));
    out->set_trace_title("quiver client --record: " + title);
    return std::unique_ptr<Recorder>(new Recorder(std::move(out), max_body, std::move(title)));
}

std::shared_ptr<quic::trace::Tracer> Recorder::tracer(std::shared_ptr<quic::trace::Tracer> inner) {
    return std::make_shared<RecordingTracer>(std::move(inner), out_);
}

// quiver:connection_parameters: what replay takes from a recording (docs/replay.md).
void Recorder::start(Time now, const quic::ConnectionInfo& info) {
    out_->event(now, "quiver:connection_parameters", [&](JsonOut& j) {
        j.key("title").text(title_);
        j.key("sni").text(offer_.sni);
        j.key("alpn_offered").begin_array();
        for (const std::string& a : offer_.alpn) j.text(a);
        j.end_array();
        j.key("versions_offered").begin_array();
        for (quic::Version v : offer_.versions) j.trusted(version_hex(v));
        j.end_array();
        j.key("chosen_alpn").text(info.alpn);
        j.key("chosen_version").trusted(version_hex(info.version));
        j.key("datagrams_negotiated").boolean(info.datagrams_supported);
        j.key("record_max_body").number(max_body_);
    });
    out_->flush();
}

void Recorder::stream_state(uint64_t stream_id, Time now, std::string_view state,
                            const uint64_t* code) {
    // Quic events draft §5.13 (error_code: an extension field, the RESET_STREAM's code).
    out_->event(now, "quic:stream_state_updated", [&](JsonOut& j) {
        j.key("stream_id").number(stream_id);
        j.key("stream_type").trusted((stream_id & 0x2) ? "unidirectional" : "bidirectional");
        j.key("new").trusted(state);
        j.key("stream_side").trusted("sending");
        if (code) j.key("error_code").number(*code);
    });
}

void Recorder::fin(uint64_t stream_id, Time now) {
    // RFC 9000 §3.1: "Data Sent" once the FIN went out.
    stream_state(stream_id, now, "data_sent", nullptr);
}

void Recorder::headers(uint64_t stream_id, Time now, const std::vector<quic::h3::Field>& fields,
                       bool end) {
    stream_state(stream_id, now, "open", nullptr);
    out_->event(now, "http3:frame_created", [&](JsonOut& j) {
        j.key("stream_id").number(stream_id);
        j.key("frame").begin_object().key("frame_type").trusted("headers");
        j.key("headers");
        fields_json(j, fields, false);
        j.end_object();
    });
    if (end) fin(stream_id, now);
    out_->flush();
}

void Recorder::data(uint64_t stream_id, Time now, quic::ByteSpan bytes, bool end) {
    auto it = std::find_if(recorded_.begin(), recorded_.end(),
                           [&](const auto& p) { return p.first == stream_id; });
    if (it == recorded_.end()) it = recorded_.insert(recorded_.end(), {stream_id, 0});
    uint64_t& kept_so_far = it->second;
    const size_t keep = static_cast<size_t>(
        std::min<uint64_t>(bytes.size(), max_body_ - std::min(max_body_, kept_so_far)));
    kept_so_far += keep;
    // H3 events draft §7.1 HTTP3DataFrame with the main schema's RawInfo: payload_length is
    // the frame's real one, data the payload's bytes (the first `keep` of them).
    out_->event(now, "http3:frame_created", [&](JsonOut& j) {
        j.key("stream_id").number(stream_id);
        j.key("frame").begin_object().key("frame_type").trusted("data");
        j.key("raw").begin_object().key("payload_length").number(uint64_t{bytes.size()});
        j.key("data").hex(bytes.first(keep), keep);
        j.end_object().end_object();
        if (keep < bytes.size()) {
            // --record-max-body: said in the record; a replay sends 'x' for these bytes.
            j.key("elided_bytes").number(uint64_t{bytes.size() - keep});
            j.key("elided").text(std::to_string(bytes.size() - keep) +
                                 " body bytes beyond --record-max-body " +
                                 std::to_string(max_body_) + " not recorded: replayed as 'x'");
        }
    });
    if (end) fin(stream_id, now);
    out_->flush();
}

void Recorder::reset_stream(uint64_t stream_id, Time now, uint64_t code) {
    stream_state(stream_id, now, "reset_sent", &code);
    out_->flush();
}

void Recorder::stop_sending(uint64_t stream_id, Time now, uint64_t code) {
    // No draft event says a STOP_SENDING was sent (RFC 9000 §3.5 changes no sending state).
    out_->event(now, "quiver:stop_sending", [&](JsonOut& j) {
        j.key("stream_id").number(stream_id).key("error_code").number(code);
    });
    out_->flush();
}

void Recorder::datagram(Time now, quic::ByteSpan bytes) {
    // Quic events draft §5.16 datagram_data_moved, from the application to the transport.
    out_->event(now, "quic:datagram_data_moved", [&](JsonOut& j) {
        j.key("from").trusted("application").key("to").trusted("transport");
        j.key("raw").begin_object().key("length").number(uint64_t{bytes.size()});
        j.key("data").hex(bytes, bytes.size()).end_object();
    });
    out_->flush();
}

void Recorder::response(uint64_t stream_id, Time now, unsigned status,
                        const std::vector<quic::h3::Field>& fields) {
    // quic::h3::Response's fields start with :status; the status is said either way.
    std::vector<quic::h3::Field> all;
    if (fields.empty() || fields[0].name != ":status")
        all.push_back({":status", std::to_string(status)});
    for (size_t i = 0; i < fields.size() && all.size() < qlog::kMaxHttp3Fields; ++i)
        all.push_back(fields[i]);  // a copy of at most the fields the record keeps
    out_->event(now, "http3:frame_parsed", [&](JsonOut& j) {
        j.key("stream_id").number(stream_id);
        j.key("frame").begin_object().key("frame_type").trusted("headers");
        j.key("headers");
        fields_json(j, all, true);
        j.end_object();
    });
    out_->flush();
}

}  // namespace quiver::replay
