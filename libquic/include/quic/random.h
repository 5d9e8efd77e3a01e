// Injected randomness (docs/architecture.md, "Sans-IO core"): the core never calls an RNG of its
// own. Real endpoints use CryptoRandom (BoringSSL's RAND_bytes); tests and the simulator use
// SeededRandom so that one seed gives one run.
#pragma once

#include <cstdint>
#include <span>

namespace quic {

class Random {
  public:
    virtual ~Random() = default;
    virtual void fill(std::span<uint8_t> out) = 0;

    uint64_t next_u64() {
        uint8_t b[8];
        fill(b);
        uint64_t v = 0;
        for (uint8_t x : b) v = (v << 8) | x;
        return v;
    }
    // Uniform in [0, bound); bound must be > 0.
    uint64_t uniform(uint64_t bound) { return next_u64() % bound; }
};

class CryptoRandom final : public Random {
  public:
    void fill(std::span<uint8_t> out) override;
};

// xoshiro256** seeded through splitmix64: fast, deterministic, not for secrets.
class SeededRandom final : public Random {
  public:
    explicit SeededRandom(uint64_t seed);
    void fill(std::span<uint8_t> out) override;

  private:
    uint64_t next();
    uint64_t s_[4];
};

}  // namespace quic
