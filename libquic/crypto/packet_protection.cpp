#include "crypto/packet_protection.h"

#include <openssl/chacha.h>
#include <openssl/mem.h>

#include <cstring>

#include "crypto/packet_keys.h"

namespace quic {

PacketProtector::~PacketProtector() = default;
HeaderProtector::~HeaderProtector() = default;

// ---- AeadPacketProtector ----

std::unique_ptr<AeadPacketProtector> AeadPacketProtector::create(CipherSuite suite, ByteSpan key,
                                                                 ByteSpan iv) {
    if (key.size() != aead_key_length(suite) || iv.size() != kAeadIvLength) return nullptr;
    std::unique_ptr<AeadPacketProtector> p(new AeadPacketProtector());
    EVP_AEAD_CTX_zero(&p->ctx_);
    if (!EVP_AEAD_CTX_init(&p->ctx_, cipher_suite_aead(suite), key.data(), key.size(),
                           kAeadTagLength, nullptr))
        return nullptr;
    std::memcpy(p->iv_.data(), iv.data(), kAeadIvLength);
    return p;
}

AeadPacketProtector::~AeadPacketProtector() {
    EVP_AEAD_CTX_cleanup(&ctx_);
    OPENSSL_cleanse(iv_.data(), iv_.size());
}

std::array<uint8_t, kAeadIvLength> AeadPacketProtector::nonce_for(uint64_t pn) const {
    // RFC 9001 §5.3: the packet number in network byte order, left-padded with zeros to the
    // IV's length, XORed with the IV.
    std::array<uint8_t, kAeadIvLength> nonce = iv_;
    for (size_t i = 0; i < 8; ++i)
        nonce[kAeadIvLength - 1 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
    return nonce;
}

bool AeadPacketProtector::seal(uint64_t pn, ByteSpan associated_data,
                               MutableByteSpan payload_and_tag) {
    if (payload_and_tag.size() < kAeadTagLength) return false;
    const size_t plaintext_len = payload_and_tag.size() - kAeadTagLength;
    const auto nonce = nonce_for(pn);
    uint8_t* data = payload_and_tag.data();
    size_t tag_len = 0;
    // In place (out == in), tag written into the room after the plaintext.
    return EVP_AEAD_CTX_seal_scatter(&ctx_, data, data + plaintext_len, &tag_len, kAeadTagLength,
                                     nonce.data(), nonce.size(), data, plaintext_len, nullptr, 0,
                                     associated_data.data(), associated_data.size()) == 1 &&
           tag_len == kAeadTagLength;
}

std::optional<size_t> AeadPacketProtector::open(uint64_t pn, ByteSpan associated_data,
                                                MutableByteSpan ciphertext_and_tag) {
    if (ciphertext_and_tag.size() < kAeadTagLength) return std::nullopt;
    const size_t ciphertext_len = ciphertext_and_tag.size() - kAeadTagLength;
    const auto nonce = nonce_for(pn);
    uint8_t* data = ciphertext_and_tag.data();
    if (!EVP_AEAD_CTX_open_gather(&ctx_, data, nonce.data(), nonce.size(), data, ciphertext_len,
                                  data + ciphertext_len, kAeadTagLength, associated_data.data(),
                                  associated_data.size()))
        return std::nullopt;
    return ciphertext_len;
}

// ---- AesHeaderProtector ----

std::unique_ptr<AesHeaderProtector> AesHeaderProtector::create(ByteSpan hp_key) {
    if (hp_key.size() != 16 && hp_key.size() != 32) return nullptr;
    std::unique_ptr<AesHeaderProtector> p(new AesHeaderProtector());
    if (AES_set_encrypt_key(hp_key.data(), static_cast<unsigned>(hp_key.size() * 8), &p->key_) != 0)
        return nullptr;
    return p;
}

AesHeaderProtector::~AesHeaderProtector() {
    OPENSSL_cleanse(&key_, sizeof(key_));
}

bool AesHeaderProtector::mask(ByteSpan sample, std::array<uint8_t, 5>& out) {
    if (sample.size() < kHeaderProtectionSampleLength) return false;
    // RFC 9001 §5.4.3: one AES block of the sample (ECB on a single block is the raw cipher).
    uint8_t block[16];
    AES_encrypt(sample.data(), block, &key_);
    std::memcpy(out.data(), block, out.size());
    return true;
}

// ---- ChaChaHeaderProtector ----

std::unique_ptr<ChaChaHeaderProtector> ChaChaHeaderProtector::create(ByteSpan hp_key) {
    if (hp_key.size() != 32) return nullptr;
    std::unique_ptr<ChaChaHeaderProtector> p(new ChaChaHeaderProtector());
    std::memcpy(p->key_.data(), hp_key.data(), 32);
    return p;
}

ChaChaHeaderProtector::~ChaChaHeaderProtector() {
    OPENSSL_cleanse(key_.data(), key_.size());
}

bool ChaChaHeaderProtector::mask(ByteSpan sample, std::array<uint8_t, 5>& out) {
    if (sample.size() < kHeaderProtectionSampleLength) return false;
    // RFC 9001 §5.4.4: counter = sample[0..3] as a little-endian integer, nonce = sample[4..15];
    // the mask is ChaCha20 applied to five zero bytes.
    const uint32_t counter = uint32_t{sample[0]} | uint32_t{sample[1]} << 8 |
                             uint32_t{sample[2]} << 16 | uint32_t{sample[3]} << 24;
    static constexpr uint8_t kZeros[5] = {};
    CRYPTO_chacha_20(out.data(), kZeros, sizeof(kZeros), key_.data(), sample.data() + 4, counter);
    return true;
}

// ---- Null protectors ----

bool NullPacketProtector::seal(uint64_t, ByteSpan, MutableByteSpan payload_and_tag) {
    if (payload_and_tag.size() < kAeadTagLength) return false;
    std::memset(payload_and_tag.data() + payload_and_tag.size() - kAeadTagLength, 0,
                kAeadTagLength);
    return true;
}

std::optional<size_t> NullPacketProtector::open(uint64_t, ByteSpan,
                                                MutableByteSpan ciphertext_and_tag) {
    if (ciphertext_and_tag.size() < kAeadTagLength) return std::nullopt;
    const size_t len = ciphertext_and_tag.size() - kAeadTagLength;
    static constexpr uint8_t kZeroTag[kAeadTagLength] = {};
    if (std::memcmp(ciphertext_and_tag.data() + len, kZeroTag, kAeadTagLength) != 0)
        return std::nullopt;
    return len;
}

bool NullHeaderProtector::mask(ByteSpan sample, std::array<uint8_t, 5>& out) {
    if (sample.size() < kHeaderProtectionSampleLength) return false;
    out.fill(0);
    return true;
}

// ---- factories ----

std::unique_ptr<PacketProtector> make_packet_protector(CipherSuite suite, ByteSpan key,
                                                       ByteSpan iv) {
    return AeadPacketProtector::create(suite, key, iv);
}

std::unique_ptr<HeaderProtector> make_header_protector(CipherSuite suite, ByteSpan hp_key) {
    if (hp_key.size() != header_protection_key_length(suite)) return nullptr;
    if (suite == CipherSuite::kChaCha20Poly1305Sha256) return ChaChaHeaderProtector::create(hp_key);
    return AesHeaderProtector::create(hp_key);
}

DirectionalKeys make_keys(CipherSuite suite, ByteSpan secret, Version version) {
    PacketKeyMaterial m = derive_packet_keys(suite, secret, version);
    DirectionalKeys keys{make_packet_protector(suite, m.key, m.iv),
                         make_header_protector(suite, m.hp)};
    for (Bytes* b : {&m.key, &m.iv, &m.hp}) OPENSSL_cleanse(b->data(), b->size());
    if (!keys.valid()) return {};
    return keys;
}

// ---- whole-packet helpers ----

namespace {

// RFC 9001 §5.4.1: 4 low bits of a long header's first byte are protected, 5 of a short one.
constexpr uint8_t first_byte_mask(uint8_t first_byte) {
    return (first_byte & 0x80) ? 0x0f : 0x1f;
}

}  // namespace

bool protect_packet(MutableByteSpan packet, size_t pn_offset, size_t pn_length,
                    size_t payload_length, uint64_t pn, PacketProtector& packet_protector,
                    HeaderProtector& header_protector) {
    if (pn_length < 1 || pn_length > 4 || pn_offset == 0) return false;
    const size_t header_length = pn_offset + pn_length;
    const size_t tag_length = packet_protector.tag_length();
    // Overflow-safe: compare against what is left rather than summing untrusted sizes.
    if (packet.size() < header_length || packet.size() - header_length < tag_length ||
        packet.size() - header_length - tag_length < payload_length)
        return false;
    const size_t packet_length = header_length + payload_length + tag_length;
    // §5.4.2: the sample starts 4 bytes after the packet number's start and must lie inside
    // this packet; the sender pads to guarantee it.
    if (pn_offset + kHeaderProtectionSampleOffset + kHeaderProtectionSampleLength > packet_length)
        return false;
    if (static_cast<size_t>(packet[0] & 0x03) + 1 != pn_length) return false;

    // §5.3: the associated data is the header up to and including the unprotected packet number.
    if (!packet_protector.seal(pn, packet.first(header_length),
                               packet.subspan(header_length, payload_length + tag_length)))
        return false;

    // §5.4.1: header protection is applied after packet protection, over the ciphertext sample.
    std::array<uint8_t, 5> mask;
    if (!header_protector.mask(packet.subspan(pn_offset + kHeaderProtectionSampleOffset,
                                              kHeaderProtectionSampleLength),
                               mask))
        return false;
    packet[0] ^= mask[0] & first_byte_mask(packet[0]);
    for (size_t i = 0; i < pn_length; ++i) packet[pn_offset + i] ^= mask[1 + i];
    return true;
}

Result<UnprotectedHeader> remove_header_protection(MutableByteSpan packet, size_t pn_offset,
                                                   HeaderProtector& header_protector) {
    // §5.4.2: "An endpoint MUST discard packets that are not long enough to contain a complete
    // sample." The packet number is assumed to be 4 bytes long for sampling.
    if (pn_offset == 0 || packet.size() < pn_offset ||
        packet.size() - pn_offset < kHeaderProtectionSampleOffset + kHeaderProtectionSampleLength)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "packet too short for the header protection sample");
    std::array<uint8_t, 5> mask;
    if (!header_protector.mask(packet.subspan(pn_offset + kHeaderProtectionSampleOffset,
                                              kHeaderProtectionSampleLength),
                               mask))
        return Error::transport(TransportErrorCode::kProtocolViolation, "header protection failed");
    // §5.4.1: unmask the first byte first, because it gives the packet number length.
    UnprotectedHeader h;
    const bool long_header = (packet[0] & 0x80) != 0;
    packet[0] ^= mask[0] & first_byte_mask(packet[0]);
    h.first_byte = packet[0];
    h.pn_length = static_cast<size_t>(h.first_byte & 0x03) + 1;
    for (size_t i = 0; i < h.pn_length; ++i) {
        packet[pn_offset + i] ^= mask[1 + i];
        h.truncated_pn = (h.truncated_pn << 8) | packet[pn_offset + i];
    }
    h.key_phase = !long_header && (h.first_byte & 0x04) != 0;
    h.header_length = pn_offset + h.pn_length;
    return h;
}

std::optional<size_t> open_packet_payload(MutableByteSpan packet, const UnprotectedHeader& header,
                                          uint64_t full_pn, PacketProtector& packet_protector) {
    if (header.header_length > packet.size()) return std::nullopt;
    return packet_protector.open(full_pn, packet.first(header.header_length),
                                 packet.subspan(header.header_length));
}

}  // namespace quic
