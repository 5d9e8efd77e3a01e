#include "qlog/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

namespace qlog {

using nlohmann::json;

namespace {

struct Point {
    double x, y;
};

struct Series {
    std::string label;
    std::string color;
    std::vector<Point> points;
    bool step = false;  // the value holds until the next point (metrics)
    bool dashed = false;
};

struct Panel {
    std::string title;
    std::string y_label;  // unit decided when drawing
    bool bytes = false;   // y values are bytes: scale to KiB/MiB
    std::vector<Series> series;
    std::string empty_note;
};

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f"};

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

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                // Control characters are not allowed in XML 1.0.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
        }
    }
    return out;
}

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks.
double nice_step(double range, int target) {
    if (!(range > 0)) return 1;
    const double raw = range / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag;
    const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * mag;
}

std::string tick_label(double v, double step) {
    char buf[32];
    if (step >= 1 || v == 0)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (step >= 0.1)
        std::snprintf(buf, sizeof buf, "%.1f", v);
    else if (step >= 0.01)
        std::snprintf(buf, sizeof buf, "%.2f", v);
    else
        std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

// Keeps the shape of a long series: per x column, the first, min, max and last points.
std::vector<Point> reduce(const std::vector<Point>& pts, size_t max_points, double x0, double x1) {
    if (pts.size() <= max_points || !(x1 > x0)) return pts;
    const size_t columns = std::max<size_t>(max_points / 4, 1);
    std::vector<Point> out;
    size_t i = 0;
    while (i < pts.size()) {
        const auto col = static_cast<size_t>((pts[i].x - x0) / (x1 - x0) * columns);
        size_t j = i;
        Point lo = pts[i], hi = pts[i];
        while (j < pts.size() &&
               static_cast<size_t>((pts[j].x - x0) / (x1 - x0) * columns) == col) {
            if (pts[j].y < lo.y) lo = pts[j];
            if (pts[j].y > hi.y) hi = pts[j];
            ++j;
        }
        out.push_back(pts[i]);
        if (lo.x <= hi.x) {
            out.push_back(lo);
            out.push_back(hi);
        } else {
            out.push_back(hi);
            out.push_back(lo);
        }
        out.push_back(pts[j - 1]);
        i = j;
    }
    return out;
}

struct Layout {
    int width;
    int left = 90, right = 190;  // room for the y labels and the legend
    int plot_width() const { return width - left - right; }
};

// Draws one panel at vertical offset `top`; returns the SVG.
std::string draw_panel(const Panel& p, const Layout& L, int top, int height, double t_end,
                       const PlotOptions& o) {
    std::string s;
    const int x_left = L.left, x_right = L.left + L.plot_width();
    const int y_top = top + 30, y_bottom = top + 30 + height;
    s += "<text x=\"" + std::to_string(x_left) + "\" y=\"" + std::to_string(top + 18) +
         "\" class=\"title\">" + xml_escape(p.title) + "</text>\n";

    double y_max = 0;
    for (const Series& se : p.series)
        for (const Point& pt : se.points) y_max = std::max(y_max, pt.y);
    // Units: bytes become KiB or MiB so tick labels stay short.
    double scale = 1;
    std::string unit = p.y_label;
    if (p.bytes) {
        if (y_max >= 4 * 1024 * 1024) {
            scale = 1024.0 * 1024.0;
            unit += " (MiB)";
        } else if (y_max >= 4 * 1024) {
            scale = 1024.0;
            unit += " (KiB)";
        } else {
            unit += " (bytes)";
        }
    }
    const double y_range = y_max > 0 ? y_max / scale * 1.05 : 1;
    const double y_step = nice_step(y_range, 5);
    const double y_axis_max = std::ceil(y_range / y_step) * y_step;
    // Time axis: milliseconds, or seconds for long traces.
    const bool seconds = t_end > 10000;
    const double x_div = seconds ? 1000 : 1;
    const double x_range = t_end > 0 ? t_end / x_div : 1;
    const double x_step = nice_step(x_range, 8);
    const double x_axis_max = std::ceil(x_range / x_step) * x_step;

    auto X = [&](double t_ms) { return x_left + (t_ms / x_div) / x_axis_max * L.plot_width(); };
    auto Y = [&](double v) { return y_bottom - (v / scale) / y_axis_max * height; };

    // Grid and ticks.
    s += "<g class=\"grid\">\n";
    for (double v = 0; v <= y_axis_max + y_step / 2; v += y_step) {
        const double y = y_bottom - v / y_axis_max * height;
        s += "<line x1=\"" + std::to_string(x_left) + "\" y1=\"" + fmt(y) + "\" x2=\"" +
             std::to_string(x_right) + "\" y2=\"" + fmt(y) + "\"/>\n";
    }
    s += "</g>\n<g class=\"tick\">\n";
    for (double v = 0; v <= y_axis_max + y_step / 2; v += y_step) {
        const double y = y_bottom - v / y_axis_max * height;
        s += "<text x=\"" + std::to_string(x_left - 8) + "\" y=\"" + fmt(y + 4) +
             "\" text-anchor=\"end\">" + tick_label(v, y_step) + "</text>\n";
    }
    for (double v = 0; v <= x_axis_max + x_step / 2; v += x_step) {
        const double x = x_left + v / x_axis_max * L.plot_width();
        s += "<line x1=\"" + fmt(x) + "\" y1=\"" + std::to_string(y_bottom) + "\" x2=\"" + fmt(x) +
             "\" y2=\"" + std::to_string(y_bottom + 5) + "\" class=\"axis\"/>\n";
        s += "<text x=\"" + fmt(x) + "\" y=\"" + std::to_string(y_bottom + 18) +
             "\" text-anchor=\"middle\">" + tick_label(v, x_step) + "</text>\n";
    }
    s += "</g>\n";
    // Axes and their labels.
    s += "<line class=\"axis\" x1=\"" + std::to_string(x_left) + "\" y1=\"" +
         std::to_string(y_bottom) + "\" x2=\"" + std::to_string(x_right) + "\" y2=\"" +
         std::to_string(y_bottom) + "\"/>\n";
    s += "<line class=\"axis\" x1=\"" + std::to_string(x_left) + "\" y1=\"" +
         std::to_string(y_top) + "\" x2=\"" + std::to_string(x_left) + "\" y2=\"" +
         std::to_string(y_bottom) + "\"/>\n";
    s += "<text class=\"label\" x=\"" + std::to_string((x_left + x_right) / 2) + "\" y=\"" +
         std::to_string(y_bottom + 36) + "\" text-anchor=\"middle\">time (" +
         (seconds ? "s" : "ms") + ")</text>\n";
    const int ly = (y_top + y_bottom) / 2;
    s += "<text class=\"label\" x=\"" + std::to_string(x_left - 62) + "\" y=\"" +
         std::to_string(ly) + "\" text-anchor=\"middle\" transform=\"rotate(-90 " +
         std::to_string(x_left - 62) + " " + std::to_string(ly) + ")\">" + xml_escape(unit) +
         "</text>\n";

    // Series.
    int legend_y = y_top + 8;
    for (const Series& se : p.series) {
        if (se.points.empty()) continue;
        std::vector<Point> pts = reduce(se.points, o.max_points, 0, t_end);
        std::string d;
        char buf[64];
        double last_y = 0;
        for (size_t i = 0; i < pts.size(); ++i) {
            const double x = X(pts[i].x), y = Y(pts[i].y);
            if (se.step && i > 0) {
                std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x, last_y);
                d += buf;
            }
            std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x, y);
            d += buf;
            last_y = y;
        }
        if (se.step) {  // the last value holds to the end of the trace
            std::snprintf(buf, sizeof buf, "%.1f,%.1f", X(t_end), last_y);
            d += buf;
        }
        s += "<polyline fill=\"none\" stroke=\"" + se.color + "\" stroke-width=\"1.5\"" +
             (se.dashed ? " stroke-dasharray=\"5,3\"" : "") + " points=\"" + d + "\"/>\n";
        // Legend entry.
        const int lx = x_right + 15;
        s += "<line x1=\"" + std::to_string(lx) + "\" y1=\"" + std::to_string(legend_y) +
             "\" x2=\"" + std::to_string(lx + 24) + "\" y2=\"" + std::to_string(legend_y) +
             "\" stroke=\"" + se.color + "\" stroke-width=\"3\"" +
             (se.dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>\n";
        s += "<text class=\"legend\" x=\"" + std::to_string(lx + 30) + "\" y=\"" +
             std::to_string(legend_y + 4) + "\">" + xml_escape(se.label) + "</text>\n";
        legend_y += 18;
    }
    const bool any = std::any_of(p.series.begin(), p.series.end(),
                                 [](const Series& se) { return !se.points.empty(); });
    if (!any)
        s += "<text class=\"note\" x=\"" + std::to_string((x_left + x_right) / 2) + "\" y=\"" +
             std::to_string(ly) + "\" text-anchor=\"middle\">" + xml_escape(p.empty_note) +
             "</text>\n";
    return s;
}

