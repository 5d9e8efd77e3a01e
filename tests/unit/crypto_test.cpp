// libquic/crypto beyond the RFC vectors (those are in crypto_vectors_test.cpp): HKDF, cipher
// suite tables, AEAD and header protection behaviour, key update, stateless reset tokens and
// address validation tokens.
#include <doctest/doctest.h>
#include <openssl/digest.h>
#include <openssl/hkdf.h>
#include <openssl/hmac.h>

#include <chrono>
#include <string>

#include "crypto/address_token.h"
#include "crypto/cipher_suite.h"
#include "crypto/hkdf.h"
#include "crypto/initial_secrets.h"
#include "crypto/packet_keys.h"
#include "crypto/packet_protection.h"
#include "crypto/stateless_reset.h"
#include "quic/random.h"
#include "unit/hex.h"

using namespace quic;
using namespace std::chrono_literals;
using quic::test::from_hex;
using quic::test::to_hex;

namespace {

constexpr CipherSuite kAllSuites[] = {CipherSuite::kAes128GcmSha256, CipherSuite::kAes256GcmSha384,
                                      CipherSuite::kChaCha20Poly1305Sha256};

Bytes random_bytes(Random& r, size_t n) {
    Bytes b(n);
    r.fill(b);
    return b;
}

}  // namespace

// ---- HKDF ----

