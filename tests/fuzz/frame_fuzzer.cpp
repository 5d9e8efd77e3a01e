// libFuzzer target: wire::parse_frame over arbitrary bytes (docs/architecture.md, "Errors and
// limits"). Input: one byte picks the packet type, the rest is a packet payload parsed frame by
// frame. Property: every frame that parses and is_encodable round-trips: encode_frame writes
// exactly encoded_size bytes, parse_frame reads all of them back, and re-encoding the result gives
// the same bytes (the frame structs hold ByteSpans, so equality is checked on their encoding).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "quic/frame.h"

namespace {

using namespace quic;

constexpr PacketType kTypes[] = {PacketType::kInitial,
                                 PacketType::kZeroRtt,
                                 PacketType::kHandshake,
                                 PacketType::kRetry,
                                 PacketType::kVersionNegotiation,
                                 PacketType::kOneRtt};

Bytes encode(const Frame& f) {
    Bytes out(encoded_size(f));
    ByteWriter w(out);
    if (!encode_frame(w, f) || w.size() != out.size()) std::abort();  // is_encodable promised it
    return out;
}

void check_round_trip(const Frame& f, PacketType type) {
    if (!is_encodable(f)) return;
    const Bytes first = encode(f);
    ByteReader r(first);
    auto again = parse_frame(r, type);
    if (!again.ok() || !r.empty() || again->index() != f.index()) std::abort();
    if (encode(*again) != first) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const PacketType type = kTypes[data[0] % std::size(kTypes)];
    // A heap copy of exactly the payload, so ASan sees any read past its end.
    std::vector<uint8_t> payload(data + 1, data + size);
    ByteReader r(payload);
    // Each successful parse consumes at least one byte, so this loop ends.
    while (!r.empty()) {
        const size_t before = r.remaining();
        auto f = parse_frame(r, type);
        if (!f.ok()) break;
        if (r.remaining() >= before) std::abort();
        check_round_trip(*f, type);
    }
    return 0;
}
