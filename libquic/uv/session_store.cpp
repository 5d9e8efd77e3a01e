#include "quic/uv/session_store.h"

namespace quic::uv {

StoredSession& MemorySessionStore::entry(const std::string& server) {
    auto it = index_.find(server);
    if (it != index_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);
        return it->second->second;
    }
    lru_.emplace_front(server, StoredSession{});
    index_[server] = lru_.begin();
    while (lru_.size() > max_servers_ && lru_.size() > 1) {
        index_.erase(lru_.back().first);
        lru_.pop_back();
    }
    return lru_.front().second;
}

StoredSession MemorySessionStore::get(const std::string& server) {
    auto it = index_.find(server);
    if (it == index_.end()) return {};
    StoredSession s = it->second->second;
    it->second->second.token.clear();  // RFC 9000 §8.1.3: a token is used once
    return s;
}

void MemorySessionStore::put_ticket(const std::string& server, Bytes ticket) {
    entry(server).ticket = std::move(ticket);
}

void MemorySessionStore::put_token(const std::string& server, Bytes token) {
    entry(server).token = std::move(token);
}

}  // namespace quic::uv
