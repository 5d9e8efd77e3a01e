// Packet protection (RFC 9001 §5.3) and header protection (RFC 9001 §5.4) behind small
// interfaces, so that tests and fuzzers can swap in the Null implementations and see
// plaintext on the wire. Real implementations set up their cipher contexts once per key and
// never allocate per packet.
#pragma once

#include <openssl/aead.h>
#include <openssl/aes.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "crypto/cipher_suite.h"
#include "quic/bytes.h"
#include "quic/result.h"
#include "quic/version.h"

namespace quic {

// The AEAD of one key (one direction, one key phase).
class PacketProtector {
  public:
    virtual ~PacketProtector();
    // Bytes the AEAD adds to a payload (16 for every suite, RFC 9001 §5.3).
    virtual size_t tag_length() const = 0;

    // Seals in place. `payload_and_tag` holds the plaintext followed by tag_length() bytes of
    // room; on success it holds ciphertext || tag. The nonce is the IV XOR the packet number
    // (RFC 9001 §5.3); the associated data is the header up to and including the packet
    // number. Returns false (contents unspecified) if the span is shorter than the tag.
    virtual bool seal(uint64_t pn, ByteSpan associated_data, MutableByteSpan payload_and_tag) = 0;

    // Opens in place: `ciphertext_and_tag` is the protected payload including its tag. Returns
    // the plaintext length (the plaintext starts at the span's start), or nullopt when
    // authentication fails; on failure the span's contents are unspecified (BoringSSL zeroes
    // them), so a caller that wants to retry with another key must keep a copy.
    virtual std::optional<size_t> open(uint64_t pn, ByteSpan associated_data,
                                       MutableByteSpan ciphertext_and_tag) = 0;
};

// The header protection of one key (one direction; not changed by key updates, §6.1).
class HeaderProtector {
  public:
    virtual ~HeaderProtector();
    // The 5-byte mask for a 16-byte ciphertext sample (RFC 9001 §5.4.1). Returns false when
    // the sample is shorter than kHeaderProtectionSampleLength (only the first 16 bytes are
    // used otherwise).
    virtual bool mask(ByteSpan sample, std::array<uint8_t, 5>& out) = 0;
};

// An EVP_AEAD (AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305) with its IV.
class AeadPacketProtector final : public PacketProtector {
  public:
    // nullptr when the key or IV has the wrong length for the suite.
    static std::unique_ptr<AeadPacketProtector> create(CipherSuite suite, ByteSpan key,
                                                       ByteSpan iv);
    ~AeadPacketProtector() override;
    AeadPacketProtector(const AeadPacketProtector&) = delete;
    AeadPacketProtector& operator=(const AeadPacketProtector&) = delete;

    size_t tag_length() const override { return kAeadTagLength; }
    bool seal(uint64_t pn, ByteSpan associated_data, MutableByteSpan payload_and_tag) override;
    std::optional<size_t> open(uint64_t pn, ByteSpan associated_data,
                               MutableByteSpan ciphertext_and_tag) override;

  private:
    AeadPacketProtector() = default;
    std::array<uint8_t, kAeadIvLength> nonce_for(uint64_t pn) const;

    EVP_AEAD_CTX ctx_;
    std::array<uint8_t, kAeadIvLength> iv_{};
};

// RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample), with AES-128 or AES-256.
class AesHeaderProtector final : public HeaderProtector {
  public:
    // nullptr unless the key is 16 or 32 bytes.
    static std::unique_ptr<AesHeaderProtector> create(ByteSpan hp_key);
    ~AesHeaderProtector() override;
    bool mask(ByteSpan sample, std::array<uint8_t, 5>& out) override;

  private:
    AesHeaderProtector() = default;
    AES_KEY key_;
};

// RFC 9001 §5.4.4: mask = ChaCha20(hp_key, counter = sample[0..3] little-endian,
// nonce = sample[4..15], 5 zero bytes).
class ChaChaHeaderProtector final : public HeaderProtector {
  public:
    // nullptr unless the key is 32 bytes.
    static std::unique_ptr<ChaChaHeaderProtector> create(ByteSpan hp_key);
    ~ChaChaHeaderProtector() override;
    bool mask(ByteSpan sample, std::array<uint8_t, 5>& out) override;