TEST_CASE("HKDF-Extract matches RFC 5869 test case 1") {
    const Bytes ikm(22, 0x0b);
    const Bytes salt = from_hex("000102030405060708090a0b0c");
    CHECK(to_hex(hkdf_extract(EVP_sha256(), salt, ikm)) ==
          "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
}

TEST_CASE("HKDF-Expand-Label builds the RFC 8446 HkdfLabel") {
    // RFC 9001 Appendix A.1 lists the HkdfLabel bytes for "quic key" (length 16) and
    // "client in" (length 32): expanding with them by hand must give the same output.
    const Bytes secret =
        from_hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
    struct Case {
        std::string_view label;
        size_t length;
        std::string_view info;
    };
    for (const Case& c : {Case{"quic key", 16, "00100e746c7331332071756963206b657900"},
                          Case{"client in", 32, "00200f746c73313320636c69656e7420696e00"},
                          Case{"quicv2 hp", 16, "00100f746c7331332071756963763220687000"}}) {
        CAPTURE(c.label);
        const Bytes info = from_hex(c.info);
        Bytes expected(c.length);
        REQUIRE(HKDF_expand(expected.data(), expected.size(), EVP_sha256(), secret.data(),
                            secret.size(), info.data(), info.size()));
        CHECK(to_hex(hkdf_expand_label(EVP_sha256(), secret, c.label, c.length)) ==
              to_hex(expected));
    }
}

TEST_CASE("HKDF-Expand-Label rejects what HkdfLabel or HKDF cannot encode") {
    const Bytes secret(32, 0x11);
    Bytes out(16);
    CHECK(hkdf_expand_label_into(EVP_sha256(), secret, std::string(kMaxHkdfLabelLength, 'a'), {},
                                 out));
    CHECK_FALSE(hkdf_expand_label_into(EVP_sha256(), secret,
                                       std::string(kMaxHkdfLabelLength + 1, 'a'), {}, out));
    const Bytes long_context(kMaxHkdfContextLength + 1, 0);
    CHECK_FALSE(hkdf_expand_label_into(EVP_sha256(), secret, "x", long_context, out));
    // RFC 5869 §2.3: L <= 255 * HashLen.
    CHECK(hkdf_expand_label(EVP_sha256(), secret, "x", 255 * 32).size() == 255 * 32);
    CHECK(hkdf_expand_label(EVP_sha256(), secret, "x", 255 * 32 + 1).empty());
    // A context changes the output.
    const Bytes ctx = {1, 2, 3};
    CHECK(hkdf_expand_label(EVP_sha256(), secret, "x", 16, ctx) !=
          hkdf_expand_label(EVP_sha256(), secret, "x", 16));
}

// ---- cipher suites ----

TEST_CASE("cipher suite tables") {
    for (CipherSuite s : kAllSuites) {
        CAPTURE(cipher_suite_name(s));
        CHECK(cipher_suite_from_tls_id(tls_cipher_suite_id(s)) == s);
        CHECK(EVP_AEAD_key_length(cipher_suite_aead(s)) == aead_key_length(s));
        CHECK(EVP_AEAD_nonce_length(cipher_suite_aead(s)) == kAeadIvLength);
        CHECK(EVP_AEAD_max_overhead(cipher_suite_aead(s)) == kAeadTagLength);
        CHECK(EVP_MD_size(cipher_suite_hash(s)) == secret_length(s));
    }
    CHECK(tls_cipher_suite_id(CipherSuite::kAes128GcmSha256) == 0x1301);
    CHECK(tls_cipher_suite_id(CipherSuite::kAes256GcmSha384) == 0x1302);
    CHECK(tls_cipher_suite_id(CipherSuite::kChaCha20Poly1305Sha256) == 0x1303);
    CHECK_FALSE(cipher_suite_from_tls_id(0x1304).has_value());  // AES-128-CCM
    CHECK_FALSE(cipher_suite_from_tls_id(0x1305).has_value());  // AES-128-CCM-8: §5.3 forbids
    CHECK_FALSE(cipher_suite_from_tls_id(0xc02f).has_value());  // a TLS 1.2 suite
    // RFC 9001 §6.6.
    CHECK(confidentiality_limit(CipherSuite::kAes128GcmSha256) == (uint64_t{1} << 23));
    CHECK(integrity_limit(CipherSuite::kAes256GcmSha384) == (uint64_t{1} << 52));
    CHECK(integrity_limit(CipherSuite::kChaCha20Poly1305Sha256) == (uint64_t{1} << 36));
    CHECK(confidentiality_limit(CipherSuite::kChaCha20Poly1305Sha256) > kVarintMax);
}

// ---- packet protection ----

TEST_CASE("AES-256-GCM seal/open round trip") {
    SeededRandom rng(1);
    const Bytes key = random_bytes(rng, 32);
    const Bytes iv = random_bytes(rng, 12);
    auto sealer = make_packet_protector(CipherSuite::kAes256GcmSha384, key, iv);
    auto opener = make_packet_protector(CipherSuite::kAes256GcmSha384, key, iv);
    REQUIRE(sealer);
    REQUIRE(opener);
    CHECK(sealer->tag_length() == 16);
    const Bytes ad = random_bytes(rng, 20);
    for (uint64_t pn : {uint64_t{0}, uint64_t{1}, uint64_t{0x1234567}, kVarintMax}) {
        for (size_t len : {size_t{0}, size_t{1}, size_t{100}, size_t{1350}}) {
            CAPTURE(pn);
            CAPTURE(len);
            const Bytes plaintext = random_bytes(rng, len);
            Bytes buf = plaintext;
            buf.resize(len + 16);
            REQUIRE(sealer->seal(pn, ad, buf));
            if (len >= 8) CHECK_FALSE(std::equal(plaintext.begin(), plaintext.end(), buf.begin()));
            const auto out = opener->open(pn, ad, buf);
            REQUIRE(out == std::optional<size_t>(len));
            CHECK(Bytes(buf.begin(), buf.begin() + len) == plaintext);
        }
    }
    // Too small for a tag.
    Bytes tiny(15);
    CHECK_FALSE(sealer->seal(0, ad, tiny));
    CHECK_FALSE(opener->open(0, ad, tiny).has_value());
}

TEST_CASE("every AEAD rejects a flipped bit in header, payload or tag, and a wrong pn") {
    SeededRandom rng(2);
    for (CipherSuite s : kAllSuites) {
        CAPTURE(cipher_suite_name(s));
        const Bytes key = random_bytes(rng, aead_key_length(s));
        const Bytes iv = random_bytes(rng, kAeadIvLength);
        auto p = make_packet_protector(s, key, iv);
        REQUIRE(p);
        const Bytes ad = random_bytes(rng, 12);
        const Bytes plaintext = random_bytes(rng, 40);
        Bytes sealed = plaintext;
        sealed.resize(plaintext.size() + p->tag_length());
        REQUIRE(p->seal(77, ad, sealed));
        {
            Bytes copy = sealed;
            REQUIRE(p->open(77, ad, copy).has_value());
        }
        for (size_t i = 0; i < ad.size() * 8; ++i) {
            Bytes bad_ad = ad;
            bad_ad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
            Bytes copy = sealed;
            CHECK_FALSE(p->open(77, bad_ad, copy).has_value());
        }
        // Payload bytes first, then tag bytes.
        for (size_t i = 0; i < sealed.size() * 8; ++i) {
            Bytes copy = sealed;
            copy[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
            CHECK_FALSE(p->open(77, ad, copy).has_value());
        }
        Bytes copy = sealed;
        CHECK_FALSE(p->open(78, ad, copy).has_value());
        // Another key with the same IV.
        Bytes other_key = key;
        other_key[0] ^= 1;
        auto q = make_packet_protector(s, other_key, iv);
        copy = sealed;
        CHECK_FALSE(q->open(77, ad, copy).has_value());
    }
}

TEST_CASE("NullPacketProtector: identity with a zero tag it checks") {
    NullPacketProtector p;
    const Bytes plaintext = {1, 2, 3, 4, 5};
    Bytes buf = plaintext;
    buf.resize(plaintext.size() + p.tag_length(), 0xee);
    REQUIRE(p.seal(9, {}, buf));
    CHECK(Bytes(buf.begin(), buf.begin() + 5) == plaintext);
    CHECK(Bytes(buf.begin() + 5, buf.end()) == Bytes(16, 0));
    Bytes copy = buf;
    CHECK(p.open(9, {}, copy) == std::optional<size_t>(5));
    copy = buf;
    copy.back() = 1;
    CHECK_FALSE(p.open(9, {}, copy).has_value());
    Bytes tiny(3);
    CHECK_FALSE(p.open(9, {}, tiny).has_value());

    NullHeaderProtector h;
    std::array<uint8_t, 5> mask{1, 1, 1, 1, 1};
    CHECK(h.mask(Bytes(16, 0xab), mask));
    CHECK(mask == std::array<uint8_t, 5>{});
    CHECK_FALSE(h.mask(Bytes(15, 0xab), mask));

    // Together, for fuzzers and tests: the packet goes out as plaintext plus a zero tag.
    Bytes packet = {0x41, 0xaa, 0x00, 0x07};
    for (int i = 0; i < 20; ++i) packet.push_back(static_cast<uint8_t>(i));
    const Bytes plain_packet = packet;
    packet.resize(packet.size() + 16, 0xff);
    REQUIRE(protect_packet(packet, 2, 2, 20, 7, p, h));
    CHECK(std::equal(plain_packet.begin(), plain_packet.end(), packet.begin()));
    auto hdr = remove_header_protection(packet, 2, h);
    REQUIRE(hdr.ok());
    CHECK(hdr->truncated_pn == 7);
    CHECK(open_packet_payload(packet, *hdr, 7, p) == std::optional<size_t>(20));
}

TEST_CASE("factories reject keys of the wrong length") {
    const Bytes k16(16, 1), k32(32, 1), iv(12, 2), iv8(8, 2);
    CHECK(make_packet_protector(CipherSuite::kAes128GcmSha256, k16, iv));
    CHECK_FALSE(make_packet_protector(CipherSuite::kAes128GcmSha256, k32, iv));
    CHECK_FALSE(make_packet_protector(CipherSuite::kAes256GcmSha384, k16, iv));
    CHECK_FALSE(make_packet_protector(CipherSuite::kChaCha20Poly1305Sha256, k32, iv8));
    CHECK(make_header_protector(CipherSuite::kAes128GcmSha256, k16));
    CHECK(make_header_protector(CipherSuite::kAes256GcmSha384, k32));
    CHECK(make_header_protector(CipherSuite::kChaCha20Poly1305Sha256, k32));
    CHECK_FALSE(make_header_protector(CipherSuite::kAes128GcmSha256, k32));
    CHECK_FALSE(make_header_protector(CipherSuite::kChaCha20Poly1305Sha256, k16));
    CHECK(AesHeaderProtector::create(Bytes(24, 0)) == nullptr);  // no QUIC suite uses AES-192
    CHECK(AesHeaderProtector::create(Bytes(17, 0)) == nullptr);
    CHECK(ChaChaHeaderProtector::create(k16) == nullptr);
    auto hp = make_header_protector(CipherSuite::kAes128GcmSha256, k16);
    std::array<uint8_t, 5> mask;
    CHECK_FALSE(hp->mask(Bytes(15, 0), mask));
}

namespace {

// A short header packet: 0x40 | key phase | pn length, an 8-byte DCID, the packet number.
Bytes short_header_packet(bool key_phase, size_t pn_length, uint64_t truncated_pn,
                          size_t payload_length) {
    Bytes p = {static_cast<uint8_t>(0x40 | (key_phase ? 0x04 : 0) | (pn_length - 1))};
    for (int i = 0; i < 8; ++i) p.push_back(static_cast<uint8_t>(0xc0 + i));
    for (size_t i = 0; i < pn_length; ++i)
        p.push_back(static_cast<uint8_t>(truncated_pn >> (8 * (pn_length - 1 - i))));
    for (size_t i = 0; i < payload_length; ++i) p.push_back(static_cast<uint8_t>(i));
    p.resize(p.size() + kAeadTagLength);
    return p;
}

}  // namespace

TEST_CASE("protect_packet / remove_header_protection round trip for every suite") {
    SeededRandom rng(3);
    for (CipherSuite s : kAllSuites) {
        for (Version v : {kVersion1, kVersion2}) {
            const Bytes secret = random_bytes(rng, secret_length(s));
            DirectionalKeys keys = make_keys(s, secret, v);
            REQUIRE(keys.valid());
            for (size_t pn_length = 1; pn_length <= 4; ++pn_length) {
                for (bool key_phase : {false, true}) {
                    CAPTURE(cipher_suite_name(s));
                    CAPTURE(pn_length);
                    CAPTURE(key_phase);
                    const uint64_t pn = 0x1000000 + pn_length;
                    const uint64_t truncated = pn & ((uint64_t{1} << (8 * pn_length)) - 1);
                    const size_t payload_length = 4 - pn_length + 20;
                    const Bytes plain =
                        short_header_packet(key_phase, pn_length, truncated, payload_length);
                    Bytes packet = plain;
                    REQUIRE(protect_packet(packet, 9, pn_length, payload_length, pn, *keys.packet,
                                           *keys.header));
                    // The fixed and spin bits (and the DCID) are never masked.
                    CHECK((packet[0] & 0xe0) == (plain[0] & 0xe0));
                    CHECK(std::equal(plain.begin() + 1, plain.begin() + 9, packet.begin() + 1));

                    auto h = remove_header_protection(packet, 9, *keys.header);
                    REQUIRE(h.ok());
                    CHECK(h->first_byte == plain[0]);
                    CHECK(h->pn_length == pn_length);
                    CHECK(h->truncated_pn == truncated);
                    CHECK(h->key_phase == key_phase);
                    CHECK(h->header_length == 9 + pn_length);
                    const auto len = open_packet_payload(packet, *h, pn, *keys.packet);
                    REQUIRE(len == std::optional<size_t>(payload_length));
                    CHECK(std::equal(packet.begin(), packet.end() - kAeadTagLength, plain.begin()));
                }
            }
        }
    }
}

TEST_CASE("protect_packet refuses bad layouts without touching the packet") {
    auto keys = make_keys(CipherSuite::kAes128GcmSha256, Bytes(32, 7), kVersion1);
    REQUIRE(keys.valid());
    const Bytes plain = short_header_packet(false, 2, 0x0102, 18);  // 11 + 18 + 16
    Bytes p = plain;
    // pn_length disagrees with the first byte.
    CHECK_FALSE(protect_packet(p, 9, 3, 17, 1, *keys.packet, *keys.header));
    CHECK_FALSE(protect_packet(p, 9, 0, 18, 1, *keys.packet, *keys.header));
    CHECK_FALSE(protect_packet(p, 9, 5, 18, 1, *keys.packet, *keys.header));
    // Payload plus tag does not fit.
    CHECK_FALSE(protect_packet(p, 9, 2, 19, 1, *keys.packet, *keys.header));
    CHECK_FALSE(protect_packet(p, 9, 2, SIZE_MAX, 1, *keys.packet, *keys.header));
    CHECK(p == plain);
    // Too short to sample (§5.4.2): with a 2-byte pn, the payload needs 2 bytes.
    Bytes small = short_header_packet(false, 2, 1, 1);
    const Bytes small_plain = small;
    CHECK_FALSE(protect_packet(small, 9, 2, 1, 1, *keys.packet, *keys.header));
    CHECK(small == small_plain);
    Bytes enough = short_header_packet(false, 2, 1, 2);
    CHECK(protect_packet(enough, 9, 2, 2, 1, *keys.packet, *keys.header));
    // A bigger buffer (e.g. a datagram with room left) is fine; the tail is untouched.
    Bytes big = plain;
    big.resize(plain.size() + 10, 0x5a);
    CHECK(protect_packet(big, 9, 2, 18, 1, *keys.packet, *keys.header));
    CHECK(Bytes(big.end() - 10, big.end()) == Bytes(10, 0x5a));
}

TEST_CASE("remove_header_protection drops packets too short for the sample") {
    auto keys = make_keys(CipherSuite::kChaCha20Poly1305Sha256, Bytes(32, 7), kVersion2);
    REQUIRE(keys.valid());
    for (size_t len : {size_t{0}, size_t{1}, size_t{9}, size_t{28}}) {
        Bytes p(len, 0x41);
        const Bytes before = p;
        auto h = remove_header_protection(p, 9, *keys.header);
        REQUIRE_FALSE(h.ok());
        CHECK(h.error().is_transport(TransportErrorCode::kProtocolViolation));
        CHECK(p == before);
    }
    Bytes p(29, 0x41);  // pn_offset 9 + 4 + 16
    CHECK(remove_header_protection(p, 9, *keys.header).ok());
    Bytes q(29, 0x41);
    CHECK_FALSE(remove_header_protection(q, 0, *keys.header).ok());
    CHECK_FALSE(remove_header_protection(q, 100, *keys.header).ok());
}

TEST_CASE("long headers mask 4 bits of the first byte, short headers 5") {
    // With the null packet protector the sample is the plaintext, so the mask can be
    // recomputed and compared bit for bit.
    auto hp = make_header_protector(CipherSuite::kAes128GcmSha256, Bytes(16, 3));
    NullPacketProtector np;
    for (uint8_t first : {uint8_t{0xc0}, uint8_t{0x40}}) {
        Bytes p = {first, 0, 0, 0, 0};
        p.resize(5 + 20 + 16, 0);
        REQUIRE(protect_packet(p, 1, 1, 20, 0, np, *hp));
        std::array<uint8_t, 5> mask;
        REQUIRE(hp->mask(ByteSpan(p).subspan(5, 16), mask));
        const uint8_t bits = first & 0x80 ? 0x0f : 0x1f;
        CHECK(p[0] == (first ^ (mask[0] & bits)));
        CHECK(p[1] == mask[1]);
        CHECK(p[2] == 0);  // only pn_length bytes of the pn are masked
    }
}

// ---- key update ----

TEST_CASE("next_generation_secret: v1 and v2 differ and chain") {
    SeededRandom rng(4);
    for (CipherSuite s : kAllSuites) {
        CAPTURE(cipher_suite_name(s));
        const Bytes secret0 = random_bytes(rng, secret_length(s));
        const Bytes v1_1 = next_generation_secret(s, secret0, kVersion1);
        const Bytes v2_1 = next_generation_secret(s, secret0, kVersion2);
        CHECK(v1_1.size() == secret_length(s));
        CHECK(v2_1.size() == secret_length(s));
        CHECK(v1_1 != v2_1);
        CHECK(v1_1 != secret0);
        CHECK(next_generation_secret(s, secret0, kVersion1) == v1_1);  // deterministic
        const Bytes v1_2 = next_generation_secret(s, v1_1, kVersion1);
        CHECK(v1_2 != v1_1);
        CHECK(v1_2 == hkdf_expand_label(cipher_suite_hash(s), v1_1, "quic ku", secret_length(s)));
        CHECK(next_generation_secret(s, v2_1, kVersion2) ==
              hkdf_expand_label(cipher_suite_hash(s), v2_1, "quicv2 ku", secret_length(s)));

        // New packet keys; the old header protection key stays (§6.1): a packet sealed with
        // generation 1 opens only with generation 1.
        const PacketKeyMaterial k0 = derive_packet_keys(s, secret0, kVersion1);
        const PacketKeyMaterial k1 = derive_packet_keys(s, v1_1, kVersion1);
        CHECK(k0.key != k1.key);
        CHECK(k0.iv != k1.iv);
        auto p0 = make_packet_protector(s, k0.key, k0.iv);
        auto p1 = make_packet_protector(s, k1.key, k1.iv);
        Bytes buf(10 + 16, 0x33);
        REQUIRE(p1->seal(5, {}, buf));
        Bytes copy = buf;
        CHECK_FALSE(p0->open(5, {}, copy).has_value());
        CHECK(p1->open(5, {}, buf).has_value());
    }
}

TEST_CASE("initial secrets depend on version and connection ID") {
    const ConnectionId a(from_hex("0102030405060708"));
    const ConnectionId b(from_hex("0102030405060709"));
    CHECK(derive_initial_secrets(kVersion1, a).client !=
          derive_initial_secrets(kVersion2, a).client);
    CHECK(derive_initial_secrets(kVersion1, a).client !=
          derive_initial_secrets(kVersion1, b).client);
    CHECK(derive_initial_secrets(kVersion1, a).client !=
          derive_initial_secrets(kVersion1, a).server);
    // A zero-length DCID is legal after a Retry with an empty SCID (RFC 9001 §5.2 note).
    InitialKeys empty = make_initial_keys(kVersion1, ConnectionId());
    CHECK(empty.client.valid());
    CHECK(empty.server.valid());
}

// ---- stateless reset ----

TEST_CASE("stateless reset tokens: deterministic per key and CID, differ across keys") {
    const Bytes key1(32, 0x01), key2(32, 0x02);
    const StatelessResetTokenGenerator g1(key1), g1b(key1), g2(key2);
    const ConnectionId c1(from_hex("0011223344556677")), c2(from_hex("0011223344556678"));
    CHECK(g1.token_for(c1) == g1b.token_for(c1));
    CHECK(g1.token_for(c1) != g1.token_for(c2));
    CHECK(g1.token_for(c1) != g2.token_for(c1));
    CHECK(g1.token_for(ConnectionId()) != g2.token_for(ConnectionId()));
    // HMAC-SHA256(key, cid) truncated to 16 bytes.
    uint8_t mac[32];
    unsigned mac_len = 0;
    REQUIRE(HMAC(EVP_sha256(), key1.data(), key1.size(), c1.data(), c1.size(), mac, &mac_len));
    const StatelessResetToken t = g1.token_for(c1);
    CHECK(std::equal(t.begin(), t.end(), mac));
}

// ---- address validation tokens ----

namespace {

const Bytes kTokenKey =
    from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const Bytes kAddress = from_hex("04c0000201115c");  // family 4, 192.0.2.1, port 4444
const Bytes kOtherAddress = from_hex("04c0000202115c");
constexpr Time kIssued = time_from_ns(1'000'000'000'000);

AddressToken retry_token() {
    AddressToken t;
    t.kind = AddressTokenKind::kRetry;
    t.issued = kIssued;
    t.client_address = kAddress;
    t.original_dcid = ConnectionId(from_hex("8394c8f03e515708"));
    t.retry_scid = ConnectionId(from_hex("f067a5502a4262b5"));
    return t;
}

AddressToken new_token() {
    AddressToken t;
    t.kind = AddressTokenKind::kNewToken;
    t.issued = kIssued;
    t.client_address = kAddress;
    return t;
}

void check_invalid(const Result<AddressToken>& r, std::string_view reason) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is_transport(TransportErrorCode::kInvalidToken));
    CHECK(r.error().reason == reason);
}

}  // namespace

