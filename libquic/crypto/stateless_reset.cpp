#include "crypto/stateless_reset.h"

#include <openssl/digest.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>

#include <algorithm>
#include <cstring>

namespace quic {

StatelessResetTokenGenerator::StatelessResetTokenGenerator(ByteSpan static_key) {
    if (!static_key.empty())
        std::memcpy(key_.data(), static_key.data(), std::min(static_key.size(), key_.size()));
}

StatelessResetTokenGenerator::~StatelessResetTokenGenerator() {
    OPENSSL_cleanse(key_.data(), key_.size());
}

StatelessResetToken StatelessResetTokenGenerator::token_for(const ConnectionId& cid) const {
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    StatelessResetToken token{};
    if (HMAC(EVP_sha256(), key_.data(), key_.size(), cid.data(), cid.size(), mac, &mac_len) &&
        mac_len >= token.size())
        std::memcpy(token.data(), mac, token.size());
    return token;
}

}  // namespace quic
