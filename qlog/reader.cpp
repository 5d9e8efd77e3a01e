#include "qlog/reader.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <system_error>

#include "qlog/limits.h"

namespace qlog {

using nlohmann::json;

namespace {

quic::Error fail(std::string why) {
    return quic::Error::transport(quic::TransportErrorCode::kInternalError, std::move(why));
}

std::string string_or(const json& j, const char* key, std::string fallback = {}) {
    if (j.is_object()) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string()) return it->get<std::string>();
    }
    return fallback;
}

std::optional<double> number(const json& j) {
    if (j.is_number()) return j.get<double>();
    if (j.is_string()) {
        // Main schema §11.3: uint64 values may be strings (I-JSON).
        const std::string s = j.get<std::string>();
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end && *end == '\0' && !s.empty()) return v;
    }
    return std::nullopt;
}

// What a header record (or a QlogFile trace) says about the trace.
struct TraceMeta {
    std::string vantage_point = "unknown";
    std::string producer;
    std::string group_id;
    std::string time_format;  // "relative", "relative_to_epoch", "absolute", "delta", ...
    std::optional<double> reference_time_ms;
};

TraceMeta meta_of(const json& trace, const json& top) {
    TraceMeta m;
    if (trace.is_object()) {
        const json vp = trace.value("vantage_point", json::object());
        m.vantage_point = string_or(vp, "type", "unknown");
        m.producer = string_or(vp, "name");
        const json cf = trace.value("common_fields", json::object());
        m.group_id = string_or(cf, "group_id", string_or(cf, "ODCID"));
        m.time_format = string_or(cf, "time_format");
        if (auto it = cf.find("reference_time"); it != cf.end())
            if (auto v = number(*it)) m.reference_time_ms = v;
        if (m.producer.empty()) m.producer = string_or(trace, "title");
    }
    if (m.producer.empty()) m.producer = string_or(top, "title");
    return m;
}

std::string version_of(const json& top) {
    if (top.contains("file_schema")) return "draft";
    if (auto it = top.find("qlog_version"); it != top.end()) {
        if (it->is_string()) return it->get<std::string>();
        if (it->is_number()) return it->dump();
    }
    return "unknown";
}

// Maps a few qlog 0.3 / draft-02 data fields to the current drafts' names.
void normalize_data(const std::string& name, json& data) {
    if (!data.is_object()) return;
    if (auto it = data.find("owner"); it != data.end() && !data.contains("initiator")) {
        data["initiator"] = *it;
        data.erase("owner");
    }
    if (name == "quic:packet_sent" || name == "quic:packet_received" ||
        name == "quic:packet_lost" || name == "quic:packet_dropped" ||
        name == "quic:packet_buffered") {
        // draft-01 had packet_type beside the header.
        if (auto it = data.find("packet_type"); it != data.end()) {
            json& header = data["header"];
            if (!header.is_object()) header = json::object();
            if (!header.contains("packet_type")) header["packet_type"] = *it;
            data.erase("packet_type");
        }
        if (auto fs = data.find("frames"); fs != data.end() && fs->is_array()) {
            for (json& f : *fs) {
                if (!f.is_object()) continue;
                auto len = f.find("length");
                if (len == f.end()) continue;
                const std::string type = string_or(f, "frame_type");
                if (type != "stream" && type != "crypto" && type != "datagram") continue;
                json& raw = f["raw"];
                if (!raw.is_object()) raw = json::object();
                if (!raw.contains("length")) raw["length"] = f["length"];
                f.erase("length");
            }
        }
    } else if (name == "quic:connection_closed") {
        if (auto it = data.find("connection_code"); it != data.end()) {
            if (it->is_string())
                data["connection_error"] = *it;
            else
                data["error_code"] = *it;
            data.erase("connection_code");
        }
        if (auto it = data.find("application_code"); it != data.end()) {
            data["application_error"] = "unknown";
            data["error_code"] = *it;
            data.erase("application_code");
        }
    } else if (name == "quic:key_updated" || name == "quic:key_discarded") {
        if (auto it = data.find("generation"); it != data.end() && !data.contains("key_phase")) {
            data["key_phase"] = *it;
            data.erase("generation");
        }
    } else if (name == "quic:alpn_information") {
        if (auto it = data.find("chosen_alpn"); it != data.end() && it->is_string())
            *it = json{{"string_value", *it}};
    }
}

