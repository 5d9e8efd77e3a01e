#include "qlog/summary.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>

#include "qlog/format.h"

namespace qlog {

using nlohmann::json;

namespace {

std::optional<double> num(const json& obj, const char* key) {
    if (!obj.is_object()) return std::nullopt;
    auto it = obj.find(key);
    if (it == obj.end()) return std::nullopt;
    if (it->is_number()) return it->get<double>();
    if (it->is_string()) {
        const std::string s = it->get<std::string>();
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == '\0') return v;
    }
    return std::nullopt;
}

std::string str(const json& obj, const char* key) {
    if (!obj.is_object()) return {};
    auto it = obj.find(key);
    if (it == obj.end()) return {};
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number()) return it->dump();
    return {};
}

std::optional<uint32_t> version_value(const json& v) {
    if (v.is_number_unsigned() || v.is_number_integer()) return v.get<uint32_t>();
    if (v.is_string()) return parse_version(v.get<std::string>());
    return std::nullopt;
}

// Packet size: raw.length (drafts, 0.3), else the old top-level "length".
uint64_t packet_length(const json& data) {
    if (auto raw = data.find("raw"); raw != data.end())
        if (auto l = num(*raw, "length")) return static_cast<uint64_t>(*l);
    if (auto l = num(data, "length")) return static_cast<uint64_t>(*l);
    if (auto h = data.find("header"); h != data.end())
        if (auto l = num(*h, "packet_size")) return static_cast<uint64_t>(*l);
    return 0;
}

bool has_frame(const json& data, std::string_view type) {
    auto fs = data.find("frames");
    if (fs == data.end() || !fs->is_array()) return false;
    for (const json& f : *fs)
        if (str(f, "frame_type") == type) return true;
    return false;
}

const json* find_frame(const json& data, std::string_view type) {
    auto fs = data.find("frames");
    if (fs == data.end() || !fs->is_array()) return nullptr;
    for (const json& f : *fs)
        if (str(f, "frame_type") == type) return &f;
    return nullptr;
}

std::string hex_code(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, static_cast<uint64_t>(v));
    return buf;
}

// "local application 0x100 (reason)" from a connection_closed event (normalised names).
std::string describe_closed(const json& d) {
    std::string out = str(d, "initiator");
    auto add = [&](const std::string& s) {
        if (s.empty()) return;
        if (!out.empty()) out += ' ';
        out += s;
    };
    const std::string trigger = str(d, "trigger");
    if (d.contains("application_error")) {
        add("application");
        if (auto c = num(d, "error_code")) add(hex_code(*c));
    } else if (d.contains("connection_error")) {
        add(str(d, "connection_error"));
        if (str(d, "connection_error") == "unknown")
            if (auto c = num(d, "error_code")) add(hex_code(*c));
    } else if (auto c = num(d, "error_code")) {
        add("error " + hex_code(*c));
    }
    if (!trigger.empty() && trigger != "application" && trigger != "error") add(trigger);
    const std::string reason = str(d, "reason");
    if (!reason.empty()) add("(" + truncate_text(reason, 40) + ")");
    return out.empty() ? "closed" : out;
}

// From a CONNECTION_CLOSE frame, when no connection_closed event was logged.
std::string describe_close_frame(const json& f, bool sent) {
    std::string out = sent ? "local" : "remote";
    const std::string space = str(f, "error_space");
    if (space == "application") {
        out += " application";
        if (auto c = num(f, "error_code"))
            out += " " + hex_code(*c);
        else if (auto r = num(f, "raw_error_code"))
            out += " " + hex_code(*r);
    } else {
        std::string e = str(f, "error");
        if (e.empty()) e = str(f, "error_code");  // qlog 0.3 puts the name in error_code
        if (!e.empty() && e[0] >= '0' && e[0] <= '9')
            if (auto c = num(f, "error_code"))
                e = transport_error_qlog_name(static_cast<uint64_t>(*c));
        out += " " + (e.empty() ? std::string("transport") : e);
    }
    const std::string reason = str(f, "reason");
    if (!reason.empty()) out += " (" + truncate_text(reason, 40) + ")";
    return out;
}

std::string fmt_ms(const std::optional<double>& v) {
    if (!v) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, *v >= 100 ? "%.0f" : "%.2f", *v);
    return buf;
}

std::string fmt_u(uint64_t v) {
    return std::to_string(v);
}

}  // namespace

