#include "wire/version_negotiation.h"

namespace quic {

Bytes build_version_negotiation(ByteSpan dcid, ByteSpan scid, std::span<const Version> supported,
                                uint8_t random_bits) {
    if (dcid.size() > kMaxInvariantConnectionIdLength ||
        scid.size() > kMaxInvariantConnectionIdLength || supported.empty()) {
        return {};
    }
    // RFC 9000 §17.2.1 layout: first byte, Version 0, DCID, SCID, versions.
    Bytes out(1 + 4 + 1 + dcid.size() + 1 + scid.size() + 4 * supported.size());
    ByteWriter w(out);
    w.write_u8(static_cast<uint8_t>(0xc0 | (random_bits & 0x3f)));
    w.write_u32(kVersionNegotiationVersion);
    w.write_u8(static_cast<uint8_t>(dcid.size())).write_bytes(dcid);
    w.write_u8(static_cast<uint8_t>(scid.size())).write_bytes(scid);
    for (Version v : supported) w.write_u32(v);
    return out;
}

Status version_negotiation_is_valid(const PacketHeader& vn, Version chosen,
                                    const ConnectionId& sent_dcid, const ConnectionId& sent_scid) {
    auto drop = [](const char* why) {
        return Error::transport(TransportErrorCode::kProtocolViolation, why);
    };
    if (vn.type != PacketType::kVersionNegotiation) return drop("not a Version Negotiation packet");
    if (!(vn.dcid == sent_scid) || !(vn.scid == sent_dcid))
        return drop("Version Negotiation does not echo our connection IDs");
    // Scan the raw list: supported_versions may be capped.
    ByteReader r(vn.supported_versions_raw);
    uint32_t v;
    while (r.read_u32(v)) {
        if (v == chosen) return drop("Version Negotiation lists the version we chose");
    }
    return {};
}

}  // namespace quic
