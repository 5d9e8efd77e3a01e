// One line per connection: what `quiver qlog summary` prints.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "qlog/reader.h"

namespace qlog {

struct ConnectionSummary {
    std::string source;         // file
    std::string producer;       // "quiver", "ngtcp2", "quic-go qlog", ...
    std::string vantage_point;  // client / server / ...
    std::string group_id;
    std::optional<uint32_t> version;
    std::string alpn;
    std::optional<double> handshake_ms;  // first event to handshake complete (or confirmed)
    double duration_ms = 0;              // first to last event
    uint64_t packets_sent = 0, bytes_sent = 0;
    uint64_t packets_received = 0, bytes_received = 0;
    uint64_t packets_lost = 0;
    std::optional<double> min_rtt_ms, smoothed_rtt_ms;  // the last values reported
    std::optional<uint64_t> max_congestion_window;
    std::string closed;  // "local application 0x0 (bye)", "remote no_error", "-" when not logged
};

ConnectionSummary summarize(const Trace& trace);

// A fixed-width table with a header line, one row per summary.
std::string format_summary_table(std::span<const ConnectionSummary> rows);

nlohmann::json to_json(const ConnectionSummary& s);

}  // namespace qlog
