// Endpoints wired back to back, without the simulator's links: every datagram is delivered at
// once to the endpoint that owns its destination address, and time jumps to the earliest
// timeout. For tests and benchmarks that need many connections (one client endpoint may hold
// thousands, each from its own address) and exact control over each datagram.
#pragma once

#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "quic/endpoint.h"

namespace quic::sim {

class DirectNet {
  public:
    explicit DirectNet(Time start = Time{} + std::chrono::seconds(1)) : now_(start) {}

    // `e` receives every datagram sent to `address`; an endpoint may own many addresses.
    void attach(const SocketAddress& address, Endpoint& e) { owners_[address] = &e; }
    void add_endpoint(Endpoint& e) { endpoints_.push_back(&e); }

    Time now() const { return now_; }
    void set_now(Time t) { now_ = t; }

    // Sees (and may drop, by returning false) every datagram before it is delivered.
    std::function<bool(const Path& from_sender, ByteSpan datagram)> filter;

    // Hands one datagram to the endpoint owning path.local (the receiver's view of the path).
    void deliver(const Path& receiver_path, ByteSpan bytes) {
        auto it = owners_.find(receiver_path.local);
        if (it == owners_.end()) return;
        copy_.assign(bytes.begin(), bytes.end());  // received datagrams are decrypted in place
        it->second->on_datagram(now_, receiver_path, Ecn::kNotEct, copy_);
        ++delivered_;
    }

    // Delivers what every endpoint sends until none has anything left (or `max_rounds`).
    // Returns the datagrams delivered.
    size_t flush(size_t max_rounds = 1000) {
        size_t total = 0;
        for (size_t round = 0; round < max_rounds; ++round) {
            size_t moved = 0;
            for (Endpoint* e : endpoints_) {
                while (auto t = e->poll_transmit(now_, buffer_)) {
                    const size_t seg = t->segment_size ? t->segment_size : t->size;
                    for (size_t off = 0; off < t->size; off += seg) {
                        ByteSpan d(buffer_.data() + off, std::min(seg, t->size - off));
                        ++moved;
                        if (filter && !filter(t->path, d)) continue;
                        deliver(Path{t->path.remote, t->path.local}, d);
                    }
                }
            }
            total += moved;
            if (moved == 0) break;
        }
        return total;
    }

    // The earliest timeout of any endpoint.
    std::optional<Time> next_timeout() const {
        std::optional<Time> t;
        for (const Endpoint* e : endpoints_)
            if (auto et = e->next_timeout(); et && (!t || *et < *t)) t = et;
        return t;
    }

    // Moves time to the earliest timeout (if it is before `limit`), fires it, and flushes.
    // False when nothing is due before `limit`.
    bool advance(Time limit) {
        auto t = next_timeout();
        if (!t || *t > limit) return false;
        if (*t > now_) now_ = *t;
        for (Endpoint* e : endpoints_)
            if (auto et = e->next_timeout(); et && *et <= now_) e->on_timeout(now_);
        flush();
        return true;
    }

    // Flushes and advances until `done` or until `limit`.
    bool run_until(const std::function<bool()>& done, Time limit) {
        flush();
        while (!done())
            if (!advance(limit)) return done();
        return true;
    }

    size_t delivered() const { return delivered_; }

  private:
    Time now_;
    struct AddressHash {
        size_t operator()(const SocketAddress& a) const { return a.hash(); }
    };
    std::unordered_map<SocketAddress, Endpoint*, AddressHash> owners_;
    std::vector<Endpoint*> endpoints_;
    std::vector<uint8_t> buffer_ = std::vector<uint8_t>(65536);
    std::vector<uint8_t> copy_;
    size_t delivered_ = 0;
};

// 10.a.b.c:4433 for client number i (distinct IPv4 addresses, so per-source limits see distinct
// sources).
inline SocketAddress direct_client_address(size_t i) {
    return SocketAddress::ipv4({10, static_cast<uint8_t>(1 + (i >> 16)),
                                static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)},
                               4433);
}

inline SocketAddress direct_server_address() {
    return SocketAddress::ipv4({10, 0, 0, 2}, 443);
}

}  // namespace quic::sim
