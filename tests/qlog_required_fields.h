// The qlog quic-events draft's required fields, by event name and by frame type (JSON pointers
// into an event's "data" / into a frame), shared by the writer's unit test and the simulator's
// end-to-end trace test.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace qlog_test {

// The quic events draft's required fields, by event name (JSON pointers into "data"). Where
// the draft makes every field optional, what this writer promises to write is listed, marked
// so; the test also fails when an event name here never appears in the trace.
inline const std::map<std::string, std::vector<std::string>> kRequiredEventFields = {
    {"quic:connection_started", {"/local", "/remote"}},
    {"quic:connection_state_updated", {"/new"}},
    {"quic:connection_closed", {/* ours: */ "/initiator", "/trigger"}},
    {"quic:version_information", {/* ours: */ "/chosen_version"}},
    {"quic:alpn_information", {/* ours: */ "/chosen_alpn/string_value"}},
    {"quic:parameters_set", {/* ours: */ "/initiator"}},
    {"quic:packet_sent", {"/header", "/header/packet_type", /* ours: */ "/raw/length"}},
    {"quic:packet_received", {"/header", "/header/packet_type"}},
    {"quic:packet_dropped", {/* ours: */ "/header/packet_type", "/raw/length", "/trigger"}},
    {"quic:packet_buffered", {/* ours: */ "/header/packet_type", "/trigger"}},
    {"quic:recovery_metrics_updated", {}},
    {"quic:congestion_state_updated", {"/new"}},
    {"quic:packet_lost",
     {/* "should include at least": */ "/header/packet_type", "/header/packet_number"}},
    {"quic:timer_updated", {"/event_type"}},
    {"quic:key_updated", {"/key_type"}},
    {"quic:key_discarded", {"/key_type"}},
    {"quic:stream_state_updated", {"/stream_id", "/new", "/stream_side"}},
    {"quic:udp_datagrams_received", {/* ours: */ "/count", "/raw"}},
    {"quic:mtu_updated", {"/new"}},
};

// The draft's required fields per frame type (§8.13), plus the ones this writer promises.
inline const std::map<std::string, std::vector<std::string>> kRequiredFrameFields = {
    {"padding", {"/raw/payload_length"}},
    {"ping", {}},
    {"ack", {/* ours: */ "/ack_delay", "/acked_ranges"}},
    {"reset_stream", {"/stream_id", "/error", "/final_size"}},
    {"stop_sending", {"/stream_id", "/error"}},
    {"crypto", {"/offset", "/raw/length"}},
    {"new_token", {"/token", /* ours: */ "/token/raw/length"}},
    {"stream", {"/stream_id", /* ours: */ "/offset", "/raw/length"}},
    {"max_data", {"/maximum"}},
    {"max_stream_data", {"/stream_id", "/maximum"}},
    {"max_streams", {"/stream_type", "/maximum"}},
    {"data_blocked", {"/limit"}},
    {"stream_data_blocked", {"/stream_id", "/limit"}},
    {"streams_blocked", {"/stream_type", "/limit"}},
    {"new_connection_id", {"/sequence_number", "/retire_prior_to", "/connection_id"}},
    {"retire_connection_id", {"/sequence_number"}},
    {"path_challenge", {/* ours: */ "/data"}},
    {"path_response", {/* ours: */ "/data"}},
    {"connection_close", {/* ours: */ "/error_space", "/error", "/reason"}},
    {"handshake_done", {}},
    {"datagram", {/* ours: */ "/raw/length"}},
};

}  // namespace qlog_test