TEST_CASE("address tokens round trip") {
    AddressTokenCodec codec(kTokenKey);
    SeededRandom rng(5);
    for (const AddressToken& t : {retry_token(), new_token()}) {
        const Bytes sealed = codec.seal(t, rng);
        REQUIRE_FALSE(sealed.empty());
        CHECK(sealed.size() <= kMaxAddressTokenLength);
        CHECK(AddressTokenCodec::peek_kind(sealed) == t.kind);
        auto r = codec.open(sealed, kAddress, kIssued + 1s, 10s);
        REQUIRE(r.ok());
        CHECK(r->kind == t.kind);
        CHECK(r->issued == t.issued);
        CHECK(r->client_address == t.client_address);
        CHECK(r->original_dcid == t.original_dcid);
        CHECK(r->retry_scid == t.retry_scid);
        // A fresh nonce each time.
        CHECK(codec.seal(t, rng) != sealed);
    }
    // The largest token fits the cap exactly.
    AddressToken big = retry_token();
    big.client_address = Bytes(kMaxAddressTokenClientAddressLength, 9);
    big.original_dcid = ConnectionId(Bytes(20, 1));
    big.retry_scid = ConnectionId(Bytes(20, 2));
    const Bytes sealed = codec.seal(big, rng);
    CHECK(sealed.size() == kMaxAddressTokenLength);
    CHECK(codec.open(sealed, big.client_address, kIssued, 1s).ok());
    big.client_address.push_back(0);
    CHECK(codec.seal(big, rng).empty());
}

