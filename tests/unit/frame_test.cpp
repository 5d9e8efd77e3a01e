// Frame codec round trips, hand-written encodings from the RFC 9000 §19 layouts, frame
// classification and §12.4 Table 3. Malformed inputs are in frame_malformed_test.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "quic/frame.h"
#include "wire/limits.h"

namespace quic {
namespace {

constexpr uint64_t kBoundaries[] = {
    0, 63, 64, 16383, 16384, (uint64_t{1} << 30) - 1, uint64_t{1} << 30, kVarintMax};

Bytes from_hex(std::string_view hex) {
    Bytes out;
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    for (size_t i = 0; i < hex.size(); ++i) {
        if (hex[i] == ' ') continue;
        out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
        ++i;
    }
    return out;
}

Bytes encode(const Frame& f) {
    Bytes buf(encoded_size(f));
    ByteWriter w(buf);
    CHECK(encode_frame(w, f));
    CHECK(w.size() == buf.size());
    return buf;
}

bool same_bytes(ByteSpan a, ByteSpan b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// Field-by-field equality, one overload per frame struct.
void expect_eq(const PaddingFrame& a, const PaddingFrame& b) {
    CHECK(a.length == b.length);
}
void expect_eq(const PingFrame&, const PingFrame&) {}
void expect_eq(const HandshakeDoneFrame&, const HandshakeDoneFrame&) {}
void expect_eq(const AckFrame& a, const AckFrame& b) {
    CHECK(a.largest_acknowledged == b.largest_acknowledged);
    CHECK(a.ack_delay == b.ack_delay);
    CHECK(a.ranges == b.ranges);
    CHECK(a.ecn == b.ecn);
    CHECK(a.ranges_dropped == b.ranges_dropped);
}
void expect_eq(const ResetStreamFrame& a, const ResetStreamFrame& b) {
    CHECK(a.stream_id == b.stream_id);
    CHECK(a.application_error_code == b.application_error_code);
    CHECK(a.final_size == b.final_size);
}
void expect_eq(const StopSendingFrame& a, const StopSendingFrame& b) {
    CHECK(a.stream_id == b.stream_id);
    CHECK(a.application_error_code == b.application_error_code);
}
void expect_eq(const CryptoFrame& a, const CryptoFrame& b) {
    CHECK(a.offset == b.offset);
    CHECK(same_bytes(a.data, b.data));
}
void expect_eq(const NewTokenFrame& a, const NewTokenFrame& b) {
    CHECK(same_bytes(a.token, b.token));
}
void expect_eq(const StreamFrame& a, const StreamFrame& b) {
    CHECK(a.stream_id == b.stream_id);
    CHECK(a.offset == b.offset);
    CHECK(same_bytes(a.data, b.data));
    CHECK(a.fin == b.fin);
    CHECK(a.has_length == b.has_length);
}
void expect_eq(const MaxDataFrame& a, const MaxDataFrame& b) {
    CHECK(a.maximum_data == b.maximum_data);
}
void expect_eq(const MaxStreamDataFrame& a, const MaxStreamDataFrame& b) {
    CHECK(a.stream_id == b.stream_id);
    CHECK(a.maximum_stream_data == b.maximum_stream_data);
}
void expect_eq(const MaxStreamsFrame& a, const MaxStreamsFrame& b) {
    CHECK(a.bidirectional == b.bidirectional);
    CHECK(a.maximum_streams == b.maximum_streams);
}
void expect_eq(const DataBlockedFrame& a, const DataBlockedFrame& b) {
    CHECK(a.maximum_data == b.maximum_data);
}
void expect_eq(const StreamDataBlockedFrame& a, const StreamDataBlockedFrame& b) {
    CHECK(a.stream_id == b.stream_id);
    CHECK(a.maximum_stream_data == b.maximum_stream_data);
}
void expect_eq(const StreamsBlockedFrame& a, const StreamsBlockedFrame& b) {
    CHECK(a.bidirectional == b.bidirectional);
    CHECK(a.maximum_streams == b.maximum_streams);
}
void expect_eq(const NewConnectionIdFrame& a, const NewConnectionIdFrame& b) {
    CHECK(a.sequence_number == b.sequence_number);
    CHECK(a.retire_prior_to == b.retire_prior_to);
    CHECK(a.connection_id == b.connection_id);
    CHECK(a.stateless_reset_token == b.stateless_reset_token);
}
void expect_eq(const RetireConnectionIdFrame& a, const RetireConnectionIdFrame& b) {
    CHECK(a.sequence_number == b.sequence_number);
}
void expect_eq(const PathChallengeFrame& a, const PathChallengeFrame& b) {
    CHECK(a.data == b.data);
}
void expect_eq(const PathResponseFrame& a, const PathResponseFrame& b) {
    CHECK(a.data == b.data);
}
void expect_eq(const ConnectionCloseFrame& a, const ConnectionCloseFrame& b) {
    CHECK(a.application == b.application);
    CHECK(a.error_code == b.error_code);
    CHECK(a.frame_type == b.frame_type);
    CHECK(same_bytes(a.reason, b.reason));
}
void expect_eq(const DatagramFrame& a, const DatagramFrame& b) {
    CHECK(same_bytes(a.data, b.data));
    CHECK(a.has_length == b.has_length);
}

void expect_same_frame(const Frame& expected, const Frame& actual) {
    std::visit(
        [&](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            REQUIRE(std::holds_alternative<T>(actual));
            expect_eq(e, std::get<T>(actual));
        },
        expected);
}

// Frames whose data runs to the end of the packet cannot be followed by anything.
bool runs_to_end(const Frame& f) {
    if (const auto* s = std::get_if<StreamFrame>(&f)) return !s->has_length;
    if (const auto* d = std::get_if<DatagramFrame>(&f)) return !d->has_length;
    return false;
}

// encode, then parse: same frame, same type, exactly encoded_size bytes consumed.
void check_round_trip(const Frame& f) {
    CAPTURE(frame_type_name(to_underlying(frame_type_of(f))));
    REQUIRE(is_encodable(f));
    Bytes bytes = encode(f);
    if (!runs_to_end(f)) bytes.push_back(0x01);  // a trailing PING must be left unread
    ByteReader r(bytes);
    auto parsed = parse_frame(r, PacketType::kOneRtt);
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().to_string());
    CHECK(r.position() == encoded_size(f));
    CHECK(frame_type_of(*parsed) == frame_type_of(f));
    expect_same_frame(f, *parsed);
}

// Parses bytes that must hold exactly one frame, in a 1-RTT packet.
Frame parse_whole(const Bytes& bytes) {
    ByteReader r(bytes);
    auto parsed = parse_frame(r, PacketType::kOneRtt);
    REQUIRE_MESSAGE(parsed.ok(), parsed.error().to_string());
    CHECK(r.empty());
    return *parsed;
}

void check_encodes_to(const Frame& f, std::string_view hex) {
    CHECK(encode(f) == from_hex(hex));
    CHECK(encoded_size(f) == from_hex(hex).size());
}

const Bytes kData = from_hex("00 01 02 03 04 05 06 07 08 09 0a 0b 0c");

}  // namespace

TEST_CASE("frame round trip: single-varint and multi-varint frames at varint boundaries") {
    for (uint64_t v : kBoundaries) {
        CAPTURE(v);
        check_round_trip(ResetStreamFrame{v, v, v});
        check_round_trip(ResetStreamFrame{v, 0, kVarintMax - v});
        check_round_trip(StopSendingFrame{v, v});
        check_round_trip(MaxDataFrame{v});
        check_round_trip(MaxStreamDataFrame{v, v});
        check_round_trip(DataBlockedFrame{v});
        check_round_trip(StreamDataBlockedFrame{v, v});
        check_round_trip(RetireConnectionIdFrame{v});
        uint64_t count = std::min(v, kMaxStreamsLimit);
        check_round_trip(MaxStreamsFrame{true, count});
        check_round_trip(MaxStreamsFrame{false, count});
        check_round_trip(StreamsBlockedFrame{true, count});
        check_round_trip(StreamsBlockedFrame{false, count});
        check_round_trip(ConnectionCloseFrame{false, v, v, {}});
        check_round_trip(ConnectionCloseFrame{true, v, 0, {}});
        check_round_trip(AckFrame{v, v, {{0, v}}, std::nullopt, 0});
        check_round_trip(AckFrame{v, 0, {{v, v}}, EcnCounts{v, v, v}, 0});
        check_round_trip(CryptoFrame{v == kVarintMax ? v - kData.size() : v, kData});
        check_round_trip(CryptoFrame{v, {}});
        check_round_trip(NewConnectionIdFrame{v, v, ConnectionId(ByteSpan(kData).first(8)), {}});
        check_round_trip(StreamFrame{v, v, {}, true, true});
        check_round_trip(StreamFrame{v, v == kVarintMax ? 0 : v, kData, false, false});
    }
    check_round_trip(MaxStreamsFrame{true, kMaxStreamsLimit});
    check_round_trip(StreamsBlockedFrame{false, kMaxStreamsLimit});
}

TEST_CASE("frame round trip: frames without fields, PADDING runs, PATH_*, NEW_TOKEN") {
    check_round_trip(PingFrame{});
    check_round_trip(HandshakeDoneFrame{});
    for (size_t n : {1, 2, 7, 1200}) check_round_trip(PaddingFrame{n});
    check_round_trip(PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}});
    check_round_trip(PathResponseFrame{{0xff, 0, 0xff, 0, 0xff, 0, 0xff, 0}});
    check_round_trip(NewTokenFrame{ByteSpan(kData).first(1)});
    check_round_trip(NewTokenFrame{kData});
    Bytes long_token(16384, 0x5a);  // 2-byte Token Length at its boundary
    check_round_trip(NewTokenFrame{long_token});
}

