// Malformed frames and the error each must give (RFC 9000 §12.4, §19; RFC 9221 §4): a table
// of hand-written inputs, every strict prefix of a valid frame, truncated varints, and an
// ACK with thousands of ranges.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "quic/frame.h"
#include "wire/limits.h"

namespace quic {
namespace {

using TEC = TransportErrorCode;
constexpr TEC kFEE = TEC::kFrameEncodingError;
constexpr TEC kPV = TEC::kProtocolViolation;
constexpr TEC kCBE = TEC::kCryptoBufferExceeded;
constexpr PacketType kI = PacketType::kInitial;
constexpr PacketType kH = PacketType::kHandshake;
constexpr PacketType k0 = PacketType::kZeroRtt;
constexpr PacketType k1 = PacketType::kOneRtt;

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

struct MalformedCase {
    std::string name;
    std::string hex;
    PacketType packet_type;
    TEC code;
    uint64_t frame_type;
};

const std::string kMax = " ffffffffffffffff ";                    // 2^62-1 as an 8-byte varint
const std::string kAbove60 = " d000000000000001 ";                // 2^60+1 as an 8-byte varint
const std::string kToken = " 00112233445566778899aabbccddeeff ";  // stateless reset token
const std::string kCid21 = " 000102030405060708090a0b0c0d0e0f1011121314 ";

// 90 cases; the test checks the count so this comment stays true.
const std::vector<MalformedCase> kCases = {
    // Frame type (§12.4): truncated, unknown, not minimally encoded.
    {"empty payload", "", k1, kFEE, 0},
    {"2-byte frame type truncated", "40", k1, kFEE, 0},
    {"4-byte frame type truncated", "80 00 00", k1, kFEE, 0},
    {"unknown type 0x1f", "1f", k1, kFEE, 0x1f},
    {"unknown type 0x20", "20", k1, kFEE, 0x20},
    {"unknown type 0x2f", "2f", k1, kFEE, 0x2f},
    {"unknown type 0x32", "32", k1, kFEE, 0x32},
    {"unknown type 0x3f", "3f", k1, kFEE, 0x3f},
    {"unknown 2-byte type 0x40", "40 40", k1, kFEE, 0x40},
    {"unknown type 2^62-1", kMax, k1, kFEE, kVarintMax},
    {"PADDING type in 2 bytes", "40 00", k1, kPV, 0x00},
    {"PING type in 2 bytes", "40 01", k1, kPV, 0x01},
    {"CRYPTO type in 4 bytes", "80 00 00 06 00 00", k1, kPV, 0x06},
    {"HANDSHAKE_DONE type in 8 bytes", "c0 00 00 00 00 00 00 1e", k1, kPV, 0x1e},
    {"DATAGRAM type in 2 bytes", "40 30", k1, kPV, 0x30},
    {"unknown type in 2 bytes", "40 1f", k1, kPV, 0x1f},
    // Frame not allowed in the packet type (§12.4 Table 3, §12.5, RFC 9221 §4).
    {"ACK in 0-RTT", "02 00 00 00 00", k0, kPV, 0x02},
    {"ACK_ECN in 0-RTT", "03 00 00 00 00 00 00 00", k0, kPV, 0x03},
    {"CRYPTO in 0-RTT", "06 00 00", k0, kPV, 0x06},
    {"NEW_TOKEN in Initial", "07 01 aa", kI, kPV, 0x07},
    {"NEW_TOKEN in Handshake", "07 01 aa", kH, kPV, 0x07},
    {"NEW_TOKEN in 0-RTT", "07 01 aa", k0, kPV, 0x07},
    {"HANDSHAKE_DONE in Initial", "1e", kI, kPV, 0x1e},
    {"HANDSHAKE_DONE in Handshake", "1e", kH, kPV, 0x1e},
    {"HANDSHAKE_DONE in 0-RTT", "1e", k0, kPV, 0x1e},
    {"PATH_RESPONSE in 0-RTT", "1b 0102030405060708", k0, kPV, 0x1b},
    {"RETIRE_CONNECTION_ID in 0-RTT", "19 00", k0, kPV, 0x19},
    {"STREAM in Initial", "0a 00 00", kI, kPV, 0x0a},
    {"STREAM in Handshake", "08 00", kH, kPV, 0x08},
    {"RESET_STREAM in Handshake", "04 00 00 00", kH, kPV, 0x04},
    {"MAX_DATA in Initial", "10 00", kI, kPV, 0x10},
    {"NEW_CONNECTION_ID in Handshake, checked before the body", "18", kH, kPV, 0x18},
    {"PATH_CHALLENGE in Initial", "1a 0102030405060708", kI, kPV, 0x1a},
    {"CONNECTION_CLOSE 0x1d in Initial", "1d 00 00", kI, kPV, 0x1d},
    {"CONNECTION_CLOSE 0x1d in Handshake", "1d 00 00", kH, kPV, 0x1d},
    {"DATAGRAM in Initial", "30", kI, kPV, 0x30},
    {"DATAGRAM with length in Handshake", "31 00", kH, kPV, 0x31},
    {"PING in a Retry packet", "01", PacketType::kRetry, kPV, 0x01},
    {"PADDING in a Version Negotiation packet", "00", PacketType::kVersionNegotiation, kPV, 0},
    // ACK (§19.3): truncation and ranges below packet 0 (§19.3.1).
    {"ACK truncated after type", "02", k1, kFEE, 0x02},
    {"ACK delay truncated mid-varint", "02 00 80 00", k1, kFEE, 0x02},
    {"ACK First ACK Range above Largest Acknowledged", "02 05 00 00 06", k1, kFEE, 0x02},
    {"ACK gap below 0", "02 05 00 01 00 04 00", k1, kFEE, 0x02},
    {"ACK gap after a range ending at packet 1", "02 01 00 01 00 00 00", k1, kFEE, 0x02},
    {"ACK range length below 0", "02 0a 00 01 00 00 09", k1, kFEE, 0x02},
    {"ACK second range below 0", "02 0a 00 02 00 00 00 06 01", k1, kFEE, 0x02},
    {"ACK range count above the ranges present", "02 0a 00 05 00 00 00", k1, kFEE, 0x02},
    {"ACK range count 2^62-1", "02 0a 00" + kMax + "00", k1, kFEE, 0x02},
    {"ACK_ECN without counts", "03 00 00 00 00", k1, kFEE, 0x03},
    {"ACK_ECN missing the CE count", "03 00 00 00 00 01 02", k1, kFEE, 0x03},
    // RESET_STREAM, STOP_SENDING (§19.4, §19.5).
    {"RESET_STREAM missing Final Size", "04 00 00", k1, kFEE, 0x04},
    {"STOP_SENDING missing error code", "05 00", k1, kFEE, 0x05},
    // CRYPTO (§19.6).
    {"CRYPTO missing Length", "06 00", k1, kFEE, 0x06},
    {"CRYPTO Length past the end", "06 00 05 aa bb", k1, kFEE, 0x06},
    {"CRYPTO ends beyond 2^62-1", "06" + kMax + "01 aa", k1, kCBE, 0x06},
    {"CRYPTO ends at 2^62", "06 fffffffffffffffe 02 aa bb", k1, kCBE, 0x06},
    // NEW_TOKEN (§19.7).
    {"NEW_TOKEN empty token", "07 00", k1, kFEE, 0x07},
    {"NEW_TOKEN Length past the end", "07 05 aa", k1, kFEE, 0x07},
    {"NEW_TOKEN Length 2^62-1", "07" + kMax, k1, kFEE, 0x07},
    // STREAM (§19.8).
    {"STREAM missing Stream ID", "08", k1, kFEE, 0x08},
    {"STREAM OFF set, Offset missing", "0c 00", k1, kFEE, 0x0c},
    {"STREAM Length past the end", "0a 00 05 aa bb", k1, kFEE, 0x0a},
    {"STREAM OFF|LEN ends beyond 2^62-1", "0e 00" + kMax + "01 aa", k1, kFEE, 0x0e},
    {"STREAM OFF without LEN ends beyond 2^62-1", "0c 00" + kMax + "aa", k1, kFEE, 0x0c},
    {"STREAM OFF|LEN|FIN ends at 2^62", "0f 00 fffffffffffffffe 02 aa bb", k1, kFEE, 0x0f},
    // Flow control and stream limit frames (§19.9 - §19.14).
    {"MAX_DATA truncated mid-varint", "10 80 00", k1, kFEE, 0x10},
    {"MAX_STREAM_DATA missing maximum", "11 04", k1, kFEE, 0x11},
    {"MAX_STREAMS bidi 2^60+1", "12" + kAbove60, k1, kFEE, 0x12},
    {"MAX_STREAMS uni 2^62-1", "13" + kMax, k1, kFEE, 0x13},
    {"DATA_BLOCKED empty", "14", k1, kFEE, 0x14},
    {"STREAM_DATA_BLOCKED missing maximum", "15 00", k1, kFEE, 0x15},
    {"STREAMS_BLOCKED bidi 2^60+1", "16" + kAbove60, k1, kFEE, 0x16},
    {"STREAMS_BLOCKED uni 2^60+1", "17" + kAbove60, k1, kFEE, 0x17},
    // NEW_CONNECTION_ID (§19.15), RETIRE_CONNECTION_ID (§19.16).
    {"NEW_CONNECTION_ID length 0", "18 01 00 00" + kToken, k1, kFEE, 0x18},
    {"NEW_CONNECTION_ID length 21", "18 01 00 15" + kCid21 + kToken, k1, kFEE, 0x18},
    {"NEW_CONNECTION_ID length 255", "18 01 00 ff", k1, kFEE, 0x18},
    {"NEW_CONNECTION_ID Retire Prior To above Sequence Number", "18 01 02 04 01020304" + kToken, k1,
     kFEE, 0x18},
    {"NEW_CONNECTION_ID connection ID past the end", "18 01 00 08 01020304", k1, kFEE, 0x18},
    {"NEW_CONNECTION_ID token truncated", "18 01 00 04 01020304 00112233445566778899aabbccddee", k1,
     kFEE, 0x18},
    {"RETIRE_CONNECTION_ID empty", "19", k1, kFEE, 0x19},
    // PATH_CHALLENGE, PATH_RESPONSE (§19.17, §19.18).
    {"PATH_CHALLENGE with 7 bytes", "1a 01020304050607", k1, kFEE, 0x1a},
    {"PATH_RESPONSE empty", "1b", k1, kFEE, 0x1b},
    // CONNECTION_CLOSE (§19.19).
    {"CONNECTION_CLOSE transport missing Frame Type", "1c 00", k1, kFEE, 0x1c},
    {"CONNECTION_CLOSE transport reason past the end", "1c 00 00 05 61 62", k1, kFEE, 0x1c},
    {"CONNECTION_CLOSE transport reason length 2^62-1", "1c 00 00" + kMax, k1, kFEE, 0x1c},
    {"CONNECTION_CLOSE application missing reason length", "1d 00", k1, kFEE, 0x1d},
    {"CONNECTION_CLOSE application reason past the end", "1d 00 05 61", k1, kFEE, 0x1d},
    // DATAGRAM (RFC 9221 §4).
    {"DATAGRAM missing Length", "31", k1, kFEE, 0x31},
    {"DATAGRAM Length past the end", "31 05 aa", k1, kFEE, 0x31},
    {"DATAGRAM Length 2^62-1", "31" + kMax, k1, kFEE, 0x31},
};

void check_error(const Result<Frame>& parsed, TEC code, uint64_t frame_type) {
    REQUIRE(!parsed.ok());
    const Error& e = parsed.error();
    CAPTURE(e.to_string());
    CHECK(e.space == ErrorSpace::kTransport);
    CHECK(e.code == static_cast<uint64_t>(code));
    CHECK(e.frame_type == frame_type);
    CHECK(!e.reason.empty());
}

Bytes encode(const Frame& f) {
    Bytes buf(encoded_size(f));
    ByteWriter w(buf);
    REQUIRE(encode_frame(w, f));
    return buf;
}

// Valid frames of every type, with every varint field at value v.
std::vector<Frame> samples(uint64_t v, ByteSpan data, const StatelessResetToken& token) {
    ConnectionId cid(data.first(std::min<size_t>(data.size(), 20)));
    uint64_t count = std::min(v, kMaxStreamsLimit);
    uint64_t offset = std::min(v, kVarintMax - data.size());
    std::vector<Frame> out = {
        PaddingFrame{5},
        PingFrame{},
        AckFrame{v, v, {{v, v}}, std::nullopt, 0},
        AckFrame{v, v, {{v, v}}, EcnCounts{v, v, v}, 0},
        ResetStreamFrame{v, v, v},
        StopSendingFrame{v, v},
        CryptoFrame{offset, data},
        NewTokenFrame{data},
        MaxDataFrame{v},
        MaxStreamDataFrame{v, v},
        MaxStreamsFrame{true, count},
        MaxStreamsFrame{false, count},
        DataBlockedFrame{v},
        StreamDataBlockedFrame{v, v},
        StreamsBlockedFrame{true, count},
        StreamsBlockedFrame{false, count},
        NewConnectionIdFrame{v, v, cid, token},
        RetireConnectionIdFrame{v},
        PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}},
        PathResponseFrame{{8, 7, 6, 5, 4, 3, 2, 1}},
        ConnectionCloseFrame{false, v, v, data},
        ConnectionCloseFrame{true, v, 0, data},
        HandshakeDoneFrame{},
        DatagramFrame{data, true},
        DatagramFrame{data, false},
    };
    if (v >= 2) out.push_back(AckFrame{v, v, {{v - 1, v}, {0, 0}}, std::nullopt, 0});
    for (int bits = 0; bits < 8; ++bits) {
        uint64_t off = (bits & kStreamOffBit) ? std::max<uint64_t>(offset, 1) : 0;
        out.push_back(
            StreamFrame{v, off, data, (bits & kStreamFinBit) != 0, (bits & kStreamLenBit) != 0});
    }
    return out;
}

