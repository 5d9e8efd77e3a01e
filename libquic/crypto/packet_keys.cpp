#include "crypto/packet_keys.h"

#include "crypto/hkdf.h"

namespace quic {

PacketKeyMaterial derive_packet_keys(CipherSuite suite, ByteSpan secret, Version version) {
    const EVP_MD* md = cipher_suite_hash(suite);
    const QuicLabels& labels = quic_labels(version);
    PacketKeyMaterial m{
        hkdf_expand_label(md, secret, labels.key, aead_key_length(suite)),
        hkdf_expand_label(md, secret, labels.iv, kAeadIvLength),
        hkdf_expand_label(md, secret, labels.hp, header_protection_key_length(suite)),
    };
    if (m.key.empty() || m.iv.empty() || m.hp.empty()) return {};
    return m;
}

Bytes next_generation_secret(CipherSuite suite, ByteSpan secret, Version version) {
    return hkdf_expand_label(cipher_suite_hash(suite), secret, quic_labels(version).ku,
                             secret_length(suite));
}

}  // namespace quic