TEST_CASE("frame round trip: ACK with one range, many ranges, ECN, ranges down to 0") {
    check_round_trip(AckFrame{0, 0, {{0, 0}}, std::nullopt, 0});
    check_round_trip(AckFrame{100, 25, {{90, 100}}, std::nullopt, 0});
    // Gap 0: exactly one missing packet (98) between ranges.
    check_round_trip(AckFrame{100, 0, {{99, 100}, {0, 97}}, std::nullopt, 0});
    check_round_trip(AckFrame{100, 0, {{99, 100}, {0, 97}}, EcnCounts{1, 2, 3}, 0});

    AckFrame many{kVarintMax, 1234, {}, EcnCounts{kVarintMax, 0, 64}, 0};
    uint64_t largest = kVarintMax;
    for (uint64_t i = 0; i < kMaxAckRangesDecoded; ++i) {  // as many as the parser keeps
        uint64_t smallest = largest - (i % 70);            // lengths across the 1/2 byte edge
        many.ranges.push_back({smallest, largest});
        largest = smallest - 2 - (i * 37 % 20000);  // gaps across the 1/2/4 byte edges
    }
    check_round_trip(many);
}

TEST_CASE("frame round trip: STREAM with all 8 OFF/LEN/FIN combinations") {
    for (uint64_t offset : {uint64_t{0}, uint64_t{5}, uint64_t{16384}}) {
        for (bool has_length : {false, true}) {
            for (bool fin : {false, true}) {
                for (size_t n : {size_t{0}, size_t{1}, kData.size()}) {
                    CAPTURE(offset);
                    CAPTURE(has_length);
                    CAPTURE(fin);
                    StreamFrame f{4, offset, ByteSpan(kData).first(n), fin, has_length};
                    uint64_t type = to_underlying(frame_type_of(f));
                    CHECK(((type & kStreamOffBit) != 0) == (offset != 0));  // offset 0 omits OFF
                    CHECK(((type & kStreamLenBit) != 0) == has_length);
                    CHECK(((type & kStreamFinBit) != 0) == fin);
                    CHECK(encode(f)[0] == type);
                    check_round_trip(f);
                }
            }
        }
    }
}