ConnectionSummary summarize(const Trace& t) {
    ConnectionSummary s;
    s.source = t.source;
    s.producer = t.producer;
    s.vantage_point = t.vantage_point;
    s.group_id = t.group_id;
    std::optional<double> complete, confirmed, handshake_done;
    std::string close_frame;
    for (const Event& e : t.events) {
        const json& d = e.data;
        const std::string& n = e.name;
        if (n == "quic:packet_sent" || n == "quic:packet_received") {
            const bool sent = n == "quic:packet_sent";
            (sent ? s.packets_sent : s.packets_received)++;
            (sent ? s.bytes_sent : s.bytes_received) += packet_length(d);
            if (auto h = d.find("header"); h != d.end() && h->is_object() && !s.version)
                if (auto v = h->find("version"); v != h->end())
                    if (auto ver = version_value(*v); ver && *ver != 0) s.version = ver;
            if (!handshake_done && has_frame(d, "handshake_done")) handshake_done = e.time_ms;
            if (const json* f = find_frame(d, "connection_close"); f && close_frame.empty())
                close_frame = describe_close_frame(*f, sent);
        } else if (n == "quic:packet_lost") {
            s.packets_lost++;
        } else if (n == "quic:recovery_metrics_updated") {
            if (auto v = num(d, "min_rtt")) s.min_rtt_ms = v;
            if (auto v = num(d, "smoothed_rtt")) s.smoothed_rtt_ms = v;
            if (auto v = num(d, "congestion_window")) {
                const auto cw = static_cast<uint64_t>(*v);
                if (!s.max_congestion_window || cw > *s.max_congestion_window)
                    s.max_congestion_window = cw;
            }
        } else if (n == "quic:version_information") {
            if (auto v = d.find("chosen_version"); v != d.end())
                if (auto ver = version_value(*v)) s.version = ver;
        } else if (n == "quic:alpn_information") {
            if (auto a = d.find("chosen_alpn"); a != d.end()) {
                if (a->is_string())
                    s.alpn = a->get<std::string>();
                else if (a->contains("string_value"))
                    s.alpn = str(*a, "string_value");
                else if (a->contains("byte_value"))
                    s.alpn = "0x" + str(*a, "byte_value");
            }
        } else if (n == "quic:connection_state_updated") {
            const std::string st = str(d, "new");
            if (!complete && (st == "handshake_complete" || st == "connected"))
                complete = e.time_ms;
            if (!confirmed && st == "handshake_confirmed") confirmed = e.time_ms;
        } else if (n == "quic:connection_closed") {
            if (s.closed.empty()) s.closed = describe_closed(d);
        }
    }
    if (complete)
        s.handshake_ms = complete;
    else if (confirmed)
        s.handshake_ms = confirmed;
    else if (handshake_done)
        s.handshake_ms = handshake_done;
    if (!t.events.empty()) s.duration_ms = t.events.back().time_ms - t.events.front().time_ms;
    if (s.closed.empty()) s.closed = close_frame.empty() ? "-" : close_frame;
    s.alpn = truncate_text(s.alpn, 32);
    return s;
}

std::string format_summary_table(std::span<const ConnectionSummary> rows) {
    std::vector<std::vector<std::string>> cells;
    cells.push_back({"CONNECTION", "VANTAGE", "PRODUCER", "VERSION", "ALPN", "HS_MS", "DUR_MS",
                     "TX_PKTS", "TX_BYTES", "RX_PKTS", "RX_BYTES", "LOST", "MIN_RTT", "SRTT",
                     "MAX_CWND", "CLOSED"});
    for (const ConnectionSummary& s : rows) {
        std::string name = std::filesystem::path(s.source).filename().string();
        if (name.empty()) name = s.group_id.empty() ? "-" : s.group_id;
        cells.push_back(
            {truncate_text(name, 48), s.vantage_point.empty() ? "-" : s.vantage_point,
             s.producer.empty() ? "-" : truncate_text(s.producer, 16),
             s.version ? version_display_name(*s.version) : "-", s.alpn.empty() ? "-" : s.alpn,
             fmt_ms(s.handshake_ms), fmt_ms(s.duration_ms), fmt_u(s.packets_sent),
             fmt_u(s.bytes_sent), fmt_u(s.packets_received), fmt_u(s.bytes_received),
             fmt_u(s.packets_lost), fmt_ms(s.min_rtt_ms), fmt_ms(s.smoothed_rtt_ms),
             s.max_congestion_window ? fmt_u(*s.max_congestion_window) : "-", s.closed});
    }
    // Display width: count UTF-8 lead bytes, not bytes ("…" is one column).
    auto width = [](const std::string& c) {
        return static_cast<size_t>(std::count_if(c.begin(), c.end(), [](char ch) {
            return (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
        }));
    };
    std::vector<size_t> widths(cells[0].size(), 0);
    for (const auto& row : cells)
        for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
    std::string out;
    for (const auto& row : cells) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(widths[i] - width(row[i]) + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

nlohmann::json to_json(const ConnectionSummary& s) {
    json j;
    j["source"] = s.source;
    j["producer"] = s.producer;
    j["vantage_point"] = s.vantage_point;
    j["group_id"] = s.group_id;
    j["version"] = s.version ? json(version_hex(*s.version)) : json(nullptr);
    j["alpn"] = s.alpn;
    j["handshake_ms"] = s.handshake_ms ? json(*s.handshake_ms) : json(nullptr);
    j["duration_ms"] = s.duration_ms;
    j["packets_sent"] = s.packets_sent;
    j["bytes_sent"] = s.bytes_sent;
    j["packets_received"] = s.packets_received;
    j["bytes_received"] = s.bytes_received;
    j["packets_lost"] = s.packets_lost;
    j["min_rtt_ms"] = s.min_rtt_ms ? json(*s.min_rtt_ms) : json(nullptr);
    j["smoothed_rtt_ms"] = s.smoothed_rtt_ms ? json(*s.smoothed_rtt_ms) : json(nullptr);
    j["max_congestion_window"] =
        s.max_congestion_window ? json(*s.max_congestion_window) : json(nullptr);
    j["closed"] = s.closed;
    return j;
}

}  // namespace qlog