// Highest stream offset per stream over time, from the frames of packet_sent (or _received).
std::map<uint64_t, std::vector<Point>> stream_progress(const Trace& t, const char* event_name) {
    std::map<uint64_t, std::vector<Point>> out;
    std::map<uint64_t, double> highest;
    for (const Event& e : t.events) {
        if (e.name != event_name) continue;
        auto fs = e.data.find("frames");
        if (fs == e.data.end() || !fs->is_array()) continue;
        for (const json& f : *fs) {
            if (!f.is_object() || f.value("frame_type", "") != "stream") continue;
            const auto id = num(f, "stream_id");
            if (!id) continue;
            double len = 0;
            if (auto r = f.find("raw"); r != f.end())
                if (auto l = num(*r, "length")) len = *l;
            if (auto l = num(f, "length")) len = *l;
            const double end = num(f, "offset").value_or(0) + len;
            const auto sid = static_cast<uint64_t>(*id);
            double& h = highest[sid];
            std::vector<Point>& pts = out[sid];
            if (pts.empty()) pts.push_back({e.time_ms, 0});  // the line starts from zero
            if (end > h) {
                h = end;
                pts.push_back({e.time_ms, h});
            }
        }
    }
    return out;
}

}  // namespace

std::string render_svg(const Trace& t, const PlotOptions& o) {
    double t_end = 0;
    for (const Event& e : t.events) t_end = std::max(t_end, e.time_ms);

    Panel cc{"Congestion window and bytes in flight", "bytes", true, {}, "no recovery metrics"};
    Panel rtt{
        "Round-trip time (from the first RTT sample)", "RTT (ms)", false, {}, "no RTT samples"};
    Series cwnd{"congestion window", kPalette[0], {}, true};
    Series bif{"bytes in flight", kPalette[1], {}, true};
    Series ssthresh{"ssthresh", kPalette[4], {}, true, true};
    Series min_rtt{"min RTT", kPalette[2], {}, true};
    Series srtt{"smoothed RTT", kPalette[0], {}, true};
    Series latest{"latest RTT", kPalette[3], {}, false, true};
    // RTT values before the first sample are the configured initial RTT (RFC 9002 §6.2.2,
    // 333 ms), not a measurement: they would squash the real curve, so they are left out.
    bool rtt_sampled = false;
    std::optional<double> initial_smoothed;
    for (const Event& e : t.events) {
        if (e.name != "quic:recovery_metrics_updated") continue;
        // A sample shows as a non-zero RTT, or as smoothed_rtt moving off its initial value
        // (loggers that round to whole milliseconds report 0 ms RTTs on loopback).
        const auto smoothed = num(e.data, "smoothed_rtt");
        if (smoothed && !initial_smoothed) initial_smoothed = smoothed;
        if (num(e.data, "latest_rtt").value_or(0) > 0 || num(e.data, "min_rtt").value_or(0) > 0 ||
            (smoothed && *smoothed != *initial_smoothed))
            rtt_sampled = true;
        if (auto v = num(e.data, "congestion_window")) cwnd.points.push_back({e.time_ms, *v});
        if (auto v = num(e.data, "bytes_in_flight")) bif.points.push_back({e.time_ms, *v});
        if (auto v = num(e.data, "ssthresh"); v && *v < 1e15)
            ssthresh.points.push_back({e.time_ms, *v});
        if (!rtt_sampled) continue;
        if (auto v = num(e.data, "min_rtt")) min_rtt.points.push_back({e.time_ms, *v});
        if (auto v = num(e.data, "smoothed_rtt")) srtt.points.push_back({e.time_ms, *v});
        if (auto v = num(e.data, "latest_rtt")) latest.points.push_back({e.time_ms, *v});
    }
    cc.series = {cwnd, bif, ssthresh};
    rtt.series = {latest, srtt, min_rtt};

    // Stream data the endpoint sent; for an endpoint that mostly received (a downloading
    // client), the data it received says more, and the title says which it is.
    const char* direction = "sent";
    auto progress = stream_progress(t, "quic:packet_sent");
    auto received = stream_progress(t, "quic:packet_received");
    auto bytes_of = [](const std::map<uint64_t, std::vector<Point>>& m) {
        double sum = 0;
        for (const auto& entry : m) sum += entry.second.back().y;
        return sum;
    };
    if (bytes_of(received) > bytes_of(progress)) {
        progress = std::move(received);
        direction = "received";
    }
    // Traces that log data packets without their frames (quiver's default qlog level) show
    // only the stream frames of the other packets: say so.
    size_t packets_without_frames = 0;
    for (const Event& e : t.events)
        packets_without_frames += e.name == "quic:packet_sent" && !e.data.contains("frames");
    const std::string partial =
        packets_without_frames > 0 ? " - partial: data packets logged without frames" : "";
    Panel streams{
        std::string("Stream data ") + direction + " per stream (highest offset)" + partial,
        "stream data",
        true,
        {},
        "no stream data" + partial};
    // The biggest streams get their own line; the rest are summed.
    std::vector<std::pair<double, uint64_t>> by_size;
    for (const auto& [id, pts] : progress) by_size.push_back({pts.back().y, id});
    std::sort(by_size.begin(), by_size.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::vector<uint64_t> shown;
    for (size_t i = 0; i < by_size.size() && i < o.max_streams; ++i)
        shown.push_back(by_size[i].second);
    std::sort(shown.begin(), shown.end());
    size_t color = 0;
    for (uint64_t id : shown) {
        streams.series.push_back(
            {"stream " + std::to_string(id), kPalette[color++ % 9], progress[id], true});
    }
    if (by_size.size() > shown.size()) {
        // Sum of the other streams, as a step series over the union of their update times.
        std::vector<std::pair<double, std::pair<uint64_t, double>>> updates;
        for (const auto& [id, pts] : progress) {
            if (std::find(shown.begin(), shown.end(), id) != shown.end()) continue;
            for (const Point& p : pts) updates.push_back({p.x, {id, p.y}});
        }
        std::sort(updates.begin(), updates.end(),
                  [](auto& a, auto& b) { return a.first < b.first; });
        std::map<uint64_t, double> cur;
        double total = 0;
        Series other{std::to_string(by_size.size() - shown.size()) + " other streams (sum)",
                     kPalette[8],
                     {},
                     true,
                     true};
        for (const auto& [x, u] : updates) {
            total += u.second - cur[u.first];
            cur[u.first] = u.second;
            other.points.push_back({x, total});
        }
        streams.series.push_back(std::move(other));
    }

    Layout L{o.width};
    const int panel_total = o.panel_height + 80;
    const int header = 50;
    const int height = header + 3 * panel_total + 10;
    std::string s;
    s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
         std::to_string(o.width) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
         std::to_string(o.width) + " " + std::to_string(height) + "\">\n";
    s += "<style>text{font-family:DejaVu Sans,Arial,sans-serif;font-size:12px;fill:#222}"
         ".title{font-size:14px;font-weight:bold}.heading{font-size:16px;font-weight:bold}"
         ".label{font-size:12px}.legend{font-size:12px}.note{fill:#888}"
         ".axis{stroke:#222;stroke-width:1}.grid line{stroke:#ddd;stroke-width:1}</style>\n";
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    std::string heading = std::filesystem::path(t.source).filename().string();
    if (heading.empty()) heading = t.group_id;
    heading += "  -  " + t.vantage_point;
    if (!t.producer.empty()) heading += " (" + t.producer + ")";
    char dur[64];
    std::snprintf(dur, sizeof dur, ", %.1f ms, %zu events", t_end, t.events.size());
    heading += dur;
    s += "<text class=\"heading\" x=\"" + std::to_string(L.left) + "\" y=\"28\">" +
         xml_escape(heading) + "</text>\n";
    int top = header;
    for (const Panel* p : {&cc, &rtt, &streams}) {
        s += "<g>\n" + draw_panel(*p, L, top, o.panel_height, t_end, o) + "</g>\n";
        top += panel_total;
    }
    s += "</svg>\n";
    return s;
}

}  // namespace qlog