TEST_CASE("frame round trip: DATAGRAM, NEW_CONNECTION_ID, CONNECTION_CLOSE") {
    for (bool has_length : {false, true}) {
        check_round_trip(DatagramFrame{{}, has_length});  // RFC 9221 §4: empty is allowed
        check_round_trip(DatagramFrame{kData, has_length});
        CHECK(frame_type_of(DatagramFrame{{}, has_length}) ==
              (has_length ? FrameType::kDatagramWithLength : FrameType::kDatagram));
    }
    Bytes cid20(20);
    for (size_t i = 0; i < cid20.size(); ++i) cid20[i] = static_cast<uint8_t>(0xa0 + i);
    StatelessResetToken token;
    for (size_t i = 0; i < token.size(); ++i) token[i] = static_cast<uint8_t>(i * 17);
    check_round_trip(NewConnectionIdFrame{1, 0, ConnectionId(ByteSpan(cid20).first(1)), token});
    check_round_trip(NewConnectionIdFrame{7, 7, ConnectionId(cid20), token});

    const std::string reason = "flow control: stream 4 exceeded its limit";
    ByteSpan reason_bytes(reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
    check_round_trip(ConnectionCloseFrame{false, 0x03, 0x08, reason_bytes});
    check_round_trip(ConnectionCloseFrame{true, 0x0101, 0, reason_bytes});
}

TEST_CASE("frame parse is zero copy: data spans point into the packet") {
    Bytes packet = from_hex("0b 04 03 616263");  // STREAM LEN|FIN, id 4, "abc"
    ByteReader r(packet);
    auto parsed = parse_frame(r, PacketType::kOneRtt);
    REQUIRE(parsed.ok());
    const auto& s = std::get<StreamFrame>(*parsed);
    CHECK(s.data.data() == packet.data() + 3);
    CHECK(s.data.size() == 3);
}

TEST_CASE("frame encodings written by hand from the RFC 9000 §19 layouts") {
    check_encodes_to(PingFrame{}, "01");
    check_encodes_to(PaddingFrame{3}, "00 00 00");
    check_encodes_to(HandshakeDoneFrame{}, "1e");
    // §16 / Appendix A.1 sample varints.
    check_encodes_to(MaxDataFrame{151288809941952652}, "10 c2 19 7c 5e ff 14 e8 8c");
    check_encodes_to(MaxDataFrame{494878333}, "10 9d 7f 3e 7d");
    check_encodes_to(MaxDataFrame{15293}, "10 7b bd");
    check_encodes_to(MaxDataFrame{37}, "10 25");
    check_encodes_to(MaxStreamsFrame{false, 3}, "13 03");
    check_encodes_to(StreamsBlockedFrame{true, 64}, "16 40 40");
    // ACK of 8..10 and 4..5: First ACK Range 2, Gap 8-5-2 = 1, ACK Range Length 1.
    check_encodes_to(AckFrame{10, 0, {{8, 10}, {4, 5}}, std::nullopt, 0}, "02 0a 00 01 02 01 01");
    check_encodes_to(AckFrame{0, 64, {{0, 0}}, EcnCounts{1, 2, 3}, 0},
                     "03 00 40 40 00 00 01 02 03");
    Bytes hi = from_hex("6869");
    check_encodes_to(StreamFrame{4, 1, hi, true, true}, "0f 04 01 02 68 69");
    check_encodes_to(StreamFrame{4, 0, hi, false, false}, "08 04 68 69");
    check_encodes_to(CryptoFrame{0, from_hex("616263")}, "06 00 03 61 62 63");
    check_encodes_to(DatagramFrame{from_hex("abcd"), false}, "30 ab cd");
    check_encodes_to(DatagramFrame{from_hex("abcd"), true}, "31 02 ab cd");
    check_encodes_to(ConnectionCloseFrame{false, 0x0a, 0x08, from_hex("626164")},
                     "1c 0a 08 03 62 61 64");
    check_encodes_to(ConnectionCloseFrame{true, 0x100, 0, {}}, "1d 41 00 00");
    check_encodes_to(PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}}, "1a 01 02 03 04 05 06 07 08");
    StatelessResetToken token;
    token.fill(0x11);
    check_encodes_to(NewConnectionIdFrame{1, 0, ConnectionId(from_hex("01020304")), token},
                     "18 01 00 04 01 02 03 04 11111111111111111111111111111111");
    check_encodes_to(ResetStreamFrame{4, 0x10c, 16384}, "04 04 41 0c 80 00 40 00");
}

