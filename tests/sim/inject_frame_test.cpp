// Connection::inject_frame (the path of quiver replay's `quic_frame` action, docs/replay.md):
// each frame kind it takes reaches the peer exactly as encoded (the peer's core decodes it,
// and its encoding is compared), and the kinds it refuses, frames it cannot encode, a frame
// too large and one too many waiting are refused with kInvalidArgument and a reason, without
// touching the connection.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "quic/frame.h"
#include "quic/tracer.h"
#include "sim/file_transfer.h"
#include "sim/harness.h"

using namespace quic;
using namespace quic::sim;
using namespace std::chrono_literals;

namespace {

Bytes encode(const Frame& f) {
    Bytes out(encoded_size(f) + 16);
    ByteWriter w(out);
    REQUIRE(encode_frame(w, f));
    out.resize(w.size());
    return out;
}

// The server's core reports every frame it decoded from a 1-RTT packet: kept encoded again.
struct ReceivedFrames final : trace::Tracer {
    void packet_received(Time, const trace::PacketHeaderInfo& h,
                         std::span<const Frame> frames) override {
        if (h.type != PacketType::kOneRtt) return;
        for (const Frame& f : frames) encoded.push_back(encode(f));
    }
    std::vector<Bytes> encoded;
};

struct Pair {
    Simulation sim{7, {}, {}};
    std::shared_ptr<ReceivedFrames> received = std::make_shared<ReceivedFrames>();
    Endpoint* server = nullptr;
    Endpoint* client = nullptr;
    std::shared_ptr<Connection> sconn, cconn;

    Pair() {
        auto tls = make_sim_tls();
        REQUIRE(tls.ok());
        EndpointConfig sc, cc;
        sc.server_tls = tls->server;
        cc.client_tls = tls->client;
        sc.tracer_factory = [r = received](Role, const ConnectionId&) { return r; };
        server = &sim.add_server(sc);
        client = &sim.add_client(cc);
        sim.set_on_step(*server, [this](Time) {
            if (!sconn) sconn = server->accept();
            if (sconn)
                while (sconn->poll_event()) {
                }
        });
        sim.set_on_step(*client, [this](Time now) {
            if (!cconn) {
                auto c = client->connect(now, sim.client_path(*client), ConnectOptions{"server"});
                REQUIRE(c.ok());
                cconn = *c;
            }
            while (cconn->poll_event()) {
            }
        });
        REQUIRE(sim.run_until(
                       [&] {
                           return sconn && cconn && sconn->is_handshake_complete() &&
                                  cconn->is_handshake_complete();
                       },
                       5s)
                    .done());
    }
    bool arrived(const Bytes& frame) const {
        for (const Bytes& b : received->encoded)
            if (b == frame) return true;
        return false;
    }
};

// Every kind inject_frame takes (connection.h), with values the peer accepts; the last one
// ends the connection (see its test).
std::vector<std::pair<std::string, Frame>> injectable(ByteSpan data) {
    return {
        {"PING", PingFrame{}},
        {"MAX_DATA", MaxDataFrame{1u << 30}},
        {"MAX_STREAM_DATA", MaxStreamDataFrame{0, 1u << 24}},
        {"MAX_STREAMS", MaxStreamsFrame{true, 200}},
        {"DATA_BLOCKED", DataBlockedFrame{12345}},
        {"STREAM_DATA_BLOCKED", StreamDataBlockedFrame{0, 777}},
        {"STREAMS_BLOCKED", StreamsBlockedFrame{false, 3}},
        {"STREAM", StreamFrame{4, 0, data, true, true}},
        {"RESET_STREAM", ResetStreamFrame{8, 0x10c, 0}},
        {"STOP_SENDING", StopSendingFrame{0, 0x10c}},
        {"RETIRE_CONNECTION_ID", RetireConnectionIdFrame{1}},
    };
}

}  // namespace

