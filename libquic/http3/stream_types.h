// Unidirectional stream types, RFC 9114 §6.2 and RFC 9204 §4.2: every unidirectional stream
// starts with its type as a varint (and a push stream then with its push ID, §6.2.2).
#pragma once

#include <cstdint>
#include <optional>

#include "http3/grease.h"
#include "http3/varint_reader.h"
#include "quic/bytes.h"

namespace quic::h3 {

enum class UniStreamType : uint64_t {
    kControl = 0x00,       // RFC 9114 §6.2.1
    kPush = 0x01,          // RFC 9114 §6.2.2
    kQpackEncoder = 0x02,  // RFC 9204 §4.2
    kQpackDecoder = 0x03,  // RFC 9204 §4.2
};

enum class UniStreamKind : uint8_t {
    kControl,
    kPush,
    kQpackEncoder,
    kQpackDecoder,
    kReserved,  // 0x1f * N + 0x21 (§6.2.3): no meaning, discard
    kUnknown,   // §6.2, §9: abort reading (H3_STREAM_CREATION_ERROR) or discard, never a
                // connection error
};

constexpr UniStreamKind classify_uni_stream_type(uint64_t type) {
    switch (type) {
        case 0x00:
            return UniStreamKind::kControl;
        case 0x01:
            return UniStreamKind::kPush;
        case 0x02:
            return UniStreamKind::kQpackEncoder;
        case 0x03:
            return UniStreamKind::kQpackDecoder;
        default:
            return is_grease_codepoint(type) ? UniStreamKind::kReserved : UniStreamKind::kUnknown;
    }
}

struct UniStreamHeader {
    UniStreamKind kind = UniStreamKind::kUnknown;
    uint64_t type = 0;
    std::optional<uint64_t> push_id;  // push streams only
};

// Reads the header of a unidirectional stream as its bytes arrive. Which side may open which
// type, and at most one control / encoder / decoder stream per peer (§6.2.1, RFC 9204 §4.2),
// are the session's checks: they need connection state. A stream closed before its header is
// complete is no error (§6.2: "MUST tolerate").
class UniStreamHeaderReader {
  public:
    // The header once complete; the bytes after it stay in `in` for the stream's own reader.
    // Once complete, later calls return the same header and consume nothing.
    std::optional<UniStreamHeader> next(ByteReader& in) {
        if (header_) return header_;
        if (!type_) {
            type_ = varint_.next(in);
            if (!type_) return std::nullopt;
        }
        UniStreamHeader h{classify_uni_stream_type(*type_), *type_, std::nullopt};
        if (h.kind == UniStreamKind::kPush) {
            h.push_id = varint_.next(in);
            if (!h.push_id) return std::nullopt;
        }
        header_ = h;
        return header_;
    }

  private:
    VarintReader varint_;
    std::optional<uint64_t> type_;
    std::optional<UniStreamHeader> header_;
};

// Appends a stream header: the type, and the push ID for a push stream.
inline void encode_uni_stream_header(Bytes& out, uint64_t type,
                                     std::optional<uint64_t> push_id = std::nullopt) {
    append_varint(out, type);
    if (push_id) append_varint(out, *push_id);
}

}  // namespace quic::h3
