// libFuzzer target: the receive path of a real connection (docs/architecture.md, "Errors and
// limits": bad input closes the connection or drops the packet, never crashes or grows without
// bound).
//
// A client and a server Endpoint are handshaken in memory (datagrams handed over directly, a
// virtual clock, SeededRandom), as tests/sim/scenarios_test.cpp does. The input is a sequence
// of records [op][length: 2 bytes, big-endian][bytes]; op & 1 picks the receiver (0 the
// server, 1 the client) and op >> 1 & 3 what the bytes are:
//   0  frames: a decrypted 1-RTT payload for the connection's frame processing
//      (ConnectionImpl::receive_frames_for_testing), which needs no keys;
//   1  an XOR mask over a recorded datagram of the handshake or of a short transfer (byte 0
//      picks the datagram, byte 1 the offset), so header fields, lengths and ciphertext all
//      get mutated;
//   2  a datagram body after a real short header (so it routes to the connection and reaches
//      header protection and AEAD);
//   3  a datagram on its own (unrouted: Version Negotiation, stateless reset, new Initials).
// After each record both endpoints exchange datagrams and run their timers for a few rounds,
// so whatever it queued (ACKs, PATH_RESPONSE, CONNECTION_CLOSE, stream data) is sent and
// processed too. A handshake costs about a millisecond, so every input gets a fresh pair:
// a crash reproduces from its one file, and records give the fuzzer depth.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "conn/test_access.h"
#include "fuzz_tls.h"
#include "quic/endpoint.h"
#include "quic/random.h"

namespace {

using namespace quic;
using namespace std::chrono_literals;

constexpr int kRoundsPerRecord = 3;
constexpr size_t kMaxDatagramsPerRound = 64;  // bounds the time one input can take

using fuzz::tls;

EndpointConfig config(bool server) {
    EndpointConfig c;
    if (server) {
        c.server_tls = tls().server;
        c.static_key = Bytes(32, 7);
    } else {
        c.client_tls = tls().client;
    }
    return c;
}

struct Pair {
    SeededRandom rng{1};  // before the endpoints, which keep a reference
    Endpoint server{config(true), rng};
    Endpoint client{config(false), rng};
    const SocketAddress ca = SocketAddress::ipv4({10, 0, 0, 1}, 5000);
    const SocketAddress sa = SocketAddress::ipv4({10, 0, 0, 2}, 443);
    Time now = time_from_ns(1'000'000'000);
    std::shared_ptr<Connection> cconn, sconn;
    std::vector<Bytes> to_server, to_client;  // every datagram sent, for mode 1
    Bytes short_header;                       // a real 1-RTT header to the server, for mode 2
    uint8_t buf[2048];

    // Hands every queued datagram to the other side; records them while `record`.
    void exchange(bool record) {
        for (size_t i = 0; i < kMaxDatagramsPerRound; ++i) {
            auto t = client.poll_transmit(now, buf);
            if (!t) break;
            if (record) to_server.emplace_back(buf, buf + t->size);
            server.on_datagram(now, Path{sa, ca}, Ecn::kNotEct, MutableByteSpan(buf, t->size));
        }
        if (!sconn) sconn = server.accept();
        for (size_t i = 0; i < kMaxDatagramsPerRound; ++i) {
            auto t = server.poll_transmit(now, buf);
            if (!t) break;
            if (record) to_client.emplace_back(buf, buf + t->size);
            client.on_datagram(now, Path{ca, sa}, Ecn::kNotEct, MutableByteSpan(buf, t->size));
        }
        // Events are never read by anyone else: drain them so the queues stay small.
        for (auto* c : {cconn.get(), sconn.get()})
            if (c)
                while (c->poll_event()) {
                }
    }

    void round(bool record) {
        exchange(record);
        now += 5ms;
        client.on_timeout(now);
        server.on_timeout(now);
    }

    bool established() const {
        return cconn && sconn && cconn->state() == ConnectionState::kEstablished &&
               sconn->state() == ConnectionState::kEstablished;
    }

    Pair() {
        auto c = client.connect(now, Path{ca, sa}, ConnectOptions{"server"});
        if (!c) std::abort();
        cconn = *c;
        for (int i = 0; i < 50 && !(established() && cconn->is_handshake_complete()); ++i)
            round(true);
        if (!established()) std::abort();  // the fuzzer is useless without a connection
        // Some 1-RTT traffic both ways, so mode 1 also mutates short-header packets.
        auto sid = cconn->open_stream(true);
        const uint8_t hello[] = {'G', 'E', 'T', ' ', '/', '\r', '\n'};
        if (sid) (void)cconn->write(*sid, hello, true);
        for (int i = 0; i < 5; ++i) round(true);
        for (const Bytes& d : to_server)
            if (!d.empty() && !(d[0] & 0x80)) short_header.assign(d.begin(), d.begin() + 1 + 8);
        if (short_header.empty()) std::abort();
    }
};

void deliver(Endpoint& to, const Path& path, Bytes datagram, Time now) {
    if (datagram.empty()) return;
    to.on_datagram(now, path, Ecn::kNotEct, datagram);
}

void apply(Pair& p, uint8_t op, ByteSpan bytes) {
    const bool to_client = op & 1;
    Endpoint& endpoint = to_client ? p.client : p.server;
    const Path path = to_client ? Path{p.ca, p.sa} : Path{p.sa, p.ca};
    // A heap copy of exactly the record, so ASan sees any read past its end.
    const Bytes rest(bytes.begin(), bytes.end());
    switch ((op >> 1) & 3) {
        case 0: {
            Connection& conn = to_client ? *p.cconn : *p.sconn;
            // A closing or closed connection gets no decrypted packets (the endpoint and the
            // connection's own receive path stop them first); the hook skips those checks.
            if (conn.state() != ConnectionState::kEstablished) break;
            ConnectionTestAccess::receive_frames(conn, p.now, PacketType::kOneRtt, rest);
            break;
        }
        case 1: {
            if (rest.size() < 2) break;
            const auto& recorded = to_client ? p.to_client : p.to_server;
            Bytes d = recorded[rest[0] % recorded.size()];
            for (size_t i = 2; i < rest.size(); ++i) d[(rest[1] + i - 2) % d.size()] ^= rest[i];
            deliver(endpoint, path, std::move(d), p.now);
            break;
        }
        case 2: {
            Bytes d = p.short_header;
            d.insert(d.end(), rest.begin(), rest.end());
            deliver(p.server, Path{p.sa, p.ca}, std::move(d), p.now);
            break;
        }
        case 3:
            deliver(endpoint, path, rest, p.now);
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Pair p;
    ByteReader r(ByteSpan(data, size));
    uint8_t op = 0;
    uint16_t length = 0;
    ByteSpan bytes;
    while (r.read_u8(op) && r.read_u16(length) &&
           r.read_bytes(std::min<size_t>(length, r.remaining()), bytes)) {
        apply(p, op, bytes);
        for (int i = 0; i < kRoundsPerRecord; ++i) p.round(false);
    }
    return 0;
}
