// The hq-interop server (cli/hq_interop.h) for one connection: each bidirectional stream
// carries "GET /path\r\n"; the answer is the file under the served root, streamed as the
// connection takes it; refusals reset the stream with the codes of hq_interop.h.
#pragma once

#include <memory>
#include <string>

#include "log.h"
#include "quic/uv/connection.h"
#include "root_path.h"

namespace quiver {

// `root`: the served directory, shared by every connection.
void serve_hq(std::shared_ptr<quic::uv::Connection> connection,
              std::shared_ptr<const ServedRoot> root, Log log);

}  // namespace quiver