// Bytes before the data of a frame whose data runs to the end of the packet, else 0.
size_t open_ended_header(const Frame& f, size_t encoded) {
    if (const auto* s = std::get_if<StreamFrame>(&f); s && !s->has_length)
        return encoded - s->data.size();
    if (const auto* d = std::get_if<DatagramFrame>(&f); d && !d->has_length)
        return encoded - d->data.size();
    return 0;
}

// Parses every strict prefix of f's encoding. A prefix is a valid frame only for PADDING
// (a shorter run) and for STREAM/DATAGRAM without Length once their header is complete
// (shorter data); every other prefix is a FRAME_ENCODING_ERROR naming the frame's type.
void check_prefixes(const Frame& f) {
    const Bytes full = encode(f);
    const uint64_t type = to_underlying(frame_type_of(f));
    const size_t header = open_ended_header(f, full.size());
    CAPTURE(frame_type_name(type));
    for (size_t k = 0; k < full.size(); ++k) {
        CAPTURE(k);
        ByteReader r(ByteSpan(full).first(k));
        auto parsed = parse_frame(r, PacketType::kOneRtt);
        if (k == 0) {
            check_error(parsed, kFEE, 0);
        } else if (std::holds_alternative<PaddingFrame>(f)) {
            REQUIRE(parsed.ok());
            CHECK(std::get<PaddingFrame>(*parsed).length == k);
        } else if (header != 0 && k >= header) {
            REQUIRE(parsed.ok());
            CHECK(r.empty());
            size_t data_size = std::visit(
                [](const auto& x) -> size_t {
                    if constexpr (requires { x.data.size(); }) return x.data.size();
                    return 0;
                },
                *parsed);
            CHECK(data_size == k - header);
        } else {
            check_error(parsed, kFEE, type);
        }
    }
}

}  // namespace

