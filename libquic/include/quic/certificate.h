// Certificates and private keys for the TLS layer: loaded from PEM files, or made in memory
// (a self-signed certificate for `quiver server` with no --cert, and for tests).
#pragma once

#include <openssl/base.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "quic/result.h"

namespace quic {

enum class KeyType {
    kEcdsaP256,  // what the interop runner's certificates use (interop/README.md)
    kEd25519,    // fixed-length signatures: the simulator's traces then have fixed sizes
};

struct CertifiedKey {
    bssl::UniquePtr<EVP_PKEY> key;
    std::vector<bssl::UniquePtr<X509>> chain;  // leaf first

    CertifiedKey() = default;
    CertifiedKey(CertifiedKey&&) = default;
    CertifiedKey& operator=(CertifiedKey&&) = default;
    // Copies share the underlying key and certificates (BoringSSL reference counts them).
    CertifiedKey(const CertifiedKey& other) { *this = other; }
    CertifiedKey& operator=(const CertifiedKey& other);
};

// A self-signed certificate valid from one day ago for `valid_days`, with the given DNS names
// (and IP addresses, written as text: "127.0.0.1", "::1") as subjectAltNames; the first name
// is also the subject CN.
Result<CertifiedKey> make_self_signed(KeyType type, const std::vector<std::string>& names,
                                      int valid_days = 30);

// A certificate chain (leaf first) and a private key in PEM files.
Result<CertifiedKey> load_certified_key(const std::string& cert_pem_path,
                                        const std::string& key_pem_path);

// Writes the leaf certificate and the key as PEM (for handing a made certificate to a peer).
Status write_pem(const CertifiedKey& ck, const std::string& cert_path, const std::string& key_path);

// SHA-256 of the leaf certificate's DER, as colon-separated hex (what browsers show).
std::string certificate_fingerprint(const X509& cert);

}  // namespace quic
