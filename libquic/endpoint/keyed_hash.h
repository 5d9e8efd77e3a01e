// Hashing for the endpoint's tables. Their keys are chosen by peers (a client picks the DCID
// of its first Initial, a peer its reset tokens, a sender its source address), so an unkeyed
// hash would let anyone aim many keys at one bucket and make every lookup a list walk (hash
// flooding). SipHash-2-4 (BoringSSL's) with a key drawn per endpoint makes bucket placement
// unpredictable.
#pragma once

#include <openssl/siphash.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "quic/address.h"
#include "quic/connection_id.h"
#include "quic/random.h"
#include "wire/stateless_reset.h"

namespace quic {

// A source address reduced to what per-source limits count: an IPv4 address, or the /64
// prefix of an IPv6 address (one host or subscriber usually holds a whole /64, RFC 4291 §2.5.1,
// so counting /128s would let it multiply its share at will).
struct SourceKey {
    std::array<uint8_t, 9> bytes{};  // family, then 4 or 8 address bytes
    static SourceKey of(const SocketAddress& a) {
        SourceKey k;
        const uint8_t* ip = a.ip();
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is its IPv4 address:
        // its /64 would put every IPv4 client of a dual-stack socket in one source.
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        const bool mapped = a.family() == SocketAddress::Family::kIpv6 &&
                            std::memcmp(ip, kMapped, sizeof kMapped) == 0;
        const bool v4 = a.family() == SocketAddress::Family::kIpv4 || mapped;
        k.bytes[0] = static_cast<uint8_t>(v4 ? SocketAddress::Family::kIpv4 : a.family());
        if (mapped) ip += sizeof kMapped;
        const size_t n = v4 ? 4 : 8;
        for (size_t i = 0; i < n && i < a.ip_length(); ++i) k.bytes[1 + i] = ip[i];
        return k;
    }
    friend bool operator==(const SourceKey&, const SourceKey&) = default;
};

// A peer's IP address (family and all its bytes, no port): the key of the index that takes an
// ICMP Packet Too Big to the connections with that peer (its port may be unknown).
struct RemoteIpKey {
    std::array<uint8_t, 17> bytes{};  // family, then 4 or 16 address bytes
    static RemoteIpKey of(const SocketAddress& a) {
        RemoteIpKey k;
        k.bytes[0] = static_cast<uint8_t>(a.family());
        std::memcpy(k.bytes.data() + 1, a.ip(), std::min<size_t>(a.ip_length(), 16));
        return k;
    }
    friend bool operator==(const RemoteIpKey&, const RemoteIpKey&) = default;
};

class KeyedHash {
  public:
    KeyedHash() = default;
    explicit KeyedHash(Random& random) {
        key_[0] = random.next_u64();
        key_[1] = random.next_u64();
    }
    size_t operator()(const ConnectionId& c) const { return of(c.data(), c.size()); }
    size_t operator()(const StatelessResetToken& t) const { return of(t.data(), t.size()); }
    size_t operator()(const SourceKey& k) const { return of(k.bytes.data(), k.bytes.size()); }
    size_t operator()(const RemoteIpKey& k) const { return of(k.bytes.data(), k.bytes.size()); }

  private:
    size_t of(const uint8_t* p, size_t n) const {
        return static_cast<size_t>(SIPHASH_24(key_.data(), p, n));
    }
    std::array<uint64_t, 2> key_{};
};

// RFC 9000 §10.3.1: tokens are compared "without leaking information about the value of the
// token" (the keyed hash already hides which bucket a guess falls in).
struct ResetTokenEqual {
    bool operator()(const StatelessResetToken& a, const StatelessResetToken& b) const {
        return stateless_reset_token_equal(a, b);
    }
};

}  // namespace quic
