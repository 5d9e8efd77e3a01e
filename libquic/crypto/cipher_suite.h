// The TLS 1.3 cipher suites QUIC can use and what packet protection needs to know about each
// (RFC 9001 §5.3, §5.4, §6.6). TLS_AES_128_CCM_8_SHA256 is absent: RFC 9001 §5.3 forbids it,
// and TLS_AES_128_CCM_SHA256 is absent because BoringSSL does not offer it for TLS 1.3.
#pragma once

#include <openssl/base.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace quic {

enum class CipherSuite : uint8_t {
    kAes128GcmSha256,        // TLS_AES_128_GCM_SHA256 (0x1301)
    kAes256GcmSha384,        // TLS_AES_256_GCM_SHA384 (0x1302)
    kChaCha20Poly1305Sha256  // TLS_CHACHA20_POLY1305_SHA256 (0x1303)
};

// RFC 9001 §5.3: all these AEADs take a 12-byte nonce ("quic iv" is derived at that length)
// and expand the payload by a 16-byte tag.
inline constexpr size_t kAeadIvLength = 12;
inline constexpr size_t kAeadTagLength = 16;
// RFC 9001 §5.4.2: every header protection scheme here samples 16 bytes of ciphertext,
// starting 4 bytes after the start of the Packet Number field.
inline constexpr size_t kHeaderProtectionSampleLength = 16;
inline constexpr size_t kHeaderProtectionSampleOffset = 4;
// The largest key length of any suite (AES-256, ChaCha20), for stack buffers.
inline constexpr size_t kMaxAeadKeyLength = 32;

// AEAD usage limits, RFC 9001 §6.6 (counted per key for confidentiality, per connection across
// all keys for integrity). The endpoint must update keys before exceeding the confidentiality
// limit and close with AEAD_LIMIT_REACHED once the integrity limit is exceeded.
inline constexpr uint64_t kAesGcmConfidentialityLimit = uint64_t{1} << 23;
inline constexpr uint64_t kAesGcmIntegrityLimit = uint64_t{1} << 52;
// "greater than the number of possible packets (2^62) and so can be disregarded": 2^62 is
// one more than the largest packet number, so a counter can never exceed it.
inline constexpr uint64_t kChaCha20ConfidentialityLimit = uint64_t{1} << 62;
inline constexpr uint64_t kChaCha20IntegrityLimit = uint64_t{1} << 36;

// "quic key" length: the AEAD key size.
constexpr size_t aead_key_length(CipherSuite s) {
    return s == CipherSuite::kAes128GcmSha256 ? 16 : 32;
}
// "quic hp" length: AES-128 for AES-128-GCM, AES-256 for AES-256-GCM (§5.4.3), a ChaCha20
// key for ChaCha20-Poly1305 (§5.4.4).
constexpr size_t header_protection_key_length(CipherSuite s) {
    return aead_key_length(s);
}
// The hash's output length: the length of traffic secrets and of "quic ku" (§6.1).
constexpr size_t secret_length(CipherSuite s) {
    return s == CipherSuite::kAes256GcmSha384 ? 48 : 32;
}
constexpr uint64_t confidentiality_limit(CipherSuite s) {
    return s == CipherSuite::kChaCha20Poly1305Sha256 ? kChaCha20ConfidentialityLimit
                                                     : kAesGcmConfidentialityLimit;
}
constexpr uint64_t integrity_limit(CipherSuite s) {
    return s == CipherSuite::kChaCha20Poly1305Sha256 ? kChaCha20IntegrityLimit
                                                     : kAesGcmIntegrityLimit;
}

// The TLS cipher suite id (RFC 8446 §B.4), as SSL_CIPHER_get_protocol_id returns it.
constexpr uint16_t tls_cipher_suite_id(CipherSuite s) {
    switch (s) {
        case CipherSuite::kAes128GcmSha256:
            return 0x1301;
        case CipherSuite::kAes256GcmSha384:
            return 0x1302;
        case CipherSuite::kChaCha20Poly1305Sha256:
            return 0x1303;
    }
    return 0;
}
// nullopt for any other suite: the TLS layer must not negotiate one (RFC 9001 §5.3).
constexpr std::optional<CipherSuite> cipher_suite_from_tls_id(uint16_t id) {
    switch (id) {
        case 0x1301:
            return CipherSuite::kAes128GcmSha256;
        case 0x1302:
            return CipherSuite::kAes256GcmSha384;
        case 0x1303:
            return CipherSuite::kChaCha20Poly1305Sha256;
        default:
            return std::nullopt;
    }
}

// The hash for HKDF (RFC 9001 §5.1): SHA-256 or SHA-384.
const EVP_MD* cipher_suite_hash(CipherSuite s);
// The packet protection AEAD (RFC 9001 §5.3).
const EVP_AEAD* cipher_suite_aead(CipherSuite s);
// "TLS_AES_128_GCM_SHA256", ... for logs and qlog.
const char* cipher_suite_name(CipherSuite s);

}  // namespace quic
