// The latency spin bit (RFC 9000 §17.4): the server reflects the spin value of the client's
// latest 1-RTT packet, the client inverts the server's, so the bit seen on the wire flips
// once per round trip. Each connection decides alone whether it spins; the RFC has every
// endpoint disable it for a random one in 16 network paths or connection IDs (we decide per
// connection, which has one path and one peer connection ID at a time here).
#pragma once

#include <cstdint>

#include "quic/random.h"
#include "quic/transport_parameters.h"

namespace quic {

// RFC 9000 §17.3.1: the spin bit of a short header's first byte (not header-protected).
inline constexpr uint8_t kSpinBitMask = 0x20;

class SpinBit {
  public:
    // §17.4: "at least one in every 16".
    static constexpr uint64_t kDisableOneIn = 16;

    SpinBit(Role role, bool allowed, Random& random)
        : client_(role == Role::kClient),
          enabled_(allowed && random.uniform(kDisableOneIn) != 0),
          // §17.4: a disabled endpoint RECOMMENDED sends a random value, chosen per connection
          // ID (or per packet); ours is chosen once for the connection.
          value_(!enabled_ && random.uniform(2) == 1) {}

    bool enabled() const { return enabled_; }
    // The bit for the next 1-RTT packet.
    bool value() const { return value_; }

    // A 1-RTT packet that raised the largest packet number received (§17.4). A disabled
    // endpoint ignores the incoming value.
    void on_largest_received(bool spin) {
        if (enabled_) value_ = client_ ? !spin : spin;
    }
    // §17.4: the spin value restarts at 0 when the connection ID in use on the path changes.
    void on_connection_id_changed() {
        if (enabled_) value_ = false;
    }

  private:
    bool client_;
    bool enabled_;
    bool value_;
};

}  // namespace quic