TEST_CASE("address tokens are rejected when tampered at any byte") {
    AddressTokenCodec codec(kTokenKey);
    SeededRandom rng(6);
    for (const AddressToken& t : {retry_token(), new_token()}) {
        const Bytes sealed = codec.seal(t, rng);
        for (size_t i = 0; i < sealed.size(); ++i) {
            CAPTURE(i);
            Bytes bad = sealed;
            bad[i] ^= 0x80;
            CHECK_FALSE(codec.open(bad, kAddress, kIssued, 10s).ok());
        }
    }
}

TEST_CASE("address tokens are rejected for another address, expired, or from the future") {
    AddressTokenCodec codec(kTokenKey);
    SeededRandom rng(7);
    const Bytes sealed = codec.seal(new_token(), rng);
    check_invalid(codec.open(sealed, kOtherAddress, kIssued, 10s),
                  "token issued to another address");
    check_invalid(codec.open(sealed, ByteSpan(kAddress).first(6), kIssued, 10s),
                  "token issued to another address");
    CHECK(codec.open(sealed, kAddress, kIssued + 10s, 10s).ok());
    check_invalid(codec.open(sealed, kAddress, kIssued + 10s + 1ns, 10s), "token expired");
    CHECK(codec.open(sealed, kAddress, kIssued - kAddressTokenMaxClockSkew, 10s).ok());
    check_invalid(codec.open(sealed, kAddress, kIssued - kAddressTokenMaxClockSkew - 1ns, 10s),
                  "token issued in the future");
}

