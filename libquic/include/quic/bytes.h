// Bounds-checked byte reader and writer: the only way the library reads or writes wire bytes.
// Network byte order throughout (RFC 9000 §1.3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "quic/varint.h"

namespace quic {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;
using MutableByteSpan = std::span<uint8_t>;

// Reads from a span; every read checks bounds and returns false (consuming nothing) when the
// input is too short. The span's bytes must outlive any sub-span read from it.
class ByteReader {
  public:
    explicit ByteReader(ByteSpan data) : data_(data) {}

    size_t remaining() const { return data_.size() - pos_; }
    size_t position() const { return pos_; }
    bool empty() const { return remaining() == 0; }
    ByteSpan rest() const { return data_.subspan(pos_); }
    ByteSpan consumed() const { return data_.first(pos_); }

    bool read_u8(uint8_t& out) {
        if (remaining() < 1) return false;
        out = data_[pos_++];
        return true;
    }
    bool peek_u8(uint8_t& out) const {
        if (remaining() < 1) return false;
        out = data_[pos_];
        return true;
    }
    bool read_u16(uint16_t& out) {
        uint64_t v;
        if (!read_uint(2, v)) return false;
        out = static_cast<uint16_t>(v);
        return true;
    }
    bool read_u32(uint32_t& out) {
        uint64_t v;
        if (!read_uint(4, v)) return false;
        out = static_cast<uint32_t>(v);
        return true;
    }
    // A big-endian unsigned integer of n (0..8) bytes.
    bool read_uint(size_t n, uint64_t& out) {
        if (n > 8 || remaining() < n) return false;
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_ + i];
        pos_ += n;
        out = v;
        return true;
    }
    // RFC 9000 §16. Non-minimal encodings are accepted, as the RFC requires of receivers
    // (except where a specific field says otherwise, e.g. frame types §12.4).
    bool read_varint(uint64_t& out) {
        uint8_t first;
        if (!peek_u8(first)) return false;
        size_t n = varint_length_from_first_byte(first);
        if (remaining() < n) return false;
        uint64_t v = first & 0x3f;
        for (size_t i = 1; i < n; ++i) v = (v << 8) | data_[pos_ + i];
        pos_ += n;
        out = v;
        return true;
    }
    bool read_bytes(size_t n, ByteSpan& out) {
        if (remaining() < n) return false;
        out = data_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    bool copy_bytes(std::span<uint8_t> out) {
        if (remaining() < out.size()) return false;
        if (!out.empty()) std::memcpy(out.data(), data_.data() + pos_, out.size());
        pos_ += out.size();
        return true;
    }
    bool skip(size_t n) {
        if (remaining() < n) return false;
        pos_ += n;
        return true;
    }

  private:
    ByteSpan data_;
    size_t pos_ = 0;
};

// Writes into a fixed span. A write that does not fit writes nothing and marks the writer
// failed (sticky), so a caller can write a whole structure and check ok() once.
class ByteWriter {
  public:
    explicit ByteWriter(MutableByteSpan buf) : buf_(buf) {}

    bool ok() const { return ok_; }
    size_t size() const { return pos_; }
    size_t remaining() const { return buf_.size() - pos_; }
    MutableByteSpan written() const { return buf_.first(pos_); }
    MutableByteSpan buffer() const { return buf_; }

    ByteWriter& write_u8(uint8_t v) { return write_uint(v, 1); }
    ByteWriter& write_u16(uint16_t v) { return write_uint(v, 2); }
    ByteWriter& write_u32(uint32_t v) { return write_uint(v, 4); }
    ByteWriter& write_uint(uint64_t v, size_t n) {
        if (!reserve(n) || n > 8) return fail();
        for (size_t i = 0; i < n; ++i)
            buf_[pos_ + i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
        pos_ += n;
        return *this;
    }
    // RFC 9000 §16, in the shortest encoding. Values above kVarintMax fail the writer.
    ByteWriter& write_varint(uint64_t v) {
        size_t n = varint_size(v);
        if (n == 0) return fail();
        return write_varint_with_length(v, n);
    }
    // A varint in exactly n bytes (1, 2, 4 or 8), e.g. a Length field reserved before its
    // value is known. Fails when v does not fit.
    ByteWriter& write_varint_with_length(uint64_t v, size_t n) {
        static constexpr uint8_t kPrefix[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
        if ((n != 1 && n != 2 && n != 4 && n != 8) || varint_size(v) == 0 || varint_size(v) > n)
            return fail();
        if (!reserve(n)) return fail();
        write_uint(v, n);
        buf_[pos_ - n] |= kPrefix[n];
        return *this;
    }
    ByteWriter& write_bytes(ByteSpan bytes) {
        if (!reserve(bytes.size())) return fail();
        if (!bytes.empty()) std::memcpy(buf_.data() + pos_, bytes.data(), bytes.size());
        pos_ += bytes.size();
        return *this;
    }
    ByteWriter& write_zeros(size_t n) {
        if (!reserve(n)) return fail();
        std::memset(buf_.data() + pos_, 0, n);
        pos_ += n;
        return *this;
    }

    // Counts n bytes that were written directly into buffer() past size() (e.g. by a nested
    // writer over the remaining space) as written.
    ByteWriter& advance(size_t n) {
        if (!reserve(n)) return fail();
        pos_ += n;
        return *this;
    }
    // Forgets everything written from `pos` on (a packet abandoned after its header).
    void rewind(size_t pos) {
        if (pos < pos_) pos_ = pos;
    }
    // Marks the writer failed (e.g. an encoder refusing a value the peer would reject).
    ByteWriter& fail() {
        ok_ = false;
        return *this;
    }

  private:
    bool reserve(size_t n) const { return ok_ && remaining() >= n; }

    MutableByteSpan buf_;
    size_t pos_ = 0;
    bool ok_ = true;
};

}  // namespace quic
