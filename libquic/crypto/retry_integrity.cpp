#include "crypto/retry_integrity.h"

#include <openssl/aead.h>
#include <openssl/mem.h>

namespace quic {

namespace {

// Computes the tag into `out`; false only if BoringSSL fails.
bool compute_tag(Version version, const ConnectionId& original_dcid, ByteSpan retry_packet,
                 RetryIntegrityTag& out) {
    const bool v2 = version == kVersion2;
    ByteSpan key = v2 ? ByteSpan(kRetryIntegrityKeyV2) : ByteSpan(kRetryIntegrityKeyV1);
    ByteSpan nonce = v2 ? ByteSpan(kRetryIntegrityNonceV2) : ByteSpan(kRetryIntegrityNonceV1);

    // RFC 9001 §5.8, Retry Pseudo-Packet: ODCID Length (8) || ODCID || the Retry packet
    // without its tag. Retry packets are rare and the AEAD needs contiguous associated data,
    // so one allocation here is fine.
    Bytes pseudo;
    pseudo.reserve(1 + original_dcid.size() + retry_packet.size());
    pseudo.push_back(static_cast<uint8_t>(original_dcid.size()));
    pseudo.insert(pseudo.end(), original_dcid.bytes().begin(), original_dcid.bytes().end());
    pseudo.insert(pseudo.end(), retry_packet.begin(), retry_packet.end());

    bssl::ScopedEVP_AEAD_CTX ctx;
    if (!EVP_AEAD_CTX_init(ctx.get(), EVP_aead_aes_128_gcm(), key.data(), key.size(),
                           kRetryIntegrityTagLength, nullptr))
        return false;
    // The plaintext is empty: the tag is the whole output.
    size_t tag_len = 0;
    return EVP_AEAD_CTX_seal_scatter(ctx.get(), nullptr, out.data(), &tag_len, out.size(),
                                     nonce.data(), nonce.size(), nullptr, 0, nullptr, 0,
                                     pseudo.data(), pseudo.size()) == 1 &&
           tag_len == kRetryIntegrityTagLength;
}

}  // namespace

RetryIntegrityTag retry_integrity_tag(Version version, const ConnectionId& original_dcid,
                                      ByteSpan retry_packet_without_tag) {
    RetryIntegrityTag tag{};
    if (!compute_tag(version, original_dcid, retry_packet_without_tag, tag)) tag.fill(0);
    return tag;
}

bool verify_retry_integrity(Version version, const ConnectionId& original_dcid,
                            ByteSpan retry_packet_with_tag) {
    if (!is_supported_version(version) || retry_packet_with_tag.size() < kRetryIntegrityTagLength)
        return false;
    const size_t body_len = retry_packet_with_tag.size() - kRetryIntegrityTagLength;
    RetryIntegrityTag expected;
    if (!compute_tag(version, original_dcid, retry_packet_with_tag.first(body_len), expected))
        return false;
    return CRYPTO_memcmp(expected.data(), retry_packet_with_tag.data() + body_len,
                         kRetryIntegrityTagLength) == 0;
}

}  // namespace quic