TEST_CASE("address tokens: wrong kind, another key, truncated, oversized") {
    AddressTokenCodec codec(kTokenKey);
    SeededRandom rng(8);
    // A NEW_TOKEN token relabelled as a Retry token (and vice versa) fails authentication.
    Bytes relabelled = codec.seal(new_token(), rng);
    relabelled[0] = static_cast<uint8_t>(AddressTokenKind::kRetry);
    check_invalid(codec.open(relabelled, kAddress, kIssued, 10s), "token failed authentication");
    relabelled = codec.seal(retry_token(), rng);
    relabelled[0] = static_cast<uint8_t>(AddressTokenKind::kNewToken);
    check_invalid(codec.open(relabelled, kAddress, kIssued, 10s), "token failed authentication");
    Bytes unknown = codec.seal(new_token(), rng);
    unknown[0] = 0x7f;
    CHECK_FALSE(AddressTokenCodec::peek_kind(unknown).has_value());
    check_invalid(codec.open(unknown, kAddress, kIssued, 10s), "unknown token kind");

    // Another server's key.
    Bytes other_key = kTokenKey;
    other_key[31] ^= 1;
    AddressTokenCodec other(other_key);
    check_invalid(other.open(codec.seal(new_token(), rng), kAddress, kIssued, 10s),
                  "token failed authentication");

    // Truncated at every length, and oversized.
    const Bytes sealed = codec.seal(retry_token(), rng);
    for (size_t n = 0; n < sealed.size(); ++n) {
        CAPTURE(n);
        CHECK_FALSE(codec.open(ByteSpan(sealed).first(n), kAddress, kIssued, 10s).ok());
    }
    Bytes huge = sealed;
    huge.resize(kMaxAddressTokenLength + 1);
    check_invalid(codec.open(huge, kAddress, kIssued, 10s), "token has an impossible length");
    CHECK_FALSE(AddressTokenCodec::peek_kind({}).has_value());

    // A codec with a bad key refuses everything.
    AddressTokenCodec bad(Bytes(16, 0));
    CHECK(bad.seal(new_token(), rng).empty());
    CHECK_FALSE(bad.open(sealed, kAddress, kIssued, 10s).ok());
}
