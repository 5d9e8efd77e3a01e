// --session-file: what a client keeps between runs to resume (RFC 9001 §4.5) and send 0-RTT
// (§4.6): the last resumption ticket and the last NEW_TOKEN token (RFC 9000 §8.1.3).
#pragma once

#include <string>

#include "quic/bytes.h"
#include "quic/uv/session_store.h"

namespace quiver {

struct SessionData {
    quic::Bytes ticket;
    quic::Bytes token;
};

// An absent or unreadable file gives empty data (a first run).
SessionData load_session(const std::string& path);
// Written to a temporary file and renamed, so a crash never leaves half a file.
bool save_session(const std::string& path, const SessionData& data);

// --session-file as the transport's session store (quic/uv/session_store.h): the file keeps
// one session, offered whatever the server's name; each new ticket or token is written at
// once (a warning on stderr when the file cannot be written).
class FileSessionStore final : public quic::uv::SessionStore {
  public:
    explicit FileSessionStore(std::string path)
        : path_(std::move(path)), data_(load_session(path_)) {}
    quic::uv::StoredSession get(const std::string& server) override;
    void put_ticket(const std::string& server, quic::Bytes ticket) override;
    void put_token(const std::string& server, quic::Bytes token) override;
    bool has_ticket() const { return !data_.ticket.empty(); }
    bool ticket_received() const { return ticket_received_; }

  private:
    void save();
    std::string path_;
    SessionData data_;
    bool ticket_received_ = false;
};

}  // namespace quiver