// Turns one event record into an Event; false when it is not one.
bool to_event(const json& record, const std::vector<std::string>& event_fields, Event& out) {
    json time, name, data;
    if (record.is_object()) {
        auto t = record.find("time");
        auto n = record.find("name");
        if (n == record.end() || !n->is_string()) {
            // draft-01 objects: "category" + "event".
            auto c = record.find("category");
            auto e = record.find("event");
            if (c == record.end() || e == record.end() || !c->is_string() || !e->is_string())
                return false;
            name = c->get<std::string>() + ":" + e->get<std::string>();
        } else {
            name = *n;
        }
        if (t == record.end()) t = record.find("relative_time");
        if (t != record.end()) time = *t;
        data = record.value("data", json::object());
    } else if (record.is_array() && !event_fields.empty()) {
        // draft-01: "event_fields": ["relative_time", "category", "event", "data"].
        std::string category, event;
        for (size_t i = 0; i < event_fields.size() && i < record.size(); ++i) {
            const std::string& f = event_fields[i];
            if (f == "time" || f == "relative_time" || f == "delta_time")
                time = record[i];
            else if (f == "category" && record[i].is_string())
                category = record[i];
            else if (f == "event" && record[i].is_string())
                event = record[i];
            else if (f == "name" && record[i].is_string())
                name = record[i];
            else if (f == "data")
                data = record[i];
        }
        if (name.is_null()) {
            if (category.empty() || event.empty()) return false;
            name = category + ":" + event;
        }
    } else {
        return false;
    }
    out.name = normalize_event_name(name.get<std::string>());
    out.time_ms = number(time).value_or(0.0);
    out.data = data.is_object() ? std::move(data) : json::object();
    normalize_data(out.name, out.data);
    return true;
}

// Times to milliseconds since the first event, whatever the trace's time_format.
void normalize_times(Trace& t, const TraceMeta& m) {
    if (t.events.empty()) return;
    if (m.time_format == "delta" || m.time_format == "relative_to_previous_event") {
        double acc = 0;
        for (Event& e : t.events) e.time_ms = acc += e.time_ms;
    } else if (m.time_format == "absolute" && m.reference_time_ms) {
        for (Event& e : t.events) e.time_ms -= *m.reference_time_ms;
    }
    // Counted from the first event: absolute (since 1970) and relative times alike.
    const double first = t.events.front().time_ms;
    if (std::fabs(first) > 0)
        for (Event& e : t.events) e.time_ms -= first;
}

bool is_header(const json& j) {
    return j.is_object() && !j.contains("name") &&
           (j.contains("qlog_version") || j.contains("file_schema") || j.contains("trace") ||
            j.contains("qlog_format"));
}

// JSON-SEQ and NDJSON: a header record, then one event per record.
Trace read_records(std::string_view text, char separator, std::string_view source,
                   const char* serialization) {
    Trace t;
    t.source = std::string(source);
    t.serialization = serialization;
    TraceMeta meta;
    bool first = true;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find(separator, pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view rec = text.substr(pos, end - pos);
        pos = end + 1;
        // Trim: JSON-SEQ records end in 0x0A; NDJSON lines may end in \r.
        while (!rec.empty() && std::isspace(static_cast<unsigned char>(rec.back())))
            rec.remove_suffix(1);
        while (!rec.empty() &&
               (std::isspace(static_cast<unsigned char>(rec.front())) || rec.front() == '\x1e'))
            rec.remove_prefix(1);
        if (rec.empty()) continue;
        json j = json::parse(rec.begin(), rec.end(), nullptr, false);
        if (j.is_discarded()) {
            t.bad_records++;
            continue;
        }
        if (first && is_header(j)) {
            meta = meta_of(j.value("trace", json::object()), j);
            t.qlog_version = version_of(j);
            first = false;
            continue;
        }
        first = false;
        Event e;
        if (to_event(j, {}, e))
            t.events.push_back(std::move(e));
        else
            t.bad_records++;
    }
    t.vantage_point = meta.vantage_point;
    t.producer = meta.producer;
    t.group_id = meta.group_id;
    normalize_times(t, meta);
    return t;
}

