#include "quic/certificate.h"

#include <arpa/inet.h>
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>

namespace quic {
namespace {

Error tls_error(std::string what) {
    return Error::transport(TransportErrorCode::kInternalError, std::move(what));
}

bssl::UniquePtr<EVP_PKEY> generate_key(KeyType type) {
    if (type == KeyType::kEd25519) {
        bssl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
        EVP_PKEY* raw = nullptr;
        if (!ctx || !EVP_PKEY_keygen_init(ctx.get()) || !EVP_PKEY_keygen(ctx.get(), &raw))
            return nullptr;
        return bssl::UniquePtr<EVP_PKEY>(raw);
    }
    bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
    if (!ec || !EC_KEY_generate_key(ec.get())) return nullptr;
    bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
    if (!key || !EVP_PKEY_assign_EC_KEY(key.get(), ec.release())) return nullptr;
    return key;
}

// subjectAltName: DNS names, and IP addresses where the text parses as one.
bool add_subject_alt_names(X509* cert, const std::vector<std::string>& names) {
    bssl::UniquePtr<GENERAL_NAMES> gens(sk_GENERAL_NAME_new_null());
    if (!gens) return false;
    for (const std::string& name : names) {
        bssl::UniquePtr<GENERAL_NAME> gen(GENERAL_NAME_new());
        if (!gen) return false;
        uint8_t ip[16];
        size_t ip_len = 0;
        if (inet_pton(AF_INET, name.c_str(), ip) == 1)
            ip_len = 4;
        else if (inet_pton(AF_INET6, name.c_str(), ip) == 1)
            ip_len = 16;
        if (ip_len) {
            ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
            if (!s || !ASN1_OCTET_STRING_set(s, ip, ip_len)) return false;
            GENERAL_NAME_set0_value(gen.get(), GEN_IPADD, s);
        } else {
            ASN1_IA5STRING* s = ASN1_IA5STRING_new();
            if (!s || !ASN1_STRING_set(s, name.data(), name.size())) return false;
            GENERAL_NAME_set0_value(gen.get(), GEN_DNS, s);
        }
        if (!bssl::PushToStack(gens.get(), std::move(gen))) return false;
    }
    return X509_add1_ext_i2d(cert, NID_subject_alt_name, gens.get(), 0, 0) == 1;
}

}  // namespace

CertifiedKey& CertifiedKey::operator=(const CertifiedKey& other) {
    if (this == &other) return *this;
    key.reset();
    chain.clear();
    if (other.key) {
        EVP_PKEY_up_ref(other.key.get());
        key.reset(other.key.get());
    }
    for (const auto& c : other.chain) {
        X509_up_ref(c.get());
        chain.emplace_back(c.get());
    }
    return *this;
}

Result<CertifiedKey> make_self_signed(KeyType type, const std::vector<std::string>& names,
                                      int valid_days) {
    if (names.empty()) return tls_error("a certificate needs at least one name");
    CertifiedKey ck;
    ck.key = generate_key(type);
    if (!ck.key) return tls_error("key generation failed");
    bssl::UniquePtr<X509> cert(X509_new());
    if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) return tls_error("X509_new failed");
    // A random serial: RFC 5280 §4.1.2.2 wants it positive and unique per issuer. The top two
    // bits are 01, so it is always 8 bytes in DER (a leading zero byte would be dropped, and a
    // certificate one byte shorter changes the handshake's size: the simulator's traces are
    // compared across runs that each make a certificate).
    uint8_t serial_bytes[8];
    RAND_bytes(serial_bytes, sizeof serial_bytes);
    serial_bytes[0] = static_cast<uint8_t>((serial_bytes[0] & 0x3f) | 0x40);
    bssl::UniquePtr<BIGNUM> serial_bn(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
    if (!serial_bn || !BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())))
        return tls_error("serial number");
    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), long(valid_days) * 86400))
        return tls_error("validity");
    X509_NAME* subject = X509_get_subject_name(cert.get());
    if (!X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                    reinterpret_cast<const uint8_t*>(names[0].c_str()), -1, -1,
                                    0) ||
        !X509_set_issuer_name(cert.get(), subject))
        return tls_error("subject name");
    if (!X509_set_pubkey(cert.get(), ck.key.get())) return tls_error("public key");
    if (!add_subject_alt_names(cert.get(), names)) return tls_error("subjectAltName");
    // Ed25519 signs without a separate digest (RFC 8410).
    const EVP_MD* md = type == KeyType::kEd25519 ? nullptr : EVP_sha256();
    if (!X509_sign(cert.get(), ck.key.get(), md)) return tls_error("signing the certificate");
    ck.chain.push_back(std::move(cert));
    return ck;
}

Result<CertifiedKey> load_certified_key(const std::string& cert_pem_path,
                                        const std::string& key_pem_path) {
    CertifiedKey ck;
    bssl::UniquePtr<BIO> cert_bio(BIO_new_file(cert_pem_path.c_str(), "r"));
    if (!cert_bio) return tls_error("cannot open certificate file " + cert_pem_path);
    while (X509* c = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr))
        ck.chain.emplace_back(c);
    ERR_clear_error();  // the loop ends on a "no start line" error
    if (ck.chain.empty()) return tls_error("no certificate in " + cert_pem_path);
    bssl::UniquePtr<BIO> key_bio(BIO_new_file(key_pem_path.c_str(), "r"));
    if (!key_bio) return tls_error("cannot open key file " + key_pem_path);
    ck.key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!ck.key) return tls_error("no private key in " + key_pem_path);
    if (!X509_check_private_key(ck.chain[0].get(), ck.key.get()))
        return tls_error("the private key does not match the certificate");
    return ck;
}

Status write_pem(const CertifiedKey& ck, const std::string& cert_path,
                 const std::string& key_path) {
    bssl::UniquePtr<BIO> cert_bio(BIO_new_file(cert_path.c_str(), "w"));
    if (!cert_bio) return tls_error("cannot write " + cert_path);
    for (const auto& c : ck.chain)
        if (!PEM_write_bio_X509(cert_bio.get(), c.get())) return tls_error("writing " + cert_path);
    bssl::UniquePtr<BIO> key_bio(BIO_new_file(key_path.c_str(), "w"));
    if (!key_bio || !PEM_write_bio_PrivateKey(key_bio.get(), ck.key.get(), nullptr, nullptr, 0,
                                              nullptr, nullptr))
        return tls_error("cannot write " + key_path);
    return {};
}

std::string certificate_fingerprint(const X509& cert) {
    uint8_t* der = nullptr;
    int len = i2d_X509(const_cast<X509*>(&cert), &der);
    if (len <= 0) return {};
    uint8_t digest[32];
    SHA256(der, static_cast<size_t>(len), digest);
    OPENSSL_free(der);
    std::string out;
    char hex[4];
    for (size_t i = 0; i < sizeof digest; ++i) {
        std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", digest[i]);
        out += hex;
    }
    return out;
}

}  // namespace quic