TEST_CASE("frame malformed inputs: table of bytes and the error each must give") {
    CHECK(kCases.size() == 90);
    MESSAGE("malformed frame cases: " << kCases.size());
    for (const MalformedCase& c : kCases) {
        CAPTURE(c.name);
        Bytes bytes = from_hex(c.hex);
        ByteReader r(bytes);
        check_error(parse_frame(r, c.packet_type), c.code, c.frame_type);
    }
}

TEST_CASE("frame malformed inputs: every strict prefix of every frame type") {
    const Bytes data = from_hex("0102030405060708090a0b0c0d0e0f101112131415");
    StatelessResetToken token;
    token.fill(0x5c);
    const uint64_t values[] = {
        0, 63, 64, 16383, 16384, (uint64_t{1} << 30) - 1, uint64_t{1} << 30, kVarintMax};
    for (uint64_t v : values) {  // 1-, 2-, 4- and 8-byte varints cut at every byte
        CAPTURE(v);
        for (const Frame& f : samples(v, data, token)) check_prefixes(f);
    }
}

TEST_CASE("frame malformed inputs: frame type varints truncated at every byte") {
    // 0x4001 (PING in 2 bytes) and longer forms: any strict prefix has no complete type.
    for (std::string_view hex : {"4001", "80000001", "c000000000000001", "7fff", "bfffffff"}) {
        const Bytes full = from_hex(hex);
        for (size_t k = 0; k < full.size(); ++k) {
            ByteReader r(ByteSpan(full).first(k));
            check_error(parse_frame(r, k1), kFEE, 0);
        }
    }
}

