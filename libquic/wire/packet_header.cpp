#include "wire/packet_header.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace quic {

namespace {

// First-byte bits, RFC 9000 §17.2 and §17.3.1.
constexpr uint8_t kHeaderFormBit = 0x80;
constexpr uint8_t kFixedBit = 0x40;
constexpr uint8_t kLongTypeMask = 0x30;
constexpr int kLongTypeShift = 4;
constexpr uint8_t kSpinBit = 0x20;
constexpr uint8_t kKeyPhaseBit = 0x04;

// RFC 9001 §5.8: every Retry packet ends in a 16-byte Retry Integrity Tag (the same value as
// crypto/retry_integrity.h's kRetryIntegrityTagLength; wire/ does not include crypto/).
constexpr size_t kRetryTagLength = 16;

// Bad headers drop the packet (see packet_header.h); PROTOCOL_VIOLATION only carries the reason.
Error drop(std::string why) {
    return Error::transport(TransportErrorCode::kProtocolViolation, std::move(why));
}

std::string hex32(uint32_t v) {
    char buf[11];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

// Reads an 8-bit length and that many bytes (RFC 8999 §5.1), up to max_length.
bool read_cid(ByteReader& r, size_t max_length, ByteSpan& out, std::string& why, const char* name) {
    uint8_t len;
    if (!r.read_u8(len)) {
        why = std::string("truncated ") + name + " length";
        return false;
    }
    if (len > max_length) {
        why = std::string(name) + " length " + std::to_string(len) + " exceeds " +
              std::to_string(max_length);
        return false;
    }
    if (!r.read_bytes(len, out)) {
        why = std::string("truncated ") + name;
        return false;
    }
    return true;
}

Result<PacketHeader> parse_version_negotiation(ByteReader& r, ByteSpan packet, uint8_t first) {
    PacketHeader h;
    h.type = PacketType::kVersionNegotiation;
    h.long_header = true;
    h.version = kVersionNegotiationVersion;
    h.first_byte = first;  // RFC 9000 §17.2.1: the other 7 bits are unused, ignored on receipt
    std::string why;
    ByteSpan dcid, scid;
    // The CIDs echo the ones a client (us) sent, which are never longer than 20 bytes.
    if (!read_cid(r, kMaxConnectionIdLength, dcid, why, "DCID") ||
        !read_cid(r, kMaxConnectionIdLength, scid, why, "SCID")) {
        return drop("Version Negotiation: " + why);
    }
    h.dcid = ConnectionId(dcid);
    h.scid = ConnectionId(scid);
    // RFC 8999 §6: "An endpoint MUST ignore a packet that contains no Supported Version fields
    // or contains a truncated Supported Version value."
    if (r.empty()) return drop("Version Negotiation without Supported Version fields");
    if (r.remaining() % 4 != 0) return drop("Version Negotiation with a truncated version");
    h.supported_versions_raw = r.rest();
    const size_t count = r.remaining() / 4;
    h.supported_versions.reserve(std::min(count, kMaxVersionNegotiationVersions));
    for (size_t i = 0; i < count; ++i) {
        uint32_t v = 0;
        r.read_u32(v);
        if (h.supported_versions.size() < kMaxVersionNegotiationVersions)
            h.supported_versions.push_back(v);
        else
            ++h.supported_versions_omitted;
    }
    h.packet_size = packet.size();  // §17.2.1: it "consumes an entire UDP datagram"
    return h;
}

}  // namespace

uint8_t long_header_type_bits(Version version, PacketType type) {
    const bool v2 = version == kVersion2;
    switch (type) {
        case PacketType::kInitial:
            return v2 ? 0b01 : 0b00;
        case PacketType::kZeroRtt:
            return v2 ? 0b10 : 0b01;
        case PacketType::kHandshake:
            return v2 ? 0b11 : 0b10;
        case PacketType::kRetry:
            return v2 ? 0b00 : 0b11;
        case PacketType::kVersionNegotiation:
        case PacketType::kOneRtt:
            break;
    }
    return 0;
}

std::optional<PacketType> packet_type_from_bits(Version version, uint8_t bits) {
    if (bits > 3) return std::nullopt;
    // RFC 9369 §3.2 rotates v1's codepoints by one: v2 bits = (v1 bits + 1) mod 4.
    if (version == kVersion2) bits = (bits + 3) & 3;
    static constexpr PacketType kV1[4] = {PacketType::kInitial, PacketType::kZeroRtt,
                                          PacketType::kHandshake, PacketType::kRetry};
    return kV1[bits];
}

Result<InvariantHeader> parse_invariant_header(ByteSpan datagram, size_t short_header_dcid_length) {
    ByteReader r(datagram);
    InvariantHeader h;
    if (!r.read_u8(h.first_byte)) return drop("empty datagram");
    h.long_header = (h.first_byte & kHeaderFormBit) != 0;
    if (!h.long_header) {
        // RFC 8999 §5.2: the DCID follows the first byte; its length is ours to know.
        if (!r.read_bytes(short_header_dcid_length, h.dcid))
            return drop("short header: truncated DCID");
        return h;
    }
    // RFC 8999 §5.1.
    uint32_t version;
    if (!r.read_u32(version)) return drop("long header: truncated version");
    h.version = version;
    std::string why;
    if (!read_cid(r, kMaxInvariantConnectionIdLength, h.dcid, why, "DCID") ||
        !read_cid(r, kMaxInvariantConnectionIdLength, h.scid, why, "SCID")) {
        return drop("long header: " + why);
    }
    return h;
}

Result<PacketHeader> parse_packet_header(ByteSpan packet, size_t short_header_dcid_length,
                                         bool allow_fixed_bit_zero) {
    ByteReader r(packet);
    uint8_t first;
    if (!r.read_u8(first)) return drop("empty packet");

    if (!(first & kHeaderFormBit)) {
        // RFC 9000 §17.3.1, 1-RTT packet.
        if (!(first & kFixedBit) && !allow_fixed_bit_zero) return drop("short header: fixed bit 0");
        if (short_header_dcid_length > kMaxConnectionIdLength)
            return drop("short header: configured DCID length exceeds 20");
        PacketHeader h;
        h.type = PacketType::kOneRtt;
        h.first_byte = first;
        ByteSpan dcid;
        if (!r.read_bytes(short_header_dcid_length, dcid))
            return drop("short header: truncated DCID");
        h.dcid = ConnectionId(dcid);
        h.pn_offset = r.position();
        if (r.remaining() < kMinPacketNumberAndPayloadLength)
            return drop("short header: too short for the header protection sample");
        h.packet_size = packet.size();  // §12.2: a short header packet ends the datagram
        return h;
    }

    uint32_t version;
    if (!r.read_u32(version)) return drop("long header: truncated version");
    // RFC 9000 §17.2.1: identified by version 0; its first byte's low bits carry nothing.
    if (version == kVersionNegotiationVersion) return parse_version_negotiation(r, packet, first);
    // Other versions may lay out everything after the CIDs differently (RFC 8999 §5.1).
    if (!is_supported_version(version)) return drop("unsupported version " + hex32(version));
    // RFC 9000 §17.2: "Packets containing a zero value for this bit are not valid packets in
    // this version and MUST be discarded" (RFC 9287 lets a peer grease it once negotiated).
    if (!(first & kFixedBit) && !allow_fixed_bit_zero) return drop("long header: fixed bit 0");

    PacketHeader h;
    h.long_header = true;
    h.version = version;
    h.first_byte = first;
    h.type = *packet_type_from_bits(version, (first & kLongTypeMask) >> kLongTypeShift);
    std::string why;
    ByteSpan dcid, scid;
    // RFC 9000 §17.2: a v1 (and v2) CID length above 20 "MUST drop the packet".
    if (!read_cid(r, kMaxConnectionIdLength, dcid, why, "DCID") ||
        !read_cid(r, kMaxConnectionIdLength, scid, why, "SCID")) {
        return drop(std::string(packet_type_name(h.type)) + ": " + why);
    }
    h.dcid = ConnectionId(dcid);
    h.scid = ConnectionId(scid);

    if (h.type == PacketType::kRetry) {
        // RFC 9000 §17.2.5: the token is whatever precedes the 16-byte integrity tag.
        if (r.remaining() < kRetryTagLength) return drop("retry: truncated integrity tag");
        r.read_bytes(r.remaining() - kRetryTagLength, h.retry_token);
        r.read_bytes(kRetryTagLength, h.retry_integrity_tag);
        // §17.2.5.2: "A client MUST discard a Retry packet with a zero-length Retry Token field."
        if (h.retry_token.empty()) return drop("retry: empty token");
        h.packet_size = packet.size();
        return h;
    }

    const char* name = packet_type_name(h.type);
    if (h.type == PacketType::kInitial) {
        // RFC 9000 §17.2.2.
        uint64_t token_length;
        if (!r.read_varint(token_length))
            return drop(std::string(name) + ": truncated token length");
        if (token_length > r.remaining()) return drop(std::string(name) + ": truncated token");
        r.read_bytes(static_cast<size_t>(token_length), h.token);
    }
    // RFC 9000 §17.2: Length covers the packet number and the payload.
    if (!r.read_varint(h.length)) return drop(std::string(name) + ": truncated Length");
    if (h.length > r.remaining())
        return drop(std::string(name) + ": Length " + std::to_string(h.length) + " exceeds the " +
                    std::to_string(r.remaining()) + " remaining bytes");
    // RFC 9001 §5.4.2: such a packet cannot contain the header protection sample.
    if (h.length < kMinPacketNumberAndPayloadLength)
        return drop(std::string(name) + ": Length " + std::to_string(h.length) +
                    " too short for the header protection sample");
    h.pn_offset = r.position();
    h.packet_size = h.pn_offset + static_cast<size_t>(h.length);
    return h;
}

SplitDatagram split_coalesced_packets(ByteSpan datagram, size_t short_header_dcid_length,
                                      bool allow_fixed_bit_zero) {
    SplitDatagram out;
    size_t offset = 0;
    while (offset < datagram.size()) {
        if (out.packets.size() + out.dcid_mismatches >= kMaxCoalescedPackets) {
            out.drop_reason =
                "more than " + std::to_string(kMaxCoalescedPackets) + " coalesced packets";
            break;
        }
        ByteSpan rest = datagram.subspan(offset);
        auto h = parse_packet_header(rest, short_header_dcid_length, allow_fixed_bit_zero);
        if (!h) {
            out.drop_reason = h.error().reason;
            break;
        }
        const size_t size = h->packet_size;
        offset += size;
        // §12.2: "Receivers SHOULD ignore any subsequent packets with a different Destination
        // Connection ID than the first packet in the datagram."
        if (!out.packets.empty() && !(h->dcid == out.packets.front().header.dcid)) {
            ++out.dcid_mismatches;
            continue;
        }
        out.packets.push_back(CoalescedPacket{rest.first(size), std::move(h).value()});
    }
    out.dropped_bytes = datagram.size() - offset;
    return out;
}

bool write_long_header(ByteWriter& w, const LongHeaderFields& f, size_t payload_length_with_tag,
                       size_t* pn_offset_out) {
    const bool has_pn = f.type == PacketType::kInitial || f.type == PacketType::kZeroRtt ||
                        f.type == PacketType::kHandshake;
    if (!has_pn || f.version == kVersionNegotiationVersion) return false;
    if (f.pn_length < kMinPacketNumberLength || f.pn_length > kMaxPacketNumberLength) return false;
    if (f.type != PacketType::kInitial && !f.token.empty()) return false;
    const uint64_t length = uint64_t{f.pn_length} + payload_length_with_tag;
    if (f.length_field_size != 0 && varint_size(length) > f.length_field_size) return false;

    const size_t start = w.size();
    // RFC 9000 §17.2: form 1, fixed 1, type, reserved bits 0, packet number length - 1.
    w.write_u8(static_cast<uint8_t>(kHeaderFormBit | kFixedBit |
                                    (long_header_type_bits(f.version, f.type) << kLongTypeShift) |
                                    (f.pn_length - 1)));
    w.write_u32(f.version);
    w.write_u8(static_cast<uint8_t>(f.dcid.size())).write_bytes(f.dcid.bytes());
    w.write_u8(static_cast<uint8_t>(f.scid.size())).write_bytes(f.scid.bytes());
    if (f.type == PacketType::kInitial) w.write_varint(f.token.size()).write_bytes(f.token);
    if (f.length_field_size == 0)
        w.write_varint(length);
    else
        w.write_varint_with_length(length, f.length_field_size);
    const size_t pn_offset = w.size() - start;
    if (!write_truncated_packet_number(w, f.truncated_pn, f.pn_length) || !w.ok()) return false;
    if (pn_offset_out) *pn_offset_out = pn_offset;
    return true;
}

bool patch_long_header_length(MutableByteSpan packet, size_t pn_offset, size_t length_field_size,
                              uint64_t length) {
    if (length_field_size == 0 || pn_offset < length_field_size || pn_offset > packet.size())
        return false;
    ByteWriter w(packet.subspan(pn_offset - length_field_size, length_field_size));
    return w.write_varint_with_length(length, length_field_size).ok();
}

bool write_short_header(ByteWriter& w, const ConnectionId& dcid, bool key_phase, bool spin_bit,
                        size_t pn_length, uint64_t truncated_pn, size_t* pn_offset_out) {
    if (pn_length < kMinPacketNumberLength || pn_length > kMaxPacketNumberLength) return false;
    const size_t start = w.size();
    // RFC 9000 §17.3.1: form 0, fixed 1, spin, reserved bits 0, key phase, pn length - 1.
    w.write_u8(static_cast<uint8_t>(kFixedBit | (spin_bit ? kSpinBit : 0) |
                                    (key_phase ? kKeyPhaseBit : 0) | (pn_length - 1)));
    w.write_bytes(dcid.bytes());
    const size_t pn_offset = w.size() - start;
    if (!write_truncated_packet_number(w, truncated_pn, pn_length) || !w.ok()) return false;
    if (pn_offset_out) *pn_offset_out = pn_offset;
    return true;
}

Bytes build_retry_without_tag(Version version, const ConnectionId& dcid, const ConnectionId& scid,
                              ByteSpan token, uint8_t random_low_bits) {
    if (token.empty() || version == kVersionNegotiationVersion) return {};
    // RFC 9000 §17.2.5: 1 + 4 + 1 + dcid + 1 + scid + token (+ the tag, appended by the caller).
    Bytes out(7 + dcid.size() + scid.size() + token.size());
    ByteWriter w(out);
    w.write_u8(static_cast<uint8_t>(
        kHeaderFormBit | kFixedBit |
        (long_header_type_bits(version, PacketType::kRetry) << kLongTypeShift) |
        (random_low_bits & 0x0f)));
    w.write_u32(version);
    w.write_u8(static_cast<uint8_t>(dcid.size())).write_bytes(dcid.bytes());
    w.write_u8(static_cast<uint8_t>(scid.size())).write_bytes(scid.bytes());
    w.write_bytes(token);
    return out;
}

}  // namespace quic
