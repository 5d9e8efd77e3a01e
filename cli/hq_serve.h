// The hq-interop server (cli/hq_interop.h) for one connection: each bidirectional stream
// carries "GET /path\r\n"; the answer is the file under the served root, streamed as the
// connection takes it; refusals reset the stream with the codes of hq_interop.h.
#pragma once

#include <memory>
#include <string>

#include "log.h"
#include "quic/uv/connection.h"

namespace quiver {

// `root`: the realpath of the served directory.
void serve_hq(std::shared_ptr<quic::uv::Connection> connection, const std::string& root, Log log);

}  // namespace quiver