TEST_CASE("frame malformed inputs: thousands of ACK ranges are validated but capped") {
    constexpr uint64_t kRanges = 5000;
    // Single-packet ranges with one-packet gaps (Gap 0, ACK Range Length 0): largest
    // acknowledged L, then L-2, L-4, ... The last one is packet `last`.
    auto ack_bytes = [](uint64_t last) {
        Bytes buf(16 + 2 * kRanges);
        ByteWriter w(buf);
        w.write_varint(0x02).write_varint(last + 2 * (kRanges - 1)).write_varint(3);
        w.write_varint(kRanges - 1).write_varint(0);
        for (uint64_t i = 1; i < kRanges; ++i) w.write_varint(0).write_varint(0);
        REQUIRE(w.ok());
        buf.resize(w.size());
        return buf;
    };
    SUBCASE("valid: ranges beyond the cap are counted, not stored") {
        Bytes bytes = ack_bytes(0);
        ByteReader r(bytes);
        auto parsed = parse_frame(r, k1);
        REQUIRE(parsed.ok());
        CHECK(r.empty());
        const auto& ack = std::get<AckFrame>(*parsed);
        CHECK(ack.largest_acknowledged == 2 * (kRanges - 1));
        CHECK(ack.ack_delay == 3);
        REQUIRE(ack.ranges.size() == kMaxAckRangesDecoded);
        CHECK(ack.ranges_dropped == kRanges - kMaxAckRangesDecoded);
        for (size_t i = 0; i < ack.ranges.size(); ++i) {
            uint64_t pn = ack.largest_acknowledged - 2 * i;
            CHECK(ack.ranges[i] == AckRange{pn, pn});
        }
    }
    SUBCASE("the last, uncapped range still underflows") {
        Bytes bytes = ack_bytes(0);
        bytes.back() = 0x01;  // last ACK Range Length 1: packet 0 - 1
        ByteReader r(bytes);
        check_error(parse_frame(r, k1), kFEE, 0x02);
    }
    SUBCASE("a gap below 0 after the cap") {
        Bytes bytes = ack_bytes(0);
        bytes[bytes.size() - 2] = 0x01;  // last Gap 1: packet 2 - 1 - 2
        ByteReader r(bytes);
        check_error(parse_frame(r, k1), kFEE, 0x02);
    }
    SUBCASE("the encoder round-trips more ranges than the parser keeps") {
        AckFrame ack{2 * (kRanges - 1), 3, {}, std::nullopt, 0};
        for (uint64_t i = 0; i < kRanges; ++i) {
            uint64_t pn = ack.largest_acknowledged - 2 * i;
            ack.ranges.push_back({pn, pn});
        }
        Bytes bytes = encode(ack);
        CHECK(bytes == ack_bytes(0));
        ByteReader r(bytes);
        auto parsed = parse_frame(r, k1);
        REQUIRE(parsed.ok());
        CHECK(std::get<AckFrame>(*parsed).ranges_dropped == kRanges - kMaxAckRangesDecoded);
    }
}

}  // namespace quic
