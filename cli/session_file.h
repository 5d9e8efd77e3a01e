// --session-file: what a client keeps between runs to resume (RFC 9001 §4.5) and send 0-RTT
// (§4.6): the last resumption ticket and the last NEW_TOKEN token (RFC 9000 §8.1.3).
#pragma once

#include <string>

#include "quic/bytes.h"

namespace quiver {

struct SessionData {
    quic::Bytes ticket;
    quic::Bytes token;
};

// An absent or unreadable file gives empty data (a first run).
SessionData load_session(const std::string& path);
// Written to a temporary file and renamed, so a crash never leaves half a file.
bool save_session(const std::string& path, const SessionData& data);

}  // namespace quiver