  private:
    ChaChaHeaderProtector() = default;
    std::array<uint8_t, 32> key_{};
};

// No confidentiality: the payload is left as is and followed by a 16-byte zero tag, which
// open() checks, so packet sizes match the real AEADs and corruption is still detected.
class NullPacketProtector final : public PacketProtector {
  public:
    size_t tag_length() const override { return kAeadTagLength; }
    bool seal(uint64_t pn, ByteSpan associated_data, MutableByteSpan payload_and_tag) override;
    std::optional<size_t> open(uint64_t pn, ByteSpan associated_data,
                               MutableByteSpan ciphertext_and_tag) override;
};

// An all-zero mask: headers go on the wire unprotected.
class NullHeaderProtector final : public HeaderProtector {
  public:
    bool mask(ByteSpan sample, std::array<uint8_t, 5>& out) override;
};

// The AEAD for `suite` (RFC 9001 §5.3); nullptr when key or iv has the wrong length.
std::unique_ptr<PacketProtector> make_packet_protector(CipherSuite suite, ByteSpan key,
                                                       ByteSpan iv);
// AES for the AES-GCM suites, ChaCha20 for ChaCha20-Poly1305 (RFC 9001 §5.4.3, §5.4.4);
// nullptr when the key has the wrong length.
std::unique_ptr<HeaderProtector> make_header_protector(CipherSuite suite, ByteSpan hp_key);

// Everything needed to protect or unprotect packets in one direction at one encryption level.
struct DirectionalKeys {
    std::unique_ptr<PacketProtector> packet;
    std::unique_ptr<HeaderProtector> header;

    bool valid() const { return packet && header; }
};

// derive_packet_keys + both factories. Both pointers are null if derivation fails (the key
// material is always the right length, so this only happens on a BoringSSL failure).
DirectionalKeys make_keys(CipherSuite suite, ByteSpan secret, Version version);

// ---- whole-packet helpers (RFC 9001 §5.4.1, §5.4.2), independent of the header parser ----

// Protects one packet in place. `packet` starts at the packet's first byte and holds the
// header (pn_offset + pn_length bytes, packet number written in pn_length bytes and the
// first byte's Packet Number Length bits set to pn_length - 1), then payload_length bytes of
// plaintext, then packet_protector.tag_length() bytes of room; bytes after that are untouched.
// Seals the payload with the header as associated data (§5.3), then masks the first byte's
// low bits (4 for long headers, 5 for short) and the packet number, using the sample at
// pn_offset + 4 (§5.4.2). Returns false, without touching the packet, when the buffer is too
// small, pn_length is not 1..4 or disagrees with the first byte, or the packet is too short
// to sample (the caller must pad: §5.4.2).
bool protect_packet(MutableByteSpan packet, size_t pn_offset, size_t pn_length,
                    size_t payload_length, uint64_t pn, PacketProtector& packet_protector,
                    HeaderProtector& header_protector);

struct UnprotectedHeader {
    uint8_t first_byte = 0;     // with header protection removed
    size_t pn_length = 0;       // 1..4
    uint64_t truncated_pn = 0;  // decode with RFC 9000 §A.3 before opening
    bool key_phase = false;     // short header only (0x04, RFC 9000 §17.3.1)
    size_t header_length = 0;   // pn_offset + pn_length: the associated data, and where the
                                // protected payload starts
};

// Removes header protection in place (RFC 9001 §5.4.1). `packet` must span exactly this QUIC
// packet: for a long header, up to pn_offset + the Length field's value; for a short header,
// the rest of the datagram. The form is taken from the first byte's high bit. Fails when the
// packet is too short to hold the sample at pn_offset + 4 (§5.4.2: such packets are
// discarded), leaving the packet untouched; the error is PROTOCOL_VIOLATION but is a reason
// to drop the packet, never to close the connection.
Result<UnprotectedHeader> remove_header_protection(MutableByteSpan packet, size_t pn_offset,
                                                   HeaderProtector& header_protector);

// After remove_header_protection and packet number decoding: opens the payload that follows
// the header in place. Returns the plaintext length (plaintext starts at
// packet[header.header_length]) or nullopt if authentication fails.
std::optional<size_t> open_packet_payload(MutableByteSpan packet, const UnprotectedHeader& header,
                                          uint64_t full_pn, PacketProtector& packet_protector);

}  // namespace quic