TEST_CASE("frame parse of hand-written bytes") {
    SUBCASE("ACK with a gap") {
        Bytes b = from_hex("02 0a 00 01 02 01 01");
        auto ack = std::get<AckFrame>(parse_whole(b));
        CHECK(ack.largest_acknowledged == 10);
        CHECK(ack.ranges == std::vector<AckRange>{{8, 10}, {4, 5}});
        CHECK(!ack.ecn);
    }
    SUBCASE("non-minimal varints inside a frame are accepted (§16)") {
        Bytes b = from_hex("10 80 00 00 25");
        CHECK(std::get<MaxDataFrame>(parse_whole(b)).maximum_data == 37);
    }
    SUBCASE("STREAM with OFF set and offset 0") {
        Bytes b = from_hex("0e 04 00 01 ff");
        auto s = std::get<StreamFrame>(parse_whole(b));
        CHECK(s.offset == 0);
        CHECK(s.data.size() == 1);
    }
    SUBCASE("a PADDING run stops at the next frame") {
        Bytes b = from_hex("00 00 00 00 01");
        ByteReader r(b);
        auto p = parse_frame(r, PacketType::kInitial);
        REQUIRE(p.ok());
        CHECK(std::get<PaddingFrame>(*p).length == 4);
        auto ping = parse_frame(r, PacketType::kInitial);
        REQUIRE(ping.ok());
        CHECK(std::holds_alternative<PingFrame>(*ping));
        CHECK(r.empty());
    }
}

