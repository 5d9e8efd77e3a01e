// A `quiver client --record` recording (cli/replay_record.h, docs/replay.md "Recording") read
// back as a replay script: the requests as the client sent them (HEADERS with their fields in
// order, DATA with their bytes, FINs, RESET_STREAM, STOP_SENDING, DATAGRAMs) at their times,
// an expectation of each response's status, and the SNI, ALPN and versions the client
// offered. Reading checks every record and says which one and which field is wrong; it never
// throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "replay_script.h"

namespace quiver::replay {

// The event schema of quiver's own events (quiver:connection_parameters, quiver:stop_sending),
// listed in a recording's header: it is how `quiver replay` tells a recording from another
// qlog (qlog main schema §8.2: a private schema's URI, not an urn:ietf one).
inline constexpr std::string_view kRecordingEventSchema = "urn:x-quiver:qlog:events:quiver-1";

// Whether `text` is a recording: its first record is a qlog header whose event_schemas list
// quiver's (kRecordingEventSchema).
bool is_recording(std::string_view text);

// The recording in `text` as a script; `name` prefixes errors ("rec.sqlog record 7: event
// 'http3:frame_created': field 'frame.raw.data' is missing"). nullopt with `error` set on the
// first error.
std::optional<Script> parse_recording(std::string_view text, const std::string& name,
                                      std::string& error);

}  // namespace quiver::replay