TEST_CASE("inject_frame: each kind it takes reaches the peer as encoded") {
    Pair p;
    // Stream 0 is open on both sides, so the stream-level frames name a stream that exists.
    auto s = p.cconn->open_stream(true);
    REQUIRE(s.ok());
    REQUIRE(*s == 0);
    const uint8_t hello[] = {'h', 'i'};
    REQUIRE(p.cconn->write(0, hello).ok());
    REQUIRE(p.sim.run_for(50ms).status != RunResult::Status::kError);
    const uint8_t data[] = {'i', 'n', 'j'};
    for (const auto& kind : injectable(data)) {
        // Not a structured binding: CAPTURE's lambda cannot capture one (clang 14).
        const std::string& name = kind.first;
        const Frame& frame = kind.second;
        CAPTURE(name);
        const size_t before = p.received->encoded.size();
        REQUIRE(p.cconn->inject_frame(frame).ok());
        REQUIRE(p.sim.run_for(50ms).status != RunResult::Status::kError);
        CHECK(p.received->encoded.size() > before);
        CHECK(p.arrived(encode(frame)));
        if (name == "RETIRE_CONNECTION_ID") break;  // the last: see below
        CHECK_FALSE(p.sconn->close_reason().has_value());
    }
    // Our own connection does not follow an injected frame (connection.h): the server replaces
    // the connection ID the client retired with a new one, which the client, unaware, holds on
    // top of its limit: it closes with CONNECTION_ID_LIMIT_ERROR (RFC 9000 §5.1.1).
    REQUIRE(p.cconn->close_reason());
    CHECK(p.cconn->close_reason()->error.code ==
          static_cast<uint64_t>(TransportErrorCode::kConnectionIdLimitError));
}

TEST_CASE("inject_frame: MAX_STREAMS above 2^60 goes as written, and the peer closes") {
    // Its encoder refuses the count (RFC 9000 §19.11); inject_frame writes it by hand, which is
    // what a test injects it for: the peer must close with FRAME_ENCODING_ERROR.
    Pair p;
    REQUIRE(p.cconn->inject_frame(MaxStreamsFrame{true, (uint64_t{1} << 60) + 1}).ok());
    (void)p.sim.run_until([&] { return p.sconn->close_reason().has_value(); }, 1s);
    REQUIRE(p.sconn->close_reason());
    CHECK(p.sconn->close_reason()->error.code ==
          static_cast<uint64_t>(TransportErrorCode::kFrameEncodingError));
}

TEST_CASE("inject_frame: refused kinds, unencodable and oversized frames, too many waiting") {
    Pair p;
    struct Refused {
        std::string name;
        Frame frame;
        std::string reason;
    };
    const Bytes big(2000, 'x');
    const uint8_t one[] = {1};
    const Refused refused[] = {
        {"ACK", AckFrame{}, "this frame type cannot be injected"},
        {"CRYPTO", CryptoFrame{0, one}, "this frame type cannot be injected"},
        {"NEW_CONNECTION_ID", NewConnectionIdFrame{}, "this frame type cannot be injected"},
        {"HANDSHAKE_DONE", HandshakeDoneFrame{}, "this frame type cannot be injected"},
        {"DATAGRAM", DatagramFrame{one, true}, "this frame type cannot be injected"},
        {"CONNECTION_CLOSE", ConnectionCloseFrame{}, "this frame type cannot be injected"},
        {"STREAM too large", StreamFrame{0, 0, big, false, true}, "injected frame too large"},
        {"STREAM ID beyond 2^62", StreamFrame{uint64_t{1} << 62, 0, one, false, true},
         "the frame cannot be encoded"},
        {"MAX_DATA beyond 2^62", MaxDataFrame{uint64_t{1} << 62}, "the frame cannot be encoded"},
    };
    for (const Refused& r : refused) {
        CAPTURE(r.name);
        auto st = p.cconn->inject_frame(r.frame);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().kind == ErrorKind::kInvalidArgument);
        CHECK(st.error().reason == r.reason);
    }
    // 16 wait for the next packet (conn/limits.h kMaxInjectedFrames); the 17th is refused.
    for (int i = 0; i < 16; ++i) REQUIRE(p.cconn->inject_frame(PingFrame{}).ok());
    auto st = p.cconn->inject_frame(PingFrame{});
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().reason == "too many injected frames waiting");
    // None of it hurt the connection.
    REQUIRE(p.sim.run_for(100ms).status != RunResult::Status::kError);
    CHECK_FALSE(p.sconn->close_reason().has_value());
    CHECK_FALSE(p.cconn->close_reason().has_value());
    CHECK(p.cconn->inject_frame(PingFrame{}).ok());
}
