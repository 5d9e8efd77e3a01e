// libFuzzer target: the HTTP/3 receive side (docs/architecture.md, "Errors and limits"): the QPACK
// decoder (encoder stream and field sections), Huffman decoding, and the HTTP/3 frame parser and
// stream readers, all fed the same input.
//
// Input: byte 0 picks the chunk size for the stream readers and the QPACK limits; the rest is
// a sequence of records [tag][length][bytes] for the QPACK decoder, where tag & 3 selects
// encoder-stream data (0), a field section (1), cancel_stream (2) or taking the decoder
// stream (3), and tag >> 2 the stream ID (so sections can block and unblock). The whole rest
// is also Huffman-decoded and fed to the stream readers in chunks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "http3/huffman.h"
#include "http3/qpack_decoder.h"
#include "http3/stream_readers.h"

namespace {

using namespace quic;
using namespace quic::h3;

// Small limits, so the fuzzer reaches eviction, blocking and the size caps quickly.
constexpr uint64_t kTableCapacity = 256;
constexpr uint64_t kMaxBlockedStreams = 2;
constexpr uint64_t kMaxFieldSectionSize = 1024;

void check_section(const DecodedFieldSection& s) {
    if (s.status != DecodedFieldSection::Status::kDecoded) return;
    uint64_t total = 0;
    for (const Field& f : s.fields) total += field_size(f);
    if (total > kMaxFieldSectionSize) std::abort();  // the cap must hold
}

void fuzz_qpack(ByteSpan input, bool small_buffer) {
    QpackDecoderOptions options;
    options.max_table_capacity = kTableCapacity;
    options.max_blocked_streams = kMaxBlockedStreams;
    options.max_field_section_size = kMaxFieldSectionSize;
    if (small_buffer) options.max_encoder_stream_buffer = 32;
    QpackDecoder decoder(options);
    std::map<uint64_t, Bytes> blocked;  // sections to retry once their stream is unblocked
    ByteReader r(input);
    uint8_t tag = 0, length = 0;
    ByteSpan bytes;
    while (r.read_u8(tag) && r.read_u8(length)) {
        if (!r.read_bytes(std::min<size_t>(length, r.remaining()), bytes)) break;
        const uint64_t stream_id = (tag >> 2) * 4;  // client-initiated bidirectional
        switch (tag & 3) {
            case 0:
                if (!decoder.on_encoder_stream_data(bytes).ok()) return;  // connection error
                break;
            case 1: {
                // A heap copy of exactly the section, so ASan sees any read past its end.
                Bytes section(bytes.begin(), bytes.end());
                auto s = decoder.decode(stream_id, section);
                if (!s.ok()) return;  // QPACK_DECOMPRESSION_FAILED closes the connection
                check_section(*s);
                if (s->status == DecodedFieldSection::Status::kBlocked)
                    blocked[stream_id] = std::move(section);
                break;
            }
            case 2:
                decoder.cancel_stream(stream_id);
                blocked.erase(stream_id);
                break;
            case 3:
                (void)decoder.take_decoder_stream_data();
                break;
        }
        if (decoder.blocked_stream_count() > kMaxBlockedStreams) std::abort();
        for (uint64_t id : decoder.take_unblocked_streams()) {
            auto it = blocked.find(id);
            if (it == blocked.end()) continue;
            auto s = decoder.decode(id, it->second);
            if (!s.ok()) return;
            check_section(*s);
            // Still blocked is possible: the Required Insert Count is decoded relative to the
            // inserts so far (RFC 9204 §4.5.1.1), and a peer that evicts entries a blocked
            // section needs makes the same bytes name a later count.
            if (s->status != DecodedFieldSection::Status::kBlocked) blocked.erase(it);
        }
    }
}

// Feeds `input` to a reader in chunks of `chunk` bytes until it reports an error.
template <class Reader>
void feed_in_chunks(Reader& reader, ByteSpan input, size_t chunk) {
    for (size_t pos = 0; pos < input.size(); pos += chunk) {
        const Bytes piece(input.begin() + pos, input.begin() + std::min(input.size(), pos + chunk));
        if (!reader.feed(piece).ok()) return;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const size_t chunk = 1 + (data[0] & 0x3f);
    const std::vector<uint8_t> rest(data + 1, data + size);
    const ByteSpan input(rest);

    fuzz_qpack(input, data[0] & 0x40);

    // A valid Huffman string has one encoding (RFC 7541 §5.2: padding is EOS's prefix).
    std::string decoded;
    if (huffman_decode(input, decoded)) {
        Bytes again;
        huffman_encode(decoded, again);
        if (again != rest) std::abort();
    }

    FrameParser parser(1024);
    feed_in_chunks(parser, input, chunk);
    (void)parser.finish();
    for (Perspective local : {Perspective::kClient, Perspective::kServer}) {
        ControlStreamReader control(local);
        feed_in_chunks(control, input, chunk);
        for (auto kind : {RequestStreamReader::Kind::kRequest, RequestStreamReader::Kind::kPush}) {
            RequestStreamReader request(local, kind, 1024);
            feed_in_chunks(request, input, chunk);
            (void)request.finish();
        }
    }
    return 0;
}
