#include "replay_qlog.h"

#include <map>

#include "qlog/reader.h"
#include "quic/http3/error.h"

namespace quiver::replay {
namespace {

using nlohmann::json;

// What the trace shows of one client-initiated bidirectional stream.
struct SeenStream {
    double first_ms = 0;
    uint64_t bytes = 0;  // the highest offset + length sent
    bool fin = false;
    std::optional<uint64_t> reset_code;
    std::optional<std::vector<quic::h3::Field>> fields;  // from an http3 HEADERS event
};

std::optional<uint64_t> number(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number_unsigned()) return std::nullopt;
    return j[key].get<uint64_t>();
}

// RFC 9000 §2.1: the two low bits 00 mark a client-initiated bidirectional stream.
bool client_bidi(uint64_t id) {
    return (id & 0x3) == 0;
}

void on_frames(const json& frames, double t, std::map<uint64_t, SeenStream>& streams) {
    if (!frames.is_array()) return;
    for (const json& f : frames) {
        if (!f.is_object() || !f.contains("frame_type") || !f["frame_type"].is_string()) continue;
        const std::string type = f["frame_type"].get<std::string>();
        const auto id = number(f, "stream_id");
        if (!id || !client_bidi(*id)) continue;
        if (type == "stream") {
            auto [it, fresh] = streams.try_emplace(*id);
            if (fresh) it->second.first_ms = t;
            const uint64_t end = number(f, "offset").value_or(0) + number(f, "length").value_or(0);
            it->second.bytes = std::max(it->second.bytes, end);
            if (f.contains("fin") && f["fin"] == true) it->second.fin = true;
        } else if (type == "reset_stream" && streams.count(*id)) {
            streams[*id].reset_code = number(f, "error_code").value_or(0);
        }
    }
}

// draft-ietf-quic-qlog-h3-events: http3:frame_created {stream_id, frame: {frame_type:
// "headers", headers: [{name, value}]}}.
void on_h3_frame(const json& data, std::map<uint64_t, SeenStream>& streams) {
    const auto id = number(data, "stream_id");
    if (!id || !client_bidi(*id) || !data.contains("frame") || !data["frame"].is_object()) return;
    const json& frame = data["frame"];
    if (frame.value("frame_type", "") != "headers" || !frame.contains("headers") ||
        !frame["headers"].is_array())
        return;
    SeenStream& s = streams[*id];
    if (s.fields) return;  // trailers: not replayed
    std::vector<quic::h3::Field> fields;
    for (const json& h : frame["headers"])
        if (h.is_object() && h.contains("name") && h["name"].is_string() && h.contains("value") &&
            h["value"].is_string())
            fields.push_back({h["name"].get<std::string>(), h["value"].get<std::string>()});
    s.fields = std::move(fields);
}

const qlog::Trace* client_trace(const std::vector<qlog::Trace>& traces) {
    for (const qlog::Trace& t : traces)
        if (t.vantage_point == "client") return &t;
    if (traces.size() == 1 && traces[0].vantage_point == "unknown") return &traces[0];
    return nullptr;
}

}  // namespace

bool looks_like_qlog(std::string_view text) {
    const std::string_view head = text.substr(0, 4096);
    return head.find("\"qlog_version\"") != std::string_view::npos &&
           head.find("\"replay\"") == std::string_view::npos;
}

std::optional<Script> script_from_qlog(std::string_view text, const std::string& name,
                                       const std::string& default_path,
                                       std::vector<std::string>& notes, std::string& error) {
    auto traces = qlog::parse_text(text, name);
    if (!traces.ok()) {
        error = name + ": " + traces.error().reason;
        return std::nullopt;
    }
    const qlog::Trace* t = client_trace(*traces);
    if (!t) {
        error = name +
                ": no client trace (a server's trace shows the other side's requests "
                "only as received bytes)";
        return std::nullopt;
    }
    std::map<uint64_t, SeenStream> streams;
    bool h3_events = false;
    for (const qlog::Event& e : t->events) {
        if (e.name == "quic:packet_sent" && e.data.is_object() && e.data.contains("frames"))
            on_frames(e.data["frames"], e.time_ms, streams);
        if (e.name == "http3:frame_created" && e.data.is_object()) {
            h3_events = true;
            on_h3_frame(e.data, streams);
        }
    }
    if (streams.empty()) {
        error = name +
                ": the trace shows no request stream (no STREAM frame the client sent "
                "on a bidirectional stream)";
        return std::nullopt;
    }
    Script s;
    s.title = name + ": " + std::to_string(streams.size()) + " requests from " +
              (t->producer.empty() ? "a" : t->producer) + " client trace";
    size_t without_fields = 0;
    for (const auto& [id, seen] : streams) {
        Action h;
        h.kind = Action::Kind::kHeaders;
        h.stream = "s" + std::to_string(id);
        h.time_ms = seen.first_ms;
        h.fin = seen.fin && !seen.reset_code;
        if (seen.fields && !seen.fields->empty()) {
            h.fields = *seen.fields;
        } else {
            ++without_fields;
            h.fields = {{":method", "GET"},
                        {":scheme", "https"},
                        {":authority", "{authority}"},
                        {":path", default_path}};
        }
        s.actions.push_back(std::move(h));
        if (seen.reset_code) {
            Action r;
            r.kind = Action::Kind::kResetStream;
            r.stream = "s" + std::to_string(id);
            r.time_ms = seen.first_ms;
            r.code = *seen.reset_code;
            s.actions.push_back(std::move(r));
        }
    }
    std::stable_sort(s.actions.begin(), s.actions.end(),
                     [](const Action& a, const Action& b) { return *a.time_ms < *b.time_ms; });
    notes.push_back(name + ": " + std::to_string(streams.size()) +
                    " request streams, at the times the trace sent their first bytes");
    if (!h3_events)
        notes.push_back(name +
                        ": the trace has no HTTP/3 events: methods, paths and fields are "
                        "not in it; each request is sent as GET " +
                        default_path + " (--path)");
    else if (without_fields > 0)
        notes.push_back(name + ": " + std::to_string(without_fields) +
                        " requests have no HEADERS event: sent as GET " + default_path);
    notes.push_back(name +
                    ": request bodies are not in the trace (STREAM frames give lengths "
                    "only): none are sent; the responses are not checked");
    return s;
}

}  // namespace quiver::replay
