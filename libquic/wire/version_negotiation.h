// Version Negotiation packets: building the server's reply (RFC 9000 §6.1, §17.2.1, RFC 8999
// §6) and the client's checks on one it receives (RFC 9000 §6.2). Parsing is
// parse_packet_header's (wire/packet_header.h).
#pragma once

#include <cstdint>
#include <span>

#include "quic/bytes.h"
#include "quic/connection_id.h"
#include "quic/result.h"
#include "quic/version.h"
#include "wire/packet_header.h"

namespace quic {

// Builds a Version Negotiation packet. The caller passes the CIDs already swapped: `dcid` is
// the SCID of the packet that triggered it and `scid` that packet's DCID (RFC 8999 §6: "An
// endpoint MUST include the value from the Source Connection ID field of the packet it
// receives in the Destination Connection ID field"), both straight from parse_invariant_header
// (so 0..255 bytes each, and empty ones are fine: the interop runner probes with empty CIDs).
// The first byte is 0x80 | 0x40 | (random_bits & 0x3f): the 7 bits after the form bit are
// unused, but RFC 9000 §17.2.1 says servers SHOULD set 0x40 to look like the fixed bit.
// Returns an empty Bytes when a CID is longer than 255 bytes (not encodable) or `supported` is
// empty (a client must ignore such a packet). To grease, include reserved_version(...) in
// `supported` (RFC 9000 §6.3).
//
// The caller decides whether to answer at all: only long headers with an unsupported version,
// in datagrams of at least 1200 bytes (RFC 9000 §5.2.2, §14.1), never a Version Negotiation
// packet (§6.1), and at most one per datagram (§17.2.1).
Bytes build_version_negotiation(ByteSpan dcid, ByteSpan scid, std::span<const Version> supported,
                                uint8_t random_bits);

// A reserved version 0x?a?a?a?a (RFC 9000 §15) whose high nibbles come from random_bits.
constexpr Version reserved_version(uint32_t random_bits) {
    return (random_bits & 0xf0f0f0f0u) | 0x0a0a0a0au;
}

// RFC 9000 §6.2 and RFC 8999 §6 checks a client applies to a parsed Version Negotiation packet
// (vn.type must be kVersionNegotiation). `chosen` is the version of our Initial; `sent_dcid`
// and `sent_scid` the CIDs it carried. Fails, with the reason, when:
// - the packet does not echo our CIDs (RFC 8999 §6: its DCID must be our SCID and its SCID
//   our DCID; otherwise it was not sent in answer to our packet);
// - it lists `chosen` (§6.2: "A client MUST discard a Version Negotiation packet that lists
//   the QUIC version selected by the client"), checked over every listed version.
// The other §6.2 rule (discard once any other packet was processed) is connection state and
// the caller's. A valid result means the client abandons the attempt (or, with RFC 9368,
// picks another version from vn.supported_versions).
Status version_negotiation_is_valid(const PacketHeader& vn, Version chosen,
                                    const ConnectionId& sent_dcid, const ConnectionId& sent_scid);

}  // namespace quic
