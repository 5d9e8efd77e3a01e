// The Retry Integrity Tag, RFC 9001 §5.8 (v1) and RFC 9369 §3.3.3 (v2): AES-128-GCM with a
// fixed key and nonce over the Retry Pseudo-Packet, so that only an entity that saw the
// client's Initial (and so its Destination Connection ID) can make a valid Retry.
#pragma once

#include <array>
#include <cstdint>

#include "quic/bytes.h"
#include "quic/connection_id.h"
#include "quic/version.h"

namespace quic {

inline constexpr size_t kRetryIntegrityTagLength = 16;
using RetryIntegrityTag = std::array<uint8_t, kRetryIntegrityTagLength>;

// RFC 9001 §5.8: derived with "quic key"/"quic iv" from
// 0xd9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e.
inline constexpr std::array<uint8_t, 16> kRetryIntegrityKeyV1 = {
    0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e};
inline constexpr std::array<uint8_t, 12> kRetryIntegrityNonceV1 = {
    0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb};
// RFC 9369 §3.3.3: derived with "quicv2 key"/"quicv2 iv" from
// 0xc4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f.
inline constexpr std::array<uint8_t, 16> kRetryIntegrityKeyV2 = {
    0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92};
inline constexpr std::array<uint8_t, 12> kRetryIntegrityNonceV2 = {
    0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a};

// The tag for a Retry packet (everything before the tag), as the server appends it. The
// version selects the key: v2's for kVersion2, v1's otherwise (the server only sends Retry
// packets in a supported version, RFC 9369 §4.1).
RetryIntegrityTag retry_integrity_tag(Version version, const ConnectionId& original_dcid,
                                      ByteSpan retry_packet_without_tag);

// The client's check of a received Retry packet (tag included), with a constant-time tag
// comparison. False for unsupported versions and for packets shorter than a tag; a client
// discards Retry packets that fail it (RFC 9000 §17.2.5.2).
bool verify_retry_integrity(Version version, const ConnectionId& original_dcid,
                            ByteSpan retry_packet_with_tag);

}  // namespace quic
