// Initial secrets, RFC 9001 §5.2 (v1) and RFC 9369 §3.3.1 (v2): derived from the Destination
// Connection ID of the client's first Initial (or the Retry's Source Connection ID after a
// Retry), so anyone who sees the packet can derive them; they protect against off-path
// injection and middleboxes, not on-path attackers.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/cipher_suite.h"
#include "crypto/packet_protection.h"
#include "quic/bytes.h"
#include "quic/connection_id.h"
#include "quic/version.h"

namespace quic {

inline constexpr size_t kInitialSaltLength = 20;
// RFC 9001 §5.2.
inline constexpr std::array<uint8_t, kInitialSaltLength> kInitialSaltV1 = {
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
// RFC 9369 §3.3.1.
inline constexpr std::array<uint8_t, kInitialSaltLength> kInitialSaltV2 = {
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

// Initial packets always use AEAD_AES_128_GCM with SHA-256 and AES header protection
// (RFC 9001 §5.2, §5.4.1 "Prior to TLS selecting a cipher suite").
inline constexpr CipherSuite kInitialCipherSuite = CipherSuite::kAes128GcmSha256;

// v2's salt for kVersion2, v1's for any other version (callers derive keys only for
// supported versions).
ByteSpan initial_salt(Version version);

struct InitialSecrets {
    Bytes client;  // client_initial_secret: protects packets the client sends
    Bytes server;  // server_initial_secret: protects packets the server sends
};

// initial_secret = HKDF-Extract(initial_salt, client_dcid);
// client/server = HKDF-Expand-Label(initial_secret, "client in"/"server in", "", 32).
// The labels "client in" and "server in" are the same in v2 (RFC 9369 §3.3.2 changes only the
// "quic *" labels).
InitialSecrets derive_initial_secrets(Version version, const ConnectionId& client_dcid);

struct InitialKeys {
    DirectionalKeys client;  // the client seals with these, the server opens with them
    DirectionalKeys server;  // the server seals with these, the client opens with them
};

// Both directions' Initial protectors in one call.
InitialKeys make_initial_keys(Version version, const ConnectionId& client_dcid);

}  // namespace quic