TEST_CASE("frame encoder refuses frames the parser would reject, and writes nothing") {
    Bytes one = from_hex("aa");
    std::vector<Frame> bad = {
        AckFrame{5, 0, {}, std::nullopt, 0},                        // no ranges
        AckFrame{5, 0, {{0, 4}}, std::nullopt, 0},                  // ranges[0] misses largest
        AckFrame{5, 0, {{3, 5}, {2, 2}}, std::nullopt, 0},          // no gap between ranges
        AckFrame{5, 0, {{3, 5}, {0, 1}, {0, 0}}, std::nullopt, 0},  // not descending
        AckFrame{5, 0, {{6, 5}}, std::nullopt, 0},                  // smallest > largest
        NewConnectionIdFrame{1, 0, ConnectionId(), {}},             // empty connection ID
        NewConnectionIdFrame{1, 2, ConnectionId(one), {}},          // retire_prior_to > seq
        NewTokenFrame{{}},
        MaxStreamsFrame{true, kMaxStreamsLimit + 1},
        StreamsBlockedFrame{false, kMaxStreamsLimit + 1},
        MaxDataFrame{kVarintMax + 1},
        StreamFrame{0, kVarintMax, one, false, true},
        CryptoFrame{kVarintMax, one},
    };
    for (const Frame& f : bad) {
        CAPTURE(frame_type_name(to_underlying(frame_type_of(f))));
        CHECK(!is_encodable(f));
        Bytes buf(64, 0xee);
        ByteWriter w(buf);
        CHECK(!encode_frame(w, f));
        CHECK(!w.ok());
        CHECK(w.size() == 0);
        CHECK(buf[0] == 0xee);
    }
}

TEST_CASE("frame encoder: a frame that does not fit writes nothing") {
    Frame f = ResetStreamFrame{kVarintMax, 1, 2};
    Bytes buf(encoded_size(f) - 1);
    ByteWriter w(buf);
    CHECK(!encode_frame(w, f));
    CHECK(w.size() == 0);
    Bytes exact(encoded_size(f));
    ByteWriter w2(exact);
    CHECK(encode_frame(w2, f));
    CHECK(w2.remaining() == 0);
}

