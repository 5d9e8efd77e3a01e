// Writes the seed corpora under tests/fuzz/corpus/<target>/ (committed; rerun after a format
// change): a few valid inputs per target, built with the library's own encoders so they stay
// in step with what the parsers accept. Usage: make_corpus <tests/fuzz/corpus>.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "http3/frame.h"
#include "http3/qpack_encoder.h"
#include "quic/frame.h"
#include "quic/random.h"
#include "quic/transport_parameters.h"
#include "wire/packet_header.h"
#include "wire/version_negotiation.h"

namespace {

using namespace quic;
namespace fs = std::filesystem;

fs::path root;

void write(const std::string& target, const std::string& name, const Bytes& bytes) {
    fs::create_directories(root / target);
    std::ofstream(root / target / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
}

Bytes encode(const std::vector<Frame>& frames) {
    Bytes out;
    for (const Frame& f : frames) {
        Bytes b(encoded_size(f));
        ByteWriter w(b);
        if (encode_frame(w, f)) out.insert(out.end(), b.begin(), b.end());
    }
    return out;
}

const uint8_t kData[] = {'h', 'e', 'l', 'l', 'o'};
const uint8_t kCid[] = {1, 2, 3, 4, 5, 6, 7, 8};

// Frames a 1-RTT packet may carry, one list per seed.
std::vector<std::vector<Frame>> one_rtt_frames() {
    AckFrame ack{.largest_acknowledged = 10, .ack_delay = 3, .ranges = {{8, 10}, {2, 5}}};
    AckFrame ack_ecn{.largest_acknowledged = 3, .ranges = {{0, 3}}, .ecn = EcnCounts{1, 0, 1}};
    NewConnectionIdFrame ncid{.sequence_number = 1, .connection_id = ConnectionId(kCid)};
    return {
        {PingFrame{}, PaddingFrame{4}},
        {ack, ack_ecn},
        {StreamFrame{.stream_id = 0, .offset = 0, .data = kData, .fin = true}},
        {StreamFrame{.stream_id = 4, .offset = 100, .data = kData, .has_length = false}},
        {CryptoFrame{.offset = 0, .data = kData}, NewTokenFrame{kData}},
        {MaxDataFrame{1 << 20}, MaxStreamDataFrame{0, 1 << 16}, MaxStreamsFrame{true, 100}},
        {DataBlockedFrame{10}, StreamDataBlockedFrame{0, 10}, StreamsBlockedFrame{false, 3}},
        {ResetStreamFrame{0, 1, 5}, StopSendingFrame{4, 2}},
        {ncid, RetireConnectionIdFrame{0}},
        {PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}}, PathResponseFrame{{8, 7, 6, 5, 4, 3, 2, 1}}},
        {ConnectionCloseFrame{.error_code = 0xa, .frame_type = 8, .reason = kData}},
        {HandshakeDoneFrame{}, DatagramFrame{.data = kData}},
    };
}

void frame_corpus() {
    int i = 0;
    for (const auto& frames : one_rtt_frames()) {
        Bytes b = {5};  // PacketType::kOneRtt
        const Bytes f = encode(frames);
        b.insert(b.end(), f.begin(), f.end());
        write("frame", "one_rtt_" + std::to_string(i++), b);
    }
    for (uint8_t type : {0, 1, 2}) {  // Initial, 0-RTT, Handshake
        Bytes b = {type};
        const Bytes f = encode({CryptoFrame{.offset = 0, .data = kData}, PingFrame{}});
        b.insert(b.end(), f.begin(), f.end());
        write("frame", "long_" + std::to_string(type), b);
    }
}

void packet_header_corpus() {
    const uint8_t lengths = 8;  // byte 0: short-header DCID length
    for (Version v : {kVersion1, kVersion2}) {
        Bytes packet(1200);
        ByteWriter w(packet);
        LongHeaderFields f{.type = PacketType::kInitial,
                           .version = v,
                           .dcid = ConnectionId(kCid),
                           .scid = ConnectionId(kCid),
                           .token = kData,
                           .pn_length = 2};
        size_t pn_offset = 0;
        if (!write_long_header(w, f, 60, &pn_offset)) continue;
        Bytes b = {lengths};
        b.insert(b.end(), packet.begin(), packet.begin() + static_cast<long>(w.size() + 58));
        // A coalesced Handshake packet after it.
        Bytes second(200);
        ByteWriter w2(second);
        f.type = PacketType::kHandshake;
        f.token = {};
        if (write_long_header(w2, f, 30, &pn_offset)) {
            b.insert(b.end(), second.begin(), second.begin() + static_cast<long>(w2.size() + 28));
        }
        write("packet_header", "initial_v" + std::to_string(v == kVersion1 ? 1 : 2), b);
        Bytes retry = build_retry_without_tag(v, ConnectionId(kCid), ConnectionId(kCid), kData, 0);
        retry.resize(retry.size() + 16, 0xaa);
        retry.insert(retry.begin(), lengths);
        write("packet_header", "retry_v" + std::to_string(v == kVersion1 ? 1 : 2), retry);
    }
    const Version versions[] = {kVersion1, kVersion2, 0x1a2a3a4a};
    Bytes vn = build_version_negotiation(kCid, kCid, versions, 0x55);
    vn.insert(vn.begin(), lengths);
    write("packet_header", "version_negotiation", vn);
    Bytes short_header(64);
    ByteWriter w(short_header);
    size_t pn_offset = 0;
    (void)write_short_header(w, ConnectionId(kCid), false, true, 2, 7, &pn_offset);
    short_header.insert(short_header.begin(), lengths);
    write("packet_header", "short", short_header);
}

