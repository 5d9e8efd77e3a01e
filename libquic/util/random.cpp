#include "quic/random.h"

#include <openssl/rand.h>

namespace quic {

void CryptoRandom::fill(std::span<uint8_t> out) {
    if (!out.empty()) RAND_bytes(out.data(), out.size());
}

SeededRandom::SeededRandom(uint64_t seed) {
    for (auto& s : s_) {  // splitmix64
        seed += 0x9e3779b97f4a7c15ull;
        uint64_t z = seed;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        s = z ^ (z >> 31);
    }
}

uint64_t SeededRandom::next() {
    auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

void SeededRandom::fill(std::span<uint8_t> out) {
    size_t i = 0;
    while (i < out.size()) {
        uint64_t v = next();
        for (int b = 0; b < 8 && i < out.size(); ++b, ++i)
            out[i] = static_cast<uint8_t>(v >> (8 * b));
    }
}

}  // namespace quic
