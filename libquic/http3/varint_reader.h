// A QUIC varint (RFC 9000 §16) read from bytes that arrive in pieces, as HTTP/3 frame headers
// and stream headers are (RFC 9114 §7.1, §6.2): keeps at most 8 bytes between calls.
#pragma once

#include <cstdint>
#include <optional>

#include "quic/bytes.h"
#include "quic/varint.h"

namespace quic::h3 {

class VarintReader {
  public:
    // Consumes what it can from in; returns the value once its last byte has arrived.
    std::optional<uint64_t> next(ByteReader& in) {
        uint8_t b;
        while (in.read_u8(b)) {
            if (have_ == 0) need_ = varint_length_from_first_byte(b);
            buf_[have_++] = b;
            if (have_ == need_) {
                uint64_t v = buf_[0] & 0x3f;
                for (size_t i = 1; i < need_; ++i) v = (v << 8) | buf_[i];
                have_ = 0;
                return v;
            }
        }
        return std::nullopt;
    }
    // Whether part of a varint has been read.
    bool partial() const { return have_ != 0; }

  private:
    uint8_t buf_[8] = {};
    size_t have_ = 0;
    size_t need_ = 0;
};

// Appends a varint in its shortest encoding. Values above kVarintMax are a caller bug.
inline void append_varint(Bytes& out, uint64_t v) {
    uint8_t buf[8];
    ByteWriter w(buf);
    w.write_varint(v);
    out.insert(out.end(), buf, buf + w.size());
}

}  // namespace quic::h3
