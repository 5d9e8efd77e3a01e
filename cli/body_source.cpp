#include "body_source.h"

#include <utility>

namespace quiver {

BodySource BodySource::file(quic::StreamSource source, uint64_t size) {
    BodySource s;
    s.source_ = std::move(source);
    s.size_ = size;
    return s;
}

BodySource BodySource::bytes(std::string body) {
    BodySource s;
    s.size_ = body.size();
    s.bytes_ = std::move(body);
    return s;
}

quic::Result<bool> BodySource::pump(const Writer& write) {
    if (source_)
        return quic::Error::of_kind(quic::ErrorKind::kInvalidArgument,
                                    "a file body goes to the stream as its source");
    while (!done_) {
        const quic::ByteSpan rest(reinterpret_cast<const uint8_t*>(bytes_.data()) + offset_,
                                  size_ - offset_);
        auto n = write(rest, true);
        if (!n.ok()) return n.error();
        offset_ += *n;
        if (*n < rest.size()) return false;  // the stream is full: call again when writable
        done_ = true;
    }
    bytes_ = {};
    return true;
}

}  // namespace quiver
