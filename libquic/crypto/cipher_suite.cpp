#include "crypto/cipher_suite.h"

#include <openssl/aead.h>
#include <openssl/digest.h>

namespace quic {

const EVP_MD* cipher_suite_hash(CipherSuite s) {
    return s == CipherSuite::kAes256GcmSha384 ? EVP_sha384() : EVP_sha256();
}

const EVP_AEAD* cipher_suite_aead(CipherSuite s) {
    switch (s) {
        case CipherSuite::kAes128GcmSha256:
            return EVP_aead_aes_128_gcm();
        case CipherSuite::kAes256GcmSha384:
            return EVP_aead_aes_256_gcm();
        case CipherSuite::kChaCha20Poly1305Sha256:
            return EVP_aead_chacha20_poly1305();
    }
    return nullptr;
}

const char* cipher_suite_name(CipherSuite s) {
    switch (s) {
        case CipherSuite::kAes128GcmSha256:
            return "TLS_AES_128_GCM_SHA256";
        case CipherSuite::kAes256GcmSha384:
            return "TLS_AES_256_GCM_SHA384";
        case CipherSuite::kChaCha20Poly1305Sha256:
            return "TLS_CHACHA20_POLY1305_SHA256";
    }
    return "unknown";
}

}  // namespace quic
