// libFuzzer target: decode_transport_parameters, the peer's TLS extension body
// (docs/architecture.md "Errors and limits"), decoded as if sent by a client and by a server.
// Property: whatever decodes re-encodes (the decoder only accepts what a sender may send)
// and decodes back to the same value, with and without a GREASE parameter appended.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "quic/random.h"
#include "quic/transport_parameters.h"

namespace {

using namespace quic;

void check_round_trip(const TransportParameters& params, Role sender, Random* grease) {
    auto encoded = encode_transport_parameters(params, sender, grease);
    if (!encoded.ok()) std::abort();
    auto decoded = decode_transport_parameters(*encoded, sender);
    if (!decoded.ok() || !(*decoded == params)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A heap copy of exactly the input, so ASan sees any read past its end.
    const std::vector<uint8_t> body(data, data + size);
    SeededRandom grease(size);
    for (Role sender : {Role::kClient, Role::kServer}) {
        auto params = decode_transport_parameters(body, sender);
        if (!params.ok()) continue;
        if (params->version_information &&
            params->version_information->available_versions.size() > kMaxAvailableVersions)
            std::abort();
        check_round_trip(*params, sender, nullptr);
        check_round_trip(*params, sender, &grease);
    }
    return 0;
}
