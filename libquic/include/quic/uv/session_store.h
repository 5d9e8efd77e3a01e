// Where a client keeps what lets its next connection to a server go faster: the TLS session
// ticket (resumption and 0-RTT, RFC 9001 §4.5-§4.6) and the server's NEW_TOKEN token
// (address validation without a Retry, RFC 9000 §8.1.3). quic-go's TokenStore plus the TLS
// ClientSessionCache, in one.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <string>

#include "quic/bytes.h"

namespace quic::uv {

struct StoredSession {
    Bytes ticket;  // from SessionTicketReceived: resumption (and 0-RTT when it allows)
    Bytes token;   // from NewTokenReceived: for the next Initial
};

class SessionStore {
  public:
    virtual ~SessionStore() = default;
    // What is stored for `server` (the server name, or the address when there is none).
    // Tokens are single-use (RFC 9000 §8.1.3): get() forgets the token it returns.
    virtual StoredSession get(const std::string& server) = 0;
    virtual void put_ticket(const std::string& server, Bytes ticket) = 0;
    virtual void put_token(const std::string& server, Bytes token) = 0;
};

// In memory, least recently used servers forgotten first (quic-go's NewLRUTokenStore).
class MemorySessionStore final : public SessionStore {
  public:
    explicit MemorySessionStore(size_t max_servers = 64) : max_servers_(max_servers) {}
    StoredSession get(const std::string& server) override;
    void put_ticket(const std::string& server, Bytes ticket) override;
    void put_token(const std::string& server, Bytes token) override;

  private:
    StoredSession& entry(const std::string& server);
    size_t max_servers_;
    std::list<std::pair<std::string, StoredSession>> lru_;  // most recent first
    std::map<std::string, std::list<std::pair<std::string, StoredSession>>::iterator> index_;
};

}  // namespace quic::uv
