// A response body on its way out: a file read in chunks as the stream takes them, or bytes made
// in memory. Shared by the hq-interop and HTTP/3 servers, so a large file never sits in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quic/bytes.h"
#include "quic/result.h"

namespace quiver {

class BodySource {
  public:
    BodySource() = default;
    // Takes `fd` (closed with the source).
    static BodySource file(int fd, uint64_t size);
    static BodySource bytes(std::string body);
    ~BodySource();
    BodySource(BodySource&& o) noexcept;
    BodySource& operator=(BodySource&& o) noexcept;
    BodySource(const BodySource&) = delete;
    BodySource& operator=(const BodySource&) = delete;

    using Writer = std::function<quic::Result<size_t>(quic::ByteSpan data, bool fin)>;
    // Offers what is left to `write` (bytes taken; the last chunk carries the FIN) until it
    // takes fewer than offered (wait for the stream to be writable, then call again) or all is
    // sent. Returns true once the whole body and the FIN went; an error when the file cannot
    // be read to its end or the stream refuses.
    quic::Result<bool> pump(const Writer& write);
    uint64_t size() const { return size_; }
    // Bytes read from the file so far (each byte once, however the stream takes them).
    uint64_t bytes_read() const { return bytes_read_; }
    bool done() const { return done_; }

  private:
    int fd_ = -1;
    std::string bytes_;
    uint64_t size_ = 0, offset_ = 0;
    bool done_ = false;
    std::vector<uint8_t> buf_;
    uint64_t buf_offset_ = 0;  // the file offset of buf_[0]
    size_t buf_len_ = 0;       // bytes of the file in buf_
    uint64_t bytes_read_ = 0;
};

}  // namespace quiver
