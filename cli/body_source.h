// A response body on its way out: a file, sent through a stream source that reads it as packets
// are built (file_source.h), or bytes made in memory, offered to the stream as it takes them.
// Shared by the hq-interop and HTTP/3 servers, so a large file never sits in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "quic/bytes.h"
#include "quic/result.h"
#include "quic/stream_source.h"

namespace quiver {

class BodySource {
  public:
    BodySource() = default;
    static BodySource file(quic::StreamSource source, uint64_t size);
    static BodySource bytes(std::string body);

    // A file body's source, to hand to the stream with its size (empty for a bytes body).
    const quic::StreamSource& source() const { return source_; }
    // The source went to the stream: the whole body and the FIN are sent.
    void source_taken() {
        source_ = nullptr;
        done_ = true;
    }

    using Writer = std::function<quic::Result<size_t>(quic::ByteSpan data, bool fin)>;
    // A bytes body: offers what is left to `write` (bytes taken; the last chunk carries the
    // FIN) until it takes fewer than offered (wait for the stream to be writable, then call
    // again) or all is sent. Returns true once the whole body and the FIN went.
    quic::Result<bool> pump(const Writer& write);
    uint64_t size() const { return size_; }
    bool done() const { return done_; }

  private:
    quic::StreamSource source_;
    std::string bytes_;
    uint64_t size_ = 0, offset_ = 0;
    bool done_ = false;
};

}  // namespace quiver