// QlogFile: {"qlog_version"/"file_schema", "traces": [...]}.
std::vector<Trace> read_contained(const json& top, std::string_view source) {
    std::vector<Trace> out;
    const std::string version = version_of(top);
    const json traces = top.contains("traces") ? top["traces"] : json::array({top});
    if (!traces.is_array()) return out;
    for (const json& tj : traces) {
        if (!tj.is_object() || !tj.contains("events")) continue;  // TraceError entries
        Trace t;
        t.source = std::string(source);
        t.serialization = "JSON";
        t.qlog_version = version;
        const TraceMeta meta = meta_of(tj, top);
        t.vantage_point = meta.vantage_point;
        t.producer = meta.producer;
        t.group_id = meta.group_id;
        std::vector<std::string> fields;
        if (auto f = tj.find("event_fields"); f != tj.end() && f->is_array())
            for (const json& x : *f)
                if (x.is_string()) fields.push_back(x.get<std::string>());
        const json& events = tj["events"];
        if (events.is_array()) {
            for (const json& ej : events) {
                Event e;
                if (to_event(ej, fields, e))
                    t.events.push_back(std::move(e));
                else
                    t.bad_records++;
            }
        }
        normalize_times(t, meta);
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace

std::string normalize_event_name(std::string_view name) {
    const size_t colon = name.find(':');
    if (colon == std::string_view::npos) return std::string(name);
    const std::string_view ns = name.substr(0, colon);
    const std::string_view ev = name.substr(colon + 1);
    auto quic = [](std::string_view e) { return "quic:" + std::string(e); };
    if (ns == "transport") {
        if (ev == "datagrams_received") return quic("udp_datagrams_received");
        if (ev == "datagrams_sent") return quic("udp_datagrams_sent");
        if (ev == "datagram_dropped") return quic("udp_datagram_dropped");
        return quic(ev);
    }
    if (ns == "connectivity") return quic(ev);
    if (ns == "recovery") {
        if (ev == "metrics_updated") return quic("recovery_metrics_updated");
        if (ev == "parameters_set") return quic("recovery_parameters_set");
        if (ev == "loss_timer_updated") return quic("timer_updated");
        return quic(ev);
    }
    if (ns == "security") {
        if (ev == "key_retired") return quic("key_discarded");
        return quic(ev);
    }
    if (ns == "http") return "http3:" + std::string(ev);
    return std::string(name);
}

quic::Result<std::vector<Trace>> parse_text(std::string_view text, std::string_view source) {
    size_t start = 0;
    while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
    if (start == text.size()) return fail("empty file");
    std::vector<Trace> traces;
    if (text[start] == '\x1e') {
        traces.push_back(read_records(text.substr(start), '\x1e', source, "JSON-SEQ"));
    } else if (text[start] == '{') {
        json whole = json::parse(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(),
                                 nullptr, false);
        if (!whole.is_discarded() && whole.is_object() &&
            (whole.contains("traces") || whole.contains("events"))) {
            traces = read_contained(whole, source);
        } else {
            traces.push_back(read_records(text.substr(start), '\n', source, "NDJSON"));
        }
    } else {
        return fail("not a qlog file (neither JSON-SEQ nor JSON)");
    }
    std::erase_if(traces, [](const Trace& t) { return t.events.empty() && t.bad_records > 0; });
    if (traces.empty()) return fail("no qlog trace found");
    return traces;
}

quic::Result<std::vector<Trace>> read_file(const std::filesystem::path& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return fail(path.string() + ": " + ec.message());
    if (size > kMaxReadFileBytes) return fail(path.string() + ": file too large");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(path.string() + ": cannot open");
    std::string text(size, '\0');
    in.read(text.data(), static_cast<std::streamsize>(size));
    text.resize(static_cast<size_t>(in.gcount()));
    auto r = parse_text(text, path.string());
    if (!r.ok()) return fail(path.string() + ": " + r.error().reason);
    return r;
}

}  // namespace qlog
