// Connection IDs, RFC 9000 §5.1: 0 to 20 bytes in QUIC v1 and v2 (§17.2). Stored inline so
// that a peer cannot make us allocate by sending them.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>

namespace quic {

// RFC 9000 §17.2: "In QUIC version 1, this value MUST NOT exceed 20 bytes." (also v2).
inline constexpr size_t kMaxConnectionIdLength = 20;

class ConnectionId {
  public:
    ConnectionId() = default;
    // Precondition: bytes.size() <= kMaxConnectionIdLength (use from_bytes when unchecked).
    explicit ConnectionId(std::span<const uint8_t> bytes)
        : len_(static_cast<uint8_t>(std::min(bytes.size(), kMaxConnectionIdLength))) {
        if (len_) std::memcpy(data_.data(), bytes.data(), len_);
    }
    // Returns false when bytes is too long for a connection ID.
    static bool from_bytes(std::span<const uint8_t> bytes, ConnectionId& out) {
        if (bytes.size() > kMaxConnectionIdLength) return false;
        out = ConnectionId(bytes);
        return true;
    }

    size_t size() const { return len_; }
    bool empty() const { return len_ == 0; }
    const uint8_t* data() const { return data_.data(); }
    std::span<const uint8_t> bytes() const { return {data_.data(), len_}; }

    std::string to_hex() const {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string s;
        s.reserve(len_ * 2);
        for (size_t i = 0; i < len_; ++i) {
            s.push_back(kHex[data_[i] >> 4]);
            s.push_back(kHex[data_[i] & 0xf]);
        }
        return s;
    }

    friend bool operator==(const ConnectionId& a, const ConnectionId& b) {
        return a.len_ == b.len_ && std::memcmp(a.data_.data(), b.data_.data(), a.len_) == 0;
    }
    friend bool operator<(const ConnectionId& a, const ConnectionId& b) {
        return std::lexicographical_compare(a.data_.begin(), a.data_.begin() + a.len_,
                                            b.data_.begin(), b.data_.begin() + b.len_);
    }

  private:
    std::array<uint8_t, kMaxConnectionIdLength> data_{};
    uint8_t len_ = 0;
};

// RFC 9000 §10.3: a 16-byte stateless reset token.
inline constexpr size_t kStatelessResetTokenLength = 16;
using StatelessResetToken = std::array<uint8_t, kStatelessResetTokenLength>;

}  // namespace quic

template <>
struct std::hash<quic::ConnectionId> {
    size_t operator()(const quic::ConnectionId& c) const noexcept {
        // FNV-1a; IDs we issue are random, and demux tables key on them.
        uint64_t h = 1469598103934665603ull;
        for (uint8_t b : c.bytes()) h = (h ^ b) * 1099511628211ull;
        return static_cast<size_t>(h);
    }
};
