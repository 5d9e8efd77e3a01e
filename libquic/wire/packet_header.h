// QUIC packet headers: the version-independent invariants (RFC 8999 §5), the QUIC v1 and v2
// long and short headers (RFC 9000 §17, RFC 9369 §3.2), coalesced packets (RFC 9000 §12.2),
// and writing headers and Retry packets.
//
// Parsing here reads only what is visible before header protection is removed (RFC 9001
// §5.4): the first byte's low bits and the packet number stay protected. A parse error means
// the packet is DROPPED, never a connection error (RFC 9000 §5.2, §12.2, §17.2): the Error's
// code is PROTOCOL_VIOLATION only as a carrier, and its reason says why, for the trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "quic/bytes.h"
#include "quic/connection_id.h"
#include "quic/packet_type.h"
#include "quic/result.h"
#include "quic/version.h"
#include "wire/packet_number.h"

namespace quic {

// RFC 8999 §5.1: in a version-independent long header each connection ID is 0..255 bytes.
inline constexpr size_t kMaxInvariantConnectionIdLength = 255;

// RFC 9001 §5.4.2: header protection samples 16 bytes starting 4 bytes after the start of the
// Packet Number field, and "An endpoint MUST discard packets that are not long enough to
// contain a complete sample". So the packet number plus payload of any packet we can process
// is at least 4 + 16 = 20 bytes (for short headers with an empty DCID this is RFC 9000 §10.3's
// "short header packets that are smaller than 21 bytes are never valid"). (16 is
// crypto/cipher_suite.h's kHeaderProtectionSampleLength; wire/ does not include crypto/.)
inline constexpr size_t kMinPacketNumberAndPayloadLength = kMaxPacketNumberLength + 16;

// Supported versions kept per parsed Version Negotiation packet. A client only needs to know
// whether its own choice is listed (checked against the raw list, not this copy) and which
// versions it could fall back to; RFC 9000 defines two, so 64 leaves ample room for future
// versions and greasing while a 64 KB datagram could otherwise make us store ~16000.
inline constexpr size_t kMaxVersionNegotiationVersions = 64;

// Packets accepted from one datagram. An honest sender coalesces at most one packet per
// encryption level (Initial, 0-RTT, Handshake, 1-RTT: RFC 9000 §12.2 asks for frames to be
// combined rather than packets at the same level), so 4, occasionally a few more; the smallest
// processable long-header packet is 28 bytes (7 fixed header bytes + 1-byte Length + 20), so a
// 1500-byte datagram could carry ~53, each costing a header-protection and AEAD attempt. 16
// leaves room for unusual but legitimate senders and bounds that work.
inline constexpr size_t kMaxCoalescedPackets = 16;

// RFC 9000 §17.2 Long Packet Type bits (the 0x30 bits of the first byte, shifted down) for
// Initial, 0-RTT, Handshake and Retry. kVersion2 uses RFC 9369 §3.2's values (Initial 0b01,
// 0-RTT 0b10, Handshake 0b11, Retry 0b00); every other version uses v1's (0, 1, 2, 3).
// Precondition: type is one of those four (other types return 0).
uint8_t long_header_type_bits(Version version, PacketType type);
// The inverse: nullopt when bits is not a 2-bit value.
std::optional<PacketType> packet_type_from_bits(Version version, uint8_t bits);

// What RFC 8999 §5 guarantees about the first packet of any datagram, for any version: enough
// to route it by connection ID and to decide on Version Negotiation (RFC 9000 §5.2.2, §6.1).
// The spans point into the datagram.
struct InvariantHeader {
    bool long_header = false;
    uint8_t first_byte = 0;
    Version version = 0;  // long headers only
    ByteSpan dcid;        // up to 255 bytes in a long header (RFC 8999 §5.1)
    ByteSpan scid;        // long headers only
};

// Reads the invariant fields. short_header_dcid_length is the length of the connection IDs we
// issue (short headers do not encode it, RFC 8999 §5.2). Fails only when the datagram is too
// short for those fields; nothing version-specific (fixed bit, CID limits) is checked, so an
// unknown version with 255-byte CIDs still yields what a Version Negotiation reply needs.
Result<InvariantHeader> parse_invariant_header(ByteSpan datagram, size_t short_header_dcid_length);

// A packet header as far as it can be read before header protection is removed.
struct PacketHeader {
    PacketType type = PacketType::kOneRtt;
    bool long_header = false;
    // 0 for Version Negotiation. Short headers carry no version: it is left 0 and the
    // connection's version applies.
    Version version = 0;
    // Still protected: the reserved bits, key phase and packet number length are masked
    // (RFC 9001 §5.4.1). Only the form, fixed, type and spin bits can be trusted here.
    uint8_t first_byte = 0;
    ConnectionId dcid;
    ConnectionId scid;  // long headers only
    // Initial only (RFC 9000 §17.2.2); points into the packet. A client discards a server
    // Initial whose token is not empty (§17.2.2): that depends on our role, so it is the
    // caller's check.
    ByteSpan token;
    // The Length field (packet number + payload bytes) of Initial, 0-RTT and Handshake packets.
    uint64_t length = 0;
    // Offset of the Packet Number field in this packet; 0 for Retry and Version Negotiation,
    // which have none.
    size_t pn_offset = 0;
    // Bytes of this packet within the datagram: pn_offset + length for packets with a Length
    // field; the rest of the datagram for short headers, Retry and Version Negotiation
    // (RFC 9000 §12.2: those cannot be followed by another packet).
    size_t packet_size = 0;
    // Retry only (RFC 9000 §17.2.5): the token, and the last 16 bytes of the packet.
    ByteSpan retry_token;
    ByteSpan retry_integrity_tag;
    // Version Negotiation only (RFC 9000 §17.2.1): the first kMaxVersionNegotiationVersions
    // versions, how many more were listed, and the whole list as sent (4 bytes each), so a
    // check like version_negotiation_is_valid sees every entry.
    std::vector<Version> supported_versions;
    size_t supported_versions_omitted = 0;
    ByteSpan supported_versions_raw;
};

// Parses the packet at the start of `packet` (a datagram, or what is left of it after earlier
// coalesced packets). short_header_dcid_length as for parse_invariant_header.
//
// Errors (the caller drops the packet, and for a datagram's first packet checks the datagram
// for a Stateless Reset, RFC 9000 §10.3.1): truncated fields; a long header version that is
// neither v1 nor v2 (use parse_invariant_header to answer those with Version Negotiation);
// a CID longer than 20 bytes (RFC 9000 §17.2); a fixed bit of 0 (RFC 9000 §17.2, §17.3.1)
// unless allow_fixed_bit_zero (the peer sent grease_quic_bit, RFC 9287); a Length past the
// end of the datagram, or too short for the header protection sample (RFC 9001 §5.4.2), and
// the same minimum for short headers; a Retry without room for its tag or with an empty token
// (RFC 9000 §17.2.5.2); a Version Negotiation packet without versions, with a truncated one
// (RFC 8999 §6), or with a CID longer than 20 bytes (it must echo ours, which are never longer).
Result<PacketHeader> parse_packet_header(ByteSpan packet, size_t short_header_dcid_length,
                                         bool allow_fixed_bit_zero = false);

// One packet of a datagram and its parsed header.
struct CoalescedPacket {
    ByteSpan bytes;  // exactly header.packet_size bytes
    PacketHeader header;
};

struct SplitDatagram {
    std::vector<CoalescedPacket> packets;
    // Packets after the first whose DCID differs from the first packet's, skipped as RFC 9000
    // §12.2 says receivers SHOULD.
    size_t dcid_mismatches = 0;
    // Bytes at the end of the datagram that were not parsed into packets, and why.
    size_t dropped_bytes = 0;
    std::string drop_reason;
};

// RFC 9000 §12.2: splits a datagram into its coalesced packets. Stops at the first packet that
// does not parse (the rest of the datagram is dropped: without a trustworthy Length there is no
// next packet boundary) and after kMaxCoalescedPackets packets. A packet without a Length
// (short header, Retry, Version Negotiation) takes the rest of the datagram. An empty result
// with a drop_reason means the first packet did not parse.
SplitDatagram split_coalesced_packets(ByteSpan datagram, size_t short_header_dcid_length,
                                      bool allow_fixed_bit_zero = false);

// What a long header packet with a packet number (Initial, 0-RTT, Handshake) carries.
struct LongHeaderFields {
    PacketType type = PacketType::kInitial;
    Version version = kVersion1;
    ConnectionId dcid;
    ConnectionId scid;
    ByteSpan token;             // Initial only; must be empty for other types
    size_t pn_length = 1;       // 1..4 (packet_number_length)
    uint64_t truncated_pn = 0;  // only the low pn_length bytes are written
    // Bytes used for the Length varint: 0 for the shortest encoding, or 1, 2, 4 or 8 to reserve
    // a fixed size, so a packet builder can write the header before it knows the payload size
    // and fill it in later with patch_long_header_length.
    size_t length_field_size = 0;
};

// Writes a long header up to and including the Packet Number field (RFC 9000 §17.2), with the
// Length field set to pn_length + payload_length_with_tag. Reserved bits are 0 (§17.2: they
// are set before header protection is applied). *pn_offset_out (if given) receives the offset
// of the Packet Number field from the start of this header. Returns false on invalid fields or
// when the writer is out of space; the writer may then hold a partial header, so the caller
// abandons the packet.
bool write_long_header(ByteWriter& w, const LongHeaderFields& fields,
                       size_t payload_length_with_tag, size_t* pn_offset_out);

// Rewrites the Length field of a long header written with a fixed length_field_size, once the
// payload size is known. `packet` starts at the header; pn_offset is what write_long_header
// returned; length is pn_length + payload_length_with_tag. False when it does not fit.
bool patch_long_header_length(MutableByteSpan packet, size_t pn_offset, size_t length_field_size,
                              uint64_t length);

// Writes a 1-RTT short header (RFC 9000 §17.3.1) up to and including the Packet Number field:
// fixed bit 1, reserved bits 0, the spin and key phase bits as given. *pn_offset_out as above.
bool write_short_header(ByteWriter& w, const ConnectionId& dcid, bool key_phase, bool spin_bit,
                        size_t pn_length, uint64_t truncated_pn, size_t* pn_offset_out);

// RFC 9000 §17.2.5: a Retry packet without its Retry Integrity Tag, which libquic/crypto
// computes over this and the original DCID (RFC 9001 §5.8) and the caller appends. dcid is
// the client's SCID; scid is the server's new CID, which must differ from the client's
// original DCID (§17.2.5.1, the caller's to ensure). The low 4 bits of the first byte are
// unused and set from random_low_bits. Returns an empty Bytes when the token is empty (a client
// must discard such a Retry, §17.2.5.2).
Bytes build_retry_without_tag(Version version, const ConnectionId& dcid, const ConnectionId& scid,
                              ByteSpan token, uint8_t random_low_bits);

}  // namespace quic