void transport_parameters_corpus() {
    TransportParameters client;
    client.initial_max_data = 1 << 20;
    client.initial_max_stream_data_bidi_local = 1 << 16;
    client.initial_max_streams_bidi = 100;
    client.max_idle_timeout_ms = 30000;
    client.initial_source_connection_id = ConnectionId(kCid);
    client.max_datagram_frame_size = 1200;
    client.grease_quic_bit = true;
    client.version_information = VersionInformation{kVersion1, {kVersion1, kVersion2}};
    TransportParameters server = client;
    server.original_destination_connection_id = ConnectionId(kCid);
    server.stateless_reset_token = StatelessResetToken{};
    server.preferred_address =
        PreferredAddress{.ipv4_port = 443, .connection_id = ConnectionId(kCid)};
    server.retry_source_connection_id = ConnectionId(kCid);
    server.version_information = VersionInformation{kVersion1, {kVersion1}};
    SeededRandom rng(1);
    if (auto b = encode_transport_parameters(client, Role::kClient, &rng))
        write("transport_parameters", "client", *b);
    if (auto b = encode_transport_parameters(server, Role::kServer))
        write("transport_parameters", "server", *b);
}

void qpack_corpus() {
    h3::QpackEncoder encoder;
    encoder.apply_peer_settings(256, 2);
    const std::vector<h3::Field> fields = {
        {":method", "GET"}, {":path", "/index.html"}, {"user-agent", "quiver-fuzz"}};
    Bytes b = {0x07};  // chunks of 8 bytes, default encoder-stream buffer
    for (uint64_t stream : {0, 1}) {
        const Bytes section = encoder.encode_field_section(stream * 4, fields);
        const Bytes instructions = encoder.take_encoder_stream_data();
        // A field section before its inserts (blocked), then the encoder stream.
        b.insert(b.end(),
                 {static_cast<uint8_t>(1 | stream << 2), static_cast<uint8_t>(section.size())});
        b.insert(b.end(), section.begin(), section.end());
        b.insert(b.end(), {0, static_cast<uint8_t>(instructions.size())});
        b.insert(b.end(), instructions.begin(), instructions.end());
    }
    write("qpack", "sections", b);
    // HTTP/3 frames for the stream readers: SETTINGS (control) and HEADERS + DATA (request).
    Bytes control = {0x10};
    h3::encode_settings_frame(control, h3::Settings{.qpack_max_table_capacity = 256}, nullptr);
    h3::encode_frame(control, h3::GoawayFrame{4});
    write("qpack", "control", control);
    Bytes request = {0x03};
    h3::encode_frame(request, h3::HeadersFrame{encoder.encode_field_section(8, fields)});
    h3::encode_frame(request, h3::DataFrame{Bytes(kData, kData + 5)});
    write("qpack", "request", request);
}

// Records for connection_fuzzer: [op][length, 2 bytes][bytes].
void record(Bytes& out, uint8_t op, const Bytes& bytes) {
    out.insert(out.end(),
               {op, static_cast<uint8_t>(bytes.size() >> 8), static_cast<uint8_t>(bytes.size())});
    out.insert(out.end(), bytes.begin(), bytes.end());
}

void connection_corpus() {
    int i = 0;
    for (const auto& frames : one_rtt_frames()) {
        Bytes b;
        record(b, 0, encode(frames));                                // to the server
        record(b, 1, encode({PingFrame{}, MaxDataFrame{1 << 21}}));  // to the client
        write("connection", "frames_" + std::to_string(i++), b);
    }
    Bytes b;
    record(b, 2, {3, 0, 0, 1, 2, 3});  // mask a recorded client datagram
    record(b, 4, Bytes(40, 0x5a));     // body after a real short header
    record(b, 6, Bytes(1200, 0));      // an unrouted datagram
    write("connection", "datagrams", b);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_corpus <tests/fuzz/corpus>\n");
        return 2;
    }
    root = argv[1];
    frame_corpus();
    packet_header_corpus();
    transport_parameters_corpus();
    qpack_corpus();
    connection_corpus();
    return 0;
}
