// libFuzzer target: everything that reads a datagram before any key is applied
// (docs/architecture.md "Errors and limits"): the invariant header, the v1/v2 packet header,
// coalesced-packet splitting, the client's Version Negotiation checks and the stateless-reset
// candidate. Input: byte 0 picks the short-header DCID length (0..20, as a server may issue any of
// them) and the grease_quic_bit allowance; the rest is the datagram.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "wire/packet_header.h"
#include "wire/stateless_reset.h"
#include "wire/version_negotiation.h"

namespace {

using namespace quic;

// Facts the parser promises about a packet it accepted; a violation means the spans it
// returned could reach outside the datagram.
void check_header(const PacketHeader& h, ByteSpan packet) {
    if (h.packet_size == 0 || h.packet_size > packet.size()) std::abort();
    if (h.pn_offset > h.packet_size) std::abort();
    if (h.dcid.size() > kMaxConnectionIdLength || h.scid.size() > kMaxConnectionIdLength)
        std::abort();
    if (h.supported_versions.size() > kMaxVersionNegotiationVersions) std::abort();
}

void fuzz_version_negotiation(const PacketHeader& h) {
    if (h.type != PacketType::kVersionNegotiation) return;
    // Once with CIDs the packet echoes (so the version list is what is checked), once not.
    (void)version_negotiation_is_valid(h, kVersion1, h.scid, h.dcid);
    (void)version_negotiation_is_valid(h, kVersion2, h.scid, h.dcid);
    (void)version_negotiation_is_valid(h, kVersion1, ConnectionId(), ConnectionId());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const size_t dcid_length = (data[0] & 0x1f) % (kMaxConnectionIdLength + 1);
    const bool allow_fixed_bit_zero = data[0] & 0x80;
    // A heap copy of exactly the datagram, so ASan sees any read past its end.
    const std::vector<uint8_t> datagram(data + 1, data + size);
    const ByteSpan d(datagram);

    if (auto inv = parse_invariant_header(d, dcid_length); inv.ok()) {
        if (inv->dcid.size() > kMaxInvariantConnectionIdLength) std::abort();
    }
    if (auto h = parse_packet_header(d, dcid_length, allow_fixed_bit_zero); h.ok()) {
        check_header(*h, d);
        fuzz_version_negotiation(*h);
    }
    // Several DCID lengths over the same bytes: the endpoint tries its own length, and a
    // mismatch must still be handled safely.
    for (size_t len : {dcid_length, size_t{0}, size_t{8}, kMaxConnectionIdLength}) {
        const SplitDatagram split = split_coalesced_packets(d, len, allow_fixed_bit_zero);
        if (split.packets.size() > kMaxCoalescedPackets) std::abort();
        size_t total = split.dropped_bytes;
        for (const auto& p : split.packets) {
            if (p.bytes.size() != p.header.packet_size) std::abort();
            check_header(p.header, p.bytes);
            fuzz_version_negotiation(p.header);
            total += p.bytes.size();
        }
        if (total > d.size()) std::abort();
    }
    (void)stateless_reset_token_candidate(d);
    return 0;
}
