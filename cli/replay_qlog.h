// Another stack's client trace (a quic-go or ngtcp2 qlog, any format qlog/reader.h reads) as
// a replay script (docs/replay.md, "Other stacks' traces"): the requests the trace shows,
// rebuilt as far as it allows, and notes saying what it lacks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replay_script.h"

namespace quiver::replay {

// Whether `text` looks like a qlog file rather than a replay script.
bool looks_like_qlog(std::string_view text);

// Requests from the client-side trace in `text`: a request stream (client-initiated,
// bidirectional) per stream the client sent data on, at the time of its first STREAM frame,
// with its FIN, and its RESET_STREAM. HTTP/3 events (http3:frame_created with a HEADERS
// frame's fields, when a trace has them) give the method, path and fields; without them each
// request is a GET of `default_path`. `notes` says what the trace lacks.
std::optional<Script> script_from_qlog(std::string_view text, const std::string& name,
                                       const std::string& default_path,
                                       std::vector<std::string>& notes, std::string& error);

}  // namespace quiver::replay
