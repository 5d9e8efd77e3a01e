#include "body_source.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace quiver {
namespace {

// Bytes read from a file per chunk.
constexpr size_t kChunk = 64 * 1024;

}  // namespace

BodySource BodySource::file(int fd, uint64_t size) {
    BodySource s;
    s.fd_ = fd;
    s.size_ = size;
    return s;
}

BodySource BodySource::bytes(std::string body) {
    BodySource s;
    s.size_ = body.size();
    s.bytes_ = std::move(body);
    return s;
}

BodySource::~BodySource() {
    if (fd_ >= 0) ::close(fd_);
}

BodySource::BodySource(BodySource&& o) noexcept {
    *this = std::move(o);
}

BodySource& BodySource::operator=(BodySource&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
        bytes_ = std::move(o.bytes_);
        size_ = o.size_;
        offset_ = o.offset_;
        done_ = o.done_;
        buf_ = std::move(o.buf_);
        buf_offset_ = o.buf_offset_;
        buf_len_ = o.buf_len_;
        bytes_read_ = o.bytes_read_;
    }
    return *this;
}

quic::Result<bool> BodySource::pump(const Writer& write) {
    while (!done_) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size_ - offset_));
        quic::ByteSpan chunk;
        if (fd_ >= 0) {
            // What the stream did not take of the last chunk is offered again from the buffer,
            // not read again: a file is read once.
            if (offset_ >= buf_offset_ + buf_len_) {
                // Only as large as the read: a 1 KiB response must not allocate and zero a
                // whole chunk (6 % of a server's CPU under small-request load, issue 14).
                if (buf_.size() < want) buf_.resize(want);
                const ssize_t got =
                    want ? ::pread(fd_, buf_.data(), want, static_cast<off_t>(offset_)) : 0;
                if (got < 0 || (want && got == 0))
                    return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument,
                                                "the file shrank or could not be read");
                buf_offset_ = offset_;
                buf_len_ = static_cast<size_t>(got);
                bytes_read_ += buf_len_;
            }
            const size_t skip = static_cast<size_t>(offset_ - buf_offset_);
            chunk = quic::ByteSpan(buf_.data() + skip, buf_len_ - skip);
        } else {
            chunk = quic::ByteSpan(reinterpret_cast<const uint8_t*>(bytes_.data()) + offset_, want);
        }
        const bool last = offset_ + chunk.size() == size_;
        auto n = write(chunk, last);
        if (!n.ok()) return n.error();
        offset_ += *n;
        if (*n < chunk.size()) return false;  // the stream is full: call again when writable
        if (last) done_ = true;
    }
    if (fd_ >= 0) ::close(fd_), fd_ = -1;
    return true;
}

}  // namespace quiver
