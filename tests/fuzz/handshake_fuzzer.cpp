// libFuzzer target: the server's decrypted handshake path (issue 13; docs/hardening.md). The other
// fuzzers cannot get there: a client Initial must decrypt and carry a ClientHello that TLS
// accepts before the server ever looks at the client's transport parameters.
//
// Every input gets a real client and server Endpoint in memory (SeededRandom, a virtual clock,
// datagrams handed over directly, as tests/fuzz/connection_fuzzer.cpp does). Byte 0 picks what
// the rest of the input is (mode = byte 0 % 3):
//   0  the client's whole transport parameters extension body, as sent in its ClientHello
//      (ConnectionConfig::transport_parameters_override_for_testing);
//   1  bytes appended to the client's own (valid) extension body: duplicates, unknown ids and
//      out-of-range values after real parameters, with every other handshake field right;
//   2  an XOR mask over the CRYPTO frame data of the client's first Initial (bytes 1-2: the
//      offset into the CRYPTO data, big-endian; the rest: the mask), applied to the decrypted
//      packet, which is then protected again, so the server's TLS sees a mutated ClientHello.
// Then both sides exchange datagrams and run their timers for a few rounds, so a handshake that
// gets through goes on to 1-RTT. Properties: no crash, no sanitizer report, no leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "crypto/initial_secrets.h"
#include "crypto/packet_protection.h"
#include "fuzz_tls.h"
#include "quic/endpoint.h"
#include "quic/frame.h"
#include "quic/random.h"
#include "quic/transport_parameters.h"
#include "wire/packet_header.h"

namespace {

using namespace quic;
using namespace std::chrono_literals;

constexpr int kRounds = 8;
constexpr size_t kMaxDatagramsPerRound = 32;  // bounds the time one input can take

using fuzz::tls;

// XORs `mask` into the CRYPTO data of the Initial at the start of `datagram`, from `offset`
// on, and protects the packet again (RFC 9001 §5). Leaves the datagram alone if it is not a
// client Initial that opens.
void mutate_client_hello(Bytes& datagram, size_t offset, ByteSpan mask) {
    auto header = parse_packet_header(datagram, 0);
    if (!header.ok() || header->type != PacketType::kInitial) return;
    MutableByteSpan packet(datagram.data(), header->packet_size);
    InitialKeys keys = make_initial_keys(header->version, header->dcid);
    if (!keys.client.valid()) return;
    auto uh = remove_header_protection(packet, header->pn_offset, *keys.client.header);
    if (!uh.ok()) return;
    const uint64_t pn = uh->truncated_pn;  // the client's first packet: nothing to decode against
    auto plain = open_packet_payload(packet, *uh, pn, *keys.client.packet);
    if (!plain) return;
    ByteSpan payload(packet.data() + uh->header_length, *plain);
    ByteReader r(payload);
    size_t seen = 0;  // CRYPTO data bytes before the current frame's
    while (!r.empty()) {
        auto frame = parse_frame(r, PacketType::kInitial);
        if (!frame.ok()) return;
        auto* crypto = std::get_if<CryptoFrame>(&*frame);
        if (!crypto) continue;
        // The frame's data points into the plaintext: mutate it in place.
        uint8_t* data = packet.data() + (crypto->data.data() - packet.data());
        for (size_t i = 0; i < mask.size(); ++i) {
            const size_t at = offset + i;
            if (at >= seen && at < seen + crypto->data.size()) data[at - seen] ^= mask[i];
        }
        seen += crypto->data.size();
    }
    if (!protect_packet(packet, header->pn_offset, uh->pn_length, *plain, pn, *keys.client.packet,
                        *keys.client.header))
        std::abort();  // it was a valid packet a moment ago
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 3;
    // A heap copy of exactly the input, so ASan sees any read past its end.
    const Bytes rest(data + 1, data + size);

    EndpointConfig cc, sc;
    cc.client_tls = tls().client;
    sc.server_tls = tls().server;
    sc.static_key = Bytes(32, 7);
    if (mode == 0) {
        cc.connection.transport_parameters_override_for_testing =
            [&rest](const TransportParameters&) { return rest; };
    } else if (mode == 1) {
        cc.connection.transport_parameters_override_for_testing =
            [&rest](const TransportParameters& ours) {
                auto enc = encode_transport_parameters(ours, Role::kClient);
                if (!enc.ok()) std::abort();
                Bytes out = std::move(enc).value();
                out.insert(out.end(), rest.begin(), rest.end());
                return out;
            };
    }
    SeededRandom rng(1);  // before the endpoints, which keep a reference
    Endpoint server(sc, rng);
    Endpoint client(cc, rng);
    const SocketAddress ca = SocketAddress::ipv4({10, 0, 0, 1}, 5000);
    const SocketAddress sa = SocketAddress::ipv4({10, 0, 0, 2}, 443);
    Time now = time_from_ns(1'000'000'000);
    auto conn = client.connect(now, Path{ca, sa}, ConnectOptions{"server"});
    if (!conn) return 0;  // a client may refuse its own extension (none today)
    std::shared_ptr<Connection> sconn;
    bool mutated = false;
    uint8_t buf[2048];
    for (int round = 0; round < kRounds; ++round) {
        for (size_t i = 0; i < kMaxDatagramsPerRound; ++i) {
            auto t = client.poll_transmit(now, buf);
            if (!t) break;
            Bytes d(buf, buf + t->size);
            if (mode == 2 && !mutated && rest.size() >= 2) {
                mutated = true;
                const size_t offset = (size_t{rest[0]} << 8) | rest[1];
                mutate_client_hello(d, offset, ByteSpan(rest).subspan(2));
            }
            server.on_datagram(now, Path{sa, ca}, Ecn::kNotEct, d);
        }
        if (!sconn) sconn = server.accept();
        for (size_t i = 0; i < kMaxDatagramsPerRound; ++i) {
            auto t = server.poll_transmit(now, buf);
            if (!t) break;
            client.on_datagram(now, Path{ca, sa}, Ecn::kNotEct, MutableByteSpan(buf, t->size));
        }
        for (auto* c : {conn->get(), sconn.get()})
            if (c)
                while (c->poll_event()) {
                }
        now += 20ms;
        client.on_timeout(now);
        server.on_timeout(now);
    }
    return 0;
}
