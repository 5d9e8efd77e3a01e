// Packet protection keys from a traffic secret (RFC 9001 §5.1) and the key update chain
// (RFC 9001 §6.1), with the per-version labels of RFC 9369 §3.3.2.
#pragma once

#include <string_view>

#include "crypto/cipher_suite.h"
#include "quic/bytes.h"
#include "quic/version.h"

namespace quic {

// The HKDF-Expand-Label labels a QUIC version uses. RFC 9001 §5.1 and §6.1 for v1; RFC 9369
// §3.3.2 changes them for v2 so that v1 and v2 keys never coincide (RFC 9001 §9.6).
struct QuicLabels {
    std::string_view key;  // AEAD key
    std::string_view iv;   // AEAD IV
    std::string_view hp;   // header protection key
    std::string_view ku;   // next-generation secret (key update)
};

inline constexpr QuicLabels kQuicV1Labels{"quic key", "quic iv", "quic hp", "quic ku"};
inline constexpr QuicLabels kQuicV2Labels{"quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku"};

// Callers only derive keys for supported versions (is_supported_version); any version other
// than v2 gets v1's labels.
constexpr const QuicLabels& quic_labels(Version v) {
    return v == kVersion2 ? kQuicV2Labels : kQuicV1Labels;
}

struct PacketKeyMaterial {
    Bytes key;  // aead_key_length(suite) bytes
    Bytes iv;   // kAeadIvLength bytes
    Bytes hp;   // header_protection_key_length(suite) bytes
};

// RFC 9001 §5.1: key = HKDF-Expand-Label(secret, "quic key", "", key length), likewise "quic iv"
// (12 bytes) and "quic hp", with the suite's hash. All fields are empty if derivation fails
// (it cannot for secrets of the suite's hash length).
PacketKeyMaterial derive_packet_keys(CipherSuite suite, ByteSpan secret, Version version);

// RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length).
// The header protection key is not updated (§6.1, §5.4), so callers keep the old
// HeaderProtector and derive only key and iv from the new secret.
Bytes next_generation_secret(CipherSuite suite, ByteSpan secret, Version version);

}  // namespace quic
