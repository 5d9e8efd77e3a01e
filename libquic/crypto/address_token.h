// Address validation tokens, RFC 9000 §8.1.1-§8.1.4: what a server puts in a Retry packet
// (§8.1.2) or a NEW_TOKEN frame (§8.1.3) and later checks in the client's Initial. Only the
// server that issued a token (or one sharing its key) can read it, so the format is ours:
//
//   kind (1) || nonce (12) || AES-256-GCM(plaintext, associated data = kind) || tag (16)
//   plaintext = issued time (8, ns, big-endian) || address length (1) || client address
//               || [Retry only: ODCID length (1) || ODCID || Retry SCID length (1) || SCID]
//
// The kind is in the clear so that a server can tell, even for a token that fails to open,
// whether to close the connection with INVALID_TOKEN (a Retry token, §8.1.2) or to ignore
// the token and carry on (a NEW_TOKEN token, §8.1.3); it is authenticated, so changing it
// breaks the token and a NEW_TOKEN token cannot be replayed as a Retry token.
#pragma once

#include <openssl/aead.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "quic/bytes.h"
#include "quic/connection_id.h"
#include "quic/random.h"
#include "quic/result.h"
#include "quic/time.h"
#include "quic/version.h"

namespace quic {

enum class AddressTokenKind : uint8_t {
    kRetry = 0x01,     // §8.1.2: single use, short-lived, carries the connection IDs
    kNewToken = 0x02,  // §8.1.3: for a future connection
};

struct AddressToken {
    AddressTokenKind kind = AddressTokenKind::kNewToken;
    Time issued{};
    // The client's address as the caller encodes it (family, IP, port); compared bytewise.
    Bytes client_address;
    // The QUIC version of the connection that issued it (RFC 9369 §5: a token only validates
    // a connection of that version; a Retry token, the version of the Retry).
    Version version = 0;
    // Retry tokens only (§8.1.2, §7.3): the client's original Destination Connection ID and
    // the Source Connection ID of our Retry, for the original_destination_connection_id and
    // retry_source_connection_id transport parameters. Empty for NEW_TOKEN tokens.
    ConnectionId original_dcid;
    ConnectionId retry_scid;
};

inline constexpr size_t kAddressTokenKeyLength = 32;  // AES-256-GCM
inline constexpr size_t kAddressTokenNonceLength = 12;
inline constexpr size_t kAddressTokenTagLength = 16;
// Family (1) + IPv6 address (16) + port (2) + scope ID (4) = 23 bytes; 32 leaves slack for
// the caller's encoding.
inline constexpr size_t kMaxAddressTokenClientAddressLength = 32;
// The longest token seal() produces. A longer token is not ours, so open() rejects it before
// any copying or decryption: this bounds the work one Initial can make us do.
inline constexpr size_t kMaxAddressTokenLength =
    1 + kAddressTokenNonceLength + 8 + 4 + 1 + kMaxAddressTokenClientAddressLength + 1 +
    kMaxConnectionIdLength + 1 + kMaxConnectionIdLength + kAddressTokenTagLength;
// How far in the future an issue time may be: servers sharing a key may not share a clock
// exactly. Beyond this the token is rejected as forged or from a misconfigured peer server.
inline constexpr Duration kAddressTokenMaxClockSkew = std::chrono::seconds(5);

class AddressTokenCodec {
  public:
    // `key`: kAddressTokenKeyLength secret bytes, shared by all servers that must accept each
    // other's tokens. Keys of any other length leave the codec unusable: seal() returns an
    // empty token and open() rejects everything.
    explicit AddressTokenCodec(ByteSpan key);
    ~AddressTokenCodec();
    AddressTokenCodec(const AddressTokenCodec&) = delete;
    AddressTokenCodec& operator=(const AddressTokenCodec&) = delete;

    // The token bytes for a Retry packet or NEW_TOKEN frame; the nonce comes from `random`
    // (random 96-bit nonces: rotate the key well before 2^32 tokens, NIST SP 800-38D §8.3).
    // Empty when the client address is longer than kMaxAddressTokenClientAddressLength or the
    // codec has no valid key.
    Bytes seal(const AddressToken& token, Random& random) const;

    // Opens and validates a token from a client's Initial. Fails with INVALID_TOKEN and a
    // reason when the token is malformed, not authentic (tampered, foreign, sealed with
    // another key), issued to an address other than `client_address`, older than `max_age`,
    // or issued more than kAddressTokenMaxClockSkew after `now`. The caller checks the kind
    // and decides: close for a Retry token (§8.1.2), ignore for a NEW_TOKEN token (§8.1.3).
    Result<AddressToken> open(ByteSpan token, ByteSpan client_address, Time now,
                              Duration max_age) const;

    // The token's claimed kind, unauthenticated (see above); nullopt if empty or unknown.
    static std::optional<AddressTokenKind> peek_kind(ByteSpan token);

  private:
    EVP_AEAD_CTX ctx_;
    bool valid_ = false;
};

}  // namespace quic
