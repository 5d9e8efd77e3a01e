#include "crypto/address_token.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace quic {

namespace {

constexpr size_t kHeaderLength = 1 + kAddressTokenNonceLength;  // kind || nonce
// issued time + version + address length byte, the least any plaintext holds.
constexpr size_t kMinPlaintextLength = 8 + 4 + 1;
constexpr size_t kMinTokenLength = kHeaderLength + kMinPlaintextLength + kAddressTokenTagLength;

Error invalid_token(std::string reason) {
    return Error::transport(TransportErrorCode::kInvalidToken, std::move(reason));
}

bool read_cid(ByteReader& r, ConnectionId& out) {
    uint8_t len;
    ByteSpan bytes;
    return r.read_u8(len) && r.read_bytes(len, bytes) && ConnectionId::from_bytes(bytes, out);
}

}  // namespace

AddressTokenCodec::AddressTokenCodec(ByteSpan key) {
    EVP_AEAD_CTX_zero(&ctx_);
    valid_ = key.size() == kAddressTokenKeyLength &&
             EVP_AEAD_CTX_init(&ctx_, EVP_aead_aes_256_gcm(), key.data(), key.size(),
                               kAddressTokenTagLength, nullptr) == 1;
}

AddressTokenCodec::~AddressTokenCodec() {
    EVP_AEAD_CTX_cleanup(&ctx_);
}

std::optional<AddressTokenKind> AddressTokenCodec::peek_kind(ByteSpan token) {
    if (token.empty()) return std::nullopt;
    switch (token[0]) {
        case static_cast<uint8_t>(AddressTokenKind::kRetry):
            return AddressTokenKind::kRetry;
        case static_cast<uint8_t>(AddressTokenKind::kNewToken):
            return AddressTokenKind::kNewToken;
        default:
            return std::nullopt;
    }
}

Bytes AddressTokenCodec::seal(const AddressToken& token, Random& random) const {
    if (!valid_ || token.client_address.size() > kMaxAddressTokenClientAddressLength) return {};
    std::array<uint8_t, kMaxAddressTokenLength> buf;
    ByteWriter w(buf);
    w.write_u8(static_cast<uint8_t>(token.kind));
    std::array<uint8_t, kAddressTokenNonceLength> nonce;
    random.fill(nonce);
    w.write_bytes(nonce);
    w.write_uint(static_cast<uint64_t>(time_to_ns(token.issued)), 8);
    w.write_uint(token.version, 4);
    w.write_u8(static_cast<uint8_t>(token.client_address.size()));
    w.write_bytes(token.client_address);
    if (token.kind == AddressTokenKind::kRetry) {
        w.write_u8(static_cast<uint8_t>(token.original_dcid.size()));
        w.write_bytes(token.original_dcid.bytes());
        w.write_u8(static_cast<uint8_t>(token.retry_scid.size()));
        w.write_bytes(token.retry_scid.bytes());
    }
    const size_t plaintext_len = w.size() - kHeaderLength;
    if (!w.ok() || w.remaining() < kAddressTokenTagLength) return {};

    uint8_t* plaintext = buf.data() + kHeaderLength;
    size_t tag_len = 0;
    if (!EVP_AEAD_CTX_seal_scatter(&ctx_, plaintext, plaintext + plaintext_len, &tag_len,
                                   kAddressTokenTagLength, buf.data() + 1, kAddressTokenNonceLength,
                                   plaintext, plaintext_len, nullptr, 0, buf.data(), 1) ||
        tag_len != kAddressTokenTagLength)
        return {};
    return Bytes(buf.begin(), buf.begin() + kHeaderLength + plaintext_len + tag_len);
}

Result<AddressToken> AddressTokenCodec::open(ByteSpan token, ByteSpan client_address, Time now,
                                             Duration max_age) const {
    if (token.size() < kMinTokenLength || token.size() > kMaxAddressTokenLength)
        return invalid_token("token has an impossible length");
    const std::optional<AddressTokenKind> kind = peek_kind(token);
    if (!kind) return invalid_token("unknown token kind");
    if (!valid_) return invalid_token("no token key");

    // Decrypt a copy: the token is in the received datagram, which the caller may still need.
    const size_t ciphertext_len = token.size() - kHeaderLength - kAddressTokenTagLength;
    std::array<uint8_t, kMaxAddressTokenLength> plaintext;
    if (!EVP_AEAD_CTX_open_gather(&ctx_, plaintext.data(), token.data() + 1,
                                  kAddressTokenNonceLength, token.data() + kHeaderLength,
                                  ciphertext_len, token.data() + kHeaderLength + ciphertext_len,
                                  kAddressTokenTagLength, token.data(), 1))
        return invalid_token("token failed authentication");

    // Authentic, so written by seal(); still parsed with bounds checks in case a server
    // sharing the key runs a different format.
    AddressToken t;
    t.kind = *kind;
    ByteReader r(ByteSpan(plaintext).first(ciphertext_len));
    uint64_t issued_ns = 0, version = 0;
    uint8_t address_len = 0;
    ByteSpan address;
    if (!r.read_uint(8, issued_ns) || !r.read_uint(4, version) || !r.read_u8(address_len) ||
        !r.read_bytes(address_len, address))
        return invalid_token("malformed token");
    if (t.kind == AddressTokenKind::kRetry &&
        (!read_cid(r, t.original_dcid) || !read_cid(r, t.retry_scid)))
        return invalid_token("malformed token");
    if (!r.empty()) return invalid_token("malformed token");
    t.issued = time_from_ns(static_cast<int64_t>(issued_ns));
    t.version = static_cast<Version>(version);
    t.client_address.assign(address.begin(), address.end());

    // §8.1.3/§8.1.4: the token must have been issued to this client address...
    if (address.size() != client_address.size() ||
        !std::equal(address.begin(), address.end(), client_address.begin()))
        return invalid_token("token issued to another address");
    // ... recently (§8.1.2: Retry tokens short-lived; §8.1.3: NEW_TOKEN tokens expire).
    if (t.issued > now + kAddressTokenMaxClockSkew)
        return invalid_token("token issued in the future");
    if (now > t.issued && now - t.issued > max_age) return invalid_token("token expired");
    return t;
}

}  // namespace quic