TEST_CASE("frame classification: ack-eliciting (RFC 9002 §2) and probing (RFC 9000 §9.1)") {
    const std::vector<Frame> frames = {
        PaddingFrame{},
        PingFrame{},
        AckFrame{},
        ResetStreamFrame{},
        StopSendingFrame{},
        CryptoFrame{},
        NewTokenFrame{},
        StreamFrame{},
        MaxDataFrame{},
        MaxStreamDataFrame{},
        MaxStreamsFrame{},
        DataBlockedFrame{},
        StreamDataBlockedFrame{},
        StreamsBlockedFrame{},
        NewConnectionIdFrame{},
        RetireConnectionIdFrame{},
        PathChallengeFrame{},
        PathResponseFrame{},
        ConnectionCloseFrame{},
        HandshakeDoneFrame{},
        DatagramFrame{},
    };
    REQUIRE(frames.size() == std::variant_size_v<Frame>);
    for (const Frame& f : frames) {
        FrameType t = frame_type_of(f);
        CAPTURE(frame_type_name(to_underlying(t)));
        bool not_eliciting = t == FrameType::kPadding || t == FrameType::kAck ||
                             t == FrameType::kConnectionCloseTransport;
        CHECK(is_ack_eliciting(f) == !not_eliciting);
        bool probing = t == FrameType::kPadding || t == FrameType::kPathChallenge ||
                       t == FrameType::kPathResponse || t == FrameType::kNewConnectionId;
        CHECK(is_probing_frame(f) == probing);
    }
    CHECK(!is_ack_eliciting(ConnectionCloseFrame{true, 0, 0, {}}));
    CHECK(!is_ack_eliciting(AckFrame{0, 0, {{0, 0}}, EcnCounts{}, 0}));
    CHECK(is_ack_eliciting(DatagramFrame{}));
    CHECK(frame_type_of(AckFrame{0, 0, {{0, 0}}, EcnCounts{}, 0}) == FrameType::kAckEcn);
    CHECK(frame_type_of(MaxStreamsFrame{false, 0}) == FrameType::kMaxStreamsUni);
    CHECK(frame_type_of(StreamsBlockedFrame{true, 0}) == FrameType::kStreamsBlockedBidi);
}

// RFC 9000 §12.4 Table 3 ("Pkts"), with §12.5 removing ACK, CRYPTO, HANDSHAKE_DONE,
// NEW_TOKEN, PATH_RESPONSE and RETIRE_CONNECTION_ID from 0-RTT, and RFC 9221 §4 for DATAGRAM.
TEST_CASE("frame_allowed_in: Table 3, every frame type x every packet type") {
    struct Row {
        uint64_t type;
        const char* pkts;  // I H 0 1, '_' where not allowed
    };
    const Row table[] = {
        {0x00, "IH01"}, {0x01, "IH01"}, {0x02, "IH_1"}, {0x03, "IH_1"}, {0x04, "__01"},
        {0x05, "__01"}, {0x06, "IH_1"}, {0x07, "___1"}, {0x08, "__01"}, {0x09, "__01"},
        {0x0a, "__01"}, {0x0b, "__01"}, {0x0c, "__01"}, {0x0d, "__01"}, {0x0e, "__01"},
        {0x0f, "__01"}, {0x10, "__01"}, {0x11, "__01"}, {0x12, "__01"}, {0x13, "__01"},
        {0x14, "__01"}, {0x15, "__01"}, {0x16, "__01"}, {0x17, "__01"}, {0x18, "__01"},
        {0x19, "___1"}, {0x1a, "__01"}, {0x1b, "___1"}, {0x1c, "IH01"}, {0x1d, "__01"},
        {0x1e, "___1"}, {0x30, "__01"}, {0x31, "__01"},
    };
    const PacketType columns[] = {PacketType::kInitial, PacketType::kHandshake,
                                  PacketType::kZeroRtt, PacketType::kOneRtt};
    auto row_of = [&](uint64_t type) -> const Row* {
        for (const Row& row : table)
            if (row.type == type) return &row;
        return nullptr;
    };
    for (uint64_t type = 0; type < 0x4100; ++type) {  // known types and unknown ones around them
        CAPTURE(type);
        const Row* row = row_of(type);
        CHECK(is_known_frame_type(type) == (row != nullptr));
        for (size_t c = 0; c < 4; ++c) {
            CAPTURE(c);
            CHECK(frame_allowed_in(type, columns[c]) == (row && row->pkts[c] != '_'));
        }
        CHECK(!frame_allowed_in(type, PacketType::kRetry));
        CHECK(!frame_allowed_in(type, PacketType::kVersionNegotiation));
    }
    CHECK(!frame_allowed_in(kVarintMax, PacketType::kOneRtt));
}

}  // namespace quic
