// The qlog reader: loads the traces of a qlog file into one common form, whoever wrote it.
//
// Reads
//   - JSON-SEQ (.sqlog; RFC 7464 records, header first): ours in both schemas, ngtcp2's
//     (qlog 0.3), and any draft QlogFileSeq (main schema §5);
//   - JSON (.qlog; QlogFile with "traces": [...], main schema §4), events as objects or as
//     draft-01 arrays described by "event_fields";
//   - NDJSON (one JSON object per line, header first): quic-go 0.29's .qlog files
//     (qlog_version "draft-02", qlog_format "NDJSON").
//
// Normalisation: event names follow the current drafts ("transport:packet_sent" becomes
// "quic:packet_sent", "recovery:metrics_updated" becomes "quic:recovery_metrics_updated",
// "security:key_retired" becomes "quic:key_discarded", ...); times are milliseconds from the
// trace's first event whatever the time_format; a few 0.3 data fields are mapped to their
// draft names (owner -> initiator, frame length -> raw.length, generation -> key_phase,
// connection_code -> connection_error). Everything else in `data` is kept as written.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "quic/result.h"

namespace qlog {

struct Event {
    double time_ms = 0;  // since the trace's first event
    std::string name;    // normalised ("quic:packet_sent")
    nlohmann::json data;
};

struct Trace {
    std::string source;         // the file it came from
    std::string serialization;  // "JSON-SEQ", "JSON" or "NDJSON"
    std::string qlog_version;   // "draft" (file_schema URIs), "0.3", "draft-02", ...
    std::string producer;       // vantage_point.name, else the title ("ngtcp2", "quic-go qlog")
    std::string vantage_point;  // "client", "server", "network" or "unknown"
    std::string group_id;       // common_fields ODCID / group_id, when given
    std::vector<Event> events;  // in file order
    size_t bad_records = 0;     // records that did not parse (a cut-off last record, say)
};

// Reads one file. Fails (with the reason in Error::reason) when the file cannot be read, is
// larger than kMaxReadFileBytes, or holds no qlog trace.
quic::Result<std::vector<Trace>> read_file(const std::filesystem::path& path);

// The same on text already in memory; `source` names it in the traces.
quic::Result<std::vector<Trace>> parse_text(std::string_view text, std::string_view source = {});

// The draft name for an event name of any qlog version ("transport:packet_sent" ->
// "quic:packet_sent"); names already in draft form are returned unchanged.
std::string normalize_event_name(std::string_view name);

}  // namespace qlog
