#include "endpoint/initial_packet.h"

#include <algorithm>

#include "quic/frame.h"
#include "quic/varint.h"
#include "wire/packet_number.h"

namespace quic {
namespace {

// RFC 9001 §5.4.2: the sample is 16 bytes starting 4 bytes after the packet number.
constexpr size_t kSampleReach = 4 + 16;
// Packet numbers of the Initials built here are small; 2 bytes is plenty (§17.1).
constexpr size_t kInitialPacketNumberLength = 2;

}  // namespace

std::optional<InitialKeys> open_client_initial(const PacketHeader& header, ByteSpan packet,
                                               Bytes& scratch) {
    if (header.type != PacketType::kInitial || header.pn_offset == 0) return std::nullopt;
    InitialKeys keys = make_initial_keys(header.version, header.dcid);
    if (!keys.client.valid() || !keys.server.valid()) return std::nullopt;
    scratch.assign(packet.begin(), packet.end());
    auto unprotected = remove_header_protection(scratch, header.pn_offset, *keys.client.header);
    if (!unprotected.ok()) return std::nullopt;
    // A client's first packets have small numbers and nothing was received before (§17.1).
    const uint64_t pn =
        decode_packet_number(std::nullopt, unprotected->truncated_pn, unprotected->pn_length * 8);
    if (!open_packet_payload(scratch, *unprotected, pn, *keys.client.packet)) return std::nullopt;
    return keys;
}

Bytes seal_initial(Version version, const ConnectionId& dcid, const ConnectionId& scid,
                   ByteSpan token, uint64_t packet_number, ByteSpan frames, size_t min_size,
                   DirectionalKeys& keys) {
    if (!keys.valid()) return {};
    const size_t tag = keys.packet->tag_length();
    LongHeaderFields h;
    h.type = PacketType::kInitial;
    h.version = version;
    h.dcid = dcid;
    h.scid = scid;
    h.token = token;
    h.pn_length = kInitialPacketNumberLength;
    h.truncated_pn = packet_number;
    // The Length field takes 2 bytes for any payload up to 16383 (and is written that way), so
    // the header size is known before the padding is.
    h.length_field_size = 2;
    const size_t header_size = 1 + 4 + 1 + dcid.size() + 1 + scid.size() +
                               varint_size(token.size()) + token.size() + 2 +
                               kInitialPacketNumberLength;
    size_t payload = frames.size();
    // §5.4.2: the sample reaches 4 + 16 bytes past the packet number's start.
    payload = std::max(payload + kInitialPacketNumberLength + tag, kSampleReach) -
              kInitialPacketNumberLength - tag;
    if (header_size + payload + tag < min_size) payload = min_size - header_size - tag;
    Bytes out(header_size + payload + tag);
    ByteWriter w(out);
    size_t pn_offset = 0;
    if (!write_long_header(w, h, payload + tag, &pn_offset)) return {};
    if (w.size() != header_size) return {};
    w.write_bytes(frames);
    while (w.size() < header_size + payload) w.write_u8(0x00);  // PADDING frames
    if (!w.ok()) return {};
    if (!protect_packet(out, pn_offset, kInitialPacketNumberLength, payload, packet_number,
                        *keys.packet, *keys.header))
        return {};
    return out;
}

Bytes build_initial_close(Version version, const ConnectionId& dcid, const ConnectionId& scid,
                          TransportErrorCode code, std::string_view reason,
                          DirectionalKeys& server_keys) {
    ConnectionCloseFrame close;
    close.application = false;
    close.error_code = static_cast<uint64_t>(code);
    close.reason = ByteSpan(reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
    Bytes frames(encoded_size(close));
    ByteWriter w(frames);
    if (!encode_frame(w, close) || !w.ok()) return {};
    return seal_initial(version, dcid, scid, {}, 0, frames, 0, server_keys);
}

}  // namespace quic
