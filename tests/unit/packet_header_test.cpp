// Packet headers (RFC 8999 §5, RFC 9000 §17, RFC 9369 §3.2), coalescing (RFC 9000 §12.2),
// Version Negotiation (RFC 9000 §6, §17.2.1), Retry (§17.2.5) and Stateless Reset (§10.3).
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

#include "quic/bytes.h"
#include "quic/random.h"
#include "wire/packet_header.h"
#include "wire/stateless_reset.h"
#include "wire/version_negotiation.h"

using namespace quic;

namespace {

Bytes from_hex(std::string_view hex) {
    Bytes out;
    int hi = -1;
    for (char c : hex) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            continue;  // spaces, as the RFCs lay the bytes out
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    return out;
}

std::string to_hex(ByteSpan b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (uint8_t x : b) {
        s.push_back(kHex[x >> 4]);
        s.push_back(kHex[x & 0xf]);
    }
    return s;
}

ConnectionId cid(std::string_view hex) {
    return ConnectionId(from_hex(hex));
}

ConnectionId cid_of_length(size_t n, uint8_t seed) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i);
    return ConnectionId(b);
}

Bytes concat(std::initializer_list<ByteSpan> parts) {
    Bytes out;
    for (ByteSpan p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// A whole long-header packet: header written by write_long_header, then payload_size bytes.
Bytes long_packet(const LongHeaderFields& f, size_t payload_size, uint8_t fill = 0xab) {
    Bytes buf(2048);
    ByteWriter w(buf);
    size_t pn_offset = 0;
    REQUIRE(write_long_header(w, f, payload_size, &pn_offset));
    for (size_t i = 0; i < payload_size; ++i) w.write_u8(fill);
    REQUIRE(w.ok());
    buf.resize(w.size());
    return buf;
}

Bytes short_packet(const ConnectionId& dcid, size_t payload_size, bool key_phase = false,
                   bool spin = false) {
    Bytes buf(2048);
    ByteWriter w(buf);
    size_t pn_offset = 0;
    REQUIRE(write_short_header(w, dcid, key_phase, spin, 2, 0x1234, &pn_offset));
    w.write_zeros(payload_size);
    REQUIRE(w.ok());
    buf.resize(w.size());
    return buf;
}

// The reason of a failed parse, or "" when it succeeded.
std::string parse_error(ByteSpan p, size_t short_dcid_len = 8, bool allow_fixed_bit_zero = false) {
    auto h = parse_packet_header(p, short_dcid_len, allow_fixed_bit_zero);
    if (h) return "";
    CHECK(h.error().is_transport(TransportErrorCode::kProtocolViolation));
    return h.error().reason;
}

const std::array<PacketType, 3> kPnTypes = {PacketType::kInitial, PacketType::kZeroRtt,
                                            PacketType::kHandshake};
const std::array<Version, 2> kVersions = {kVersion1, kVersion2};

}  // namespace

TEST_CASE("long header type bits: RFC 9000 §17.2 (v1) and RFC 9369 §3.2 (v2)") {
    CHECK(long_header_type_bits(kVersion1, PacketType::kInitial) == 0);
    CHECK(long_header_type_bits(kVersion1, PacketType::kZeroRtt) == 1);
    CHECK(long_header_type_bits(kVersion1, PacketType::kHandshake) == 2);
    CHECK(long_header_type_bits(kVersion1, PacketType::kRetry) == 3);
    CHECK(long_header_type_bits(kVersion2, PacketType::kInitial) == 0b01);
    CHECK(long_header_type_bits(kVersion2, PacketType::kZeroRtt) == 0b10);
    CHECK(long_header_type_bits(kVersion2, PacketType::kHandshake) == 0b11);
    CHECK(long_header_type_bits(kVersion2, PacketType::kRetry) == 0b00);
    for (Version v : kVersions) {
        for (PacketType t : {PacketType::kInitial, PacketType::kZeroRtt, PacketType::kHandshake,
                             PacketType::kRetry}) {
            CHECK(packet_type_from_bits(v, long_header_type_bits(v, t)) == t);
        }
    }
    CHECK_FALSE(packet_type_from_bits(kVersion1, 4).has_value());
}

TEST_CASE("RFC 9001 Appendix A.2: client Initial's unprotected header") {
    // "The unprotected header indicates a length of 1182 bytes: the 4-byte packet number,
    // 1162 bytes of frames, and the 16-byte authentication tag."
    Bytes packet = from_hex("c300000001088394c8f03e5157080000449e00000002");
    packet.resize(18 + 0x49e);
    auto h = parse_packet_header(packet, 8);
    REQUIRE(h.ok());
    CHECK(h->type == PacketType::kInitial);
    CHECK(h->long_header);
    CHECK(h->version == kVersion1);
    CHECK(h->first_byte == 0xc3);
    CHECK(h->dcid.to_hex() == "8394c8f03e515708");
    CHECK(h->scid.empty());
    CHECK(h->token.empty());
    CHECK(h->length == 0x49e);
    CHECK(h->pn_offset == 18);
    CHECK(h->packet_size == 1200);

    // The same header written back, byte for byte (4-byte pn, 2-byte Length as in the RFC).
    LongHeaderFields f;
    f.type = PacketType::kInitial;
    f.version = kVersion1;
    f.dcid = cid("8394c8f03e515708");
    f.pn_length = 4;
    f.truncated_pn = 2;
    std::array<uint8_t, 64> buf{};
    ByteWriter w(buf);
    size_t pn_offset = 0;
    REQUIRE(write_long_header(w, f, 0x49e - 4, &pn_offset));
    CHECK(pn_offset == 18);
    CHECK(to_hex(w.written()) == "c300000001088394c8f03e5157080000449e00000002");
}

TEST_CASE("RFC 9001 A.3 and RFC 9369 A.2/A.3: server and v2 Initial headers") {
    // v1 server Initial: 2-byte packet number 1, Length 0x75.
    Bytes server = from_hex("c1000000010008f067a5502a4262b50040750001");
    server.resize(18 + 0x75);
    auto h = parse_packet_header(server, 8);
    REQUIRE(h.ok());
    CHECK(h->type == PacketType::kInitial);
    CHECK(h->dcid.empty());
    CHECK(h->scid.to_hex() == "f067a5502a4262b5");
    CHECK(h->length == 0x75);
    CHECK(h->pn_offset == 18);

    // v2: Initial is type 0b01, so the same header starts 0xd3 / 0xd1.
    Bytes v2_client = from_hex("d36b3343cf088394c8f03e5157080000449e00000002");
    v2_client.resize(18 + 0x49e);
    auto c2 = parse_packet_header(v2_client, 8);
    REQUIRE(c2.ok());
    CHECK(c2->type == PacketType::kInitial);
    CHECK(c2->version == kVersion2);
    CHECK(c2->pn_offset == 18);
    Bytes v2_server = from_hex("d16b3343cf0008f067a5502a4262b50040750001");
    v2_server.resize(18 + 0x75);
    auto s2 = parse_packet_header(v2_server, 8);
    REQUIRE(s2.ok());
    CHECK(s2->type == PacketType::kInitial);
    CHECK(s2->scid.to_hex() == "f067a5502a4262b5");
}

TEST_CASE("long header round trip: every type, v1 and v2, CID lengths 0 and 20, tokens") {
    Bytes big_token(700);
    for (size_t i = 0; i < big_token.size(); ++i) big_token[i] = static_cast<uint8_t>(i * 7);
    for (Version v : kVersions) {
        for (PacketType t : kPnTypes) {
            for (size_t cid_len : {size_t{0}, size_t{20}}) {
                for (size_t pn_len = 1; pn_len <= 4; ++pn_len) {
                    for (size_t token_len : {size_t{0}, big_token.size()}) {
                        if (t != PacketType::kInitial && token_len) continue;
                        CAPTURE(v);
                        CAPTURE(packet_type_name(t));
                        CAPTURE(cid_len);
                        CAPTURE(pn_len);
                        CAPTURE(token_len);
                        LongHeaderFields f;
                        f.type = t;
                        f.version = v;
                        f.dcid = cid_of_length(cid_len, 0x10);
                        f.scid = cid_of_length(cid_len, 0x80);
                        f.token = ByteSpan(big_token).first(token_len);
                        f.pn_length = pn_len;
                        f.truncated_pn = 0xa1b2c3d4;
                        const size_t payload = 100;
                        Bytes p = long_packet(f, payload);
                        // First byte: form, fixed, type bits, reserved 0, pn length - 1.
                        CHECK(p[0] == (0xc0 | long_header_type_bits(v, t) << 4 | (pn_len - 1)));
                        auto h = parse_packet_header(p, 8);
                        REQUIRE(h.ok());
                        CHECK(h->type == t);
                        CHECK(h->long_header);
                        CHECK(h->version == v);
                        CHECK(h->first_byte == p[0]);
                        CHECK(h->dcid == f.dcid);
                        CHECK(h->scid == f.scid);
                        CHECK(to_hex(h->token) == to_hex(f.token));
                        CHECK(h->length == pn_len + payload);
                        CHECK(h->packet_size == p.size());
                        CHECK(h->pn_offset + pn_len + payload == p.size());
                        ByteReader r(ByteSpan(p).subspan(h->pn_offset));
                        uint64_t pn = 0;
                        REQUIRE(r.read_uint(pn_len, pn));
                        CHECK(pn == truncate_packet_number(0xa1b2c3d4, pn_len));
                    }
                }
            }
        }
    }
}

TEST_CASE("long header writing: fixed-size Length reserved and patched later") {
    LongHeaderFields f;
    f.type = PacketType::kHandshake;
    f.version = kVersion1;
    f.dcid = cid("0102030405060708");
    f.pn_length = 2;
    f.truncated_pn = 7;
    f.length_field_size = 2;
    std::array<uint8_t, 256> buf{};
    ByteWriter w(buf);
    size_t pn_offset = 0;
    REQUIRE(write_long_header(w, f, 0, &pn_offset));  // payload size unknown yet
    CHECK(pn_offset == 1 + 4 + 1 + 8 + 1 + 2);
    w.write_zeros(50);
    REQUIRE(patch_long_header_length(w.written(), pn_offset, 2, 2 + 50));
    auto h = parse_packet_header(w.written(), 8);
    REQUIRE(h.ok());
    CHECK(h->length == 52);
    CHECK(h->packet_size == w.size());
    // A short Length forced into 2 bytes is still a valid (non-minimal) varint: 0x40 0x34.
    CHECK(buf[pn_offset - 2] == 0x40);
    CHECK(buf[pn_offset - 1] == 52);

    CHECK_FALSE(patch_long_header_length(w.written(), pn_offset, 2, 1u << 14));  // too big
    CHECK_FALSE(patch_long_header_length(w.written(), pn_offset, 0, 10));
    CHECK_FALSE(patch_long_header_length(w.written(), 1, 2, 10));
    // A fixed Length size that cannot hold the length is refused up front.
    ByteWriter w2(buf);
    f.length_field_size = 1;
    CHECK_FALSE(write_long_header(w2, f, 100, nullptr));
}

TEST_CASE("long header writing: invalid fields and full buffers are refused") {
    std::array<uint8_t, 64> buf{};
    LongHeaderFields f;
    f.type = PacketType::kHandshake;
    f.pn_length = 1;
    {
        ByteWriter w(buf);
        f.token = ByteSpan(buf).first(4);  // only Initial packets carry a token
        CHECK_FALSE(write_long_header(w, f, 30, nullptr));
        f.token = {};
    }
    for (PacketType t :
         {PacketType::kRetry, PacketType::kVersionNegotiation, PacketType::kOneRtt}) {
        ByteWriter w(buf);
        f.type = t;
        CHECK_FALSE(write_long_header(w, f, 30, nullptr));
    }
    f.type = PacketType::kInitial;
    for (size_t bad_len : {size_t{0}, size_t{5}}) {
        ByteWriter w(buf);
        f.pn_length = bad_len;
        CHECK_FALSE(write_long_header(w, f, 30, nullptr));
    }
    f.pn_length = 4;
    f.dcid = cid_of_length(20, 1);
    f.scid = cid_of_length(20, 2);
    std::array<uint8_t, 40> small{};
    ByteWriter w(small);
    CHECK_FALSE(write_long_header(w, f, 30, nullptr));  // needs 1+4+21+21+1+1+4 = 53
}

TEST_CASE("short header round trip: key phase, spin bit, CID lengths 0 and 20") {
    for (size_t cid_len : {size_t{0}, size_t{8}, size_t{20}}) {
        for (int bits = 0; bits < 4; ++bits) {
            const bool key_phase = bits & 1;
            const bool spin = bits & 2;
            for (size_t pn_len = 1; pn_len <= 4; ++pn_len) {
                ConnectionId dcid = cid_of_length(cid_len, 0x33);
                Bytes buf(128);
                ByteWriter w(buf);
                size_t pn_offset = 0;
                REQUIRE(
                    write_short_header(w, dcid, key_phase, spin, pn_len, 0x01020304, &pn_offset));
                CHECK(pn_offset == 1 + cid_len);
                CHECK(w.size() == 1 + cid_len + pn_len);
                CHECK(buf[0] == (0x40 | (spin ? 0x20 : 0) | (key_phase ? 0x04 : 0) | (pn_len - 1)));
                w.write_zeros(30);
                buf.resize(w.size());
                auto h = parse_packet_header(buf, cid_len);
                REQUIRE(h.ok());
                CHECK(h->type == PacketType::kOneRtt);
                CHECK_FALSE(h->long_header);
                CHECK(h->dcid == dcid);
                CHECK(h->pn_offset == 1 + cid_len);
                CHECK(h->packet_size == buf.size());
                CHECK(h->first_byte == buf[0]);
            }
        }
    }
    std::array<uint8_t, 8> tiny{};
    ByteWriter w(tiny);
    CHECK_FALSE(write_short_header(w, cid_of_length(8, 1), false, false, 1, 0, nullptr));
    ByteWriter w2(tiny);
    CHECK_FALSE(write_short_header(w2, ConnectionId(), false, false, 0, 0, nullptr));
}

TEST_CASE("Retry: RFC 9001 A.4 and RFC 9369 A.4 packets built and parsed") {
    const ConnectionId scid = cid("f067a5502a4262b5");
    const Bytes token = from_hex("746f6b656e");  // "token"
    struct Case {
        Version version;
        uint8_t low_bits;
        const char* packet;
    };
    const Case cases[] = {
        {kVersion1, 0x0f,
         "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"},
        {kVersion2, 0x0f,
         "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.version);
        const Bytes expected = from_hex(c.packet);
        Bytes built = build_retry_without_tag(c.version, ConnectionId(), scid, token, c.low_bits);
        CHECK(to_hex(built) == to_hex(ByteSpan(expected).first(expected.size() - 16)));
        auto h = parse_packet_header(expected, 8);
        REQUIRE(h.ok());
        CHECK(h->type == PacketType::kRetry);
        CHECK(h->version == c.version);
        CHECK(h->dcid.empty());
        CHECK(h->scid == scid);
        CHECK(to_hex(h->retry_token) == "746f6b656e");
        CHECK(to_hex(h->retry_integrity_tag) == to_hex(ByteSpan(expected).last(16)));
        CHECK(h->packet_size == expected.size());
        CHECK(h->pn_offset == 0);
    }
    CHECK(build_retry_without_tag(kVersion1, ConnectionId(), scid, {}, 0).empty());
}

TEST_CASE("invariant header: any version, CIDs up to 255 bytes") {
    Bytes p = {0xc0, 0x1a, 0x2b, 0x3c, 0x4d, 255};
    p.insert(p.end(), 255, 0x11);
    p.push_back(200);
    p.insert(p.end(), 200, 0x22);
    p.resize(1200);
    auto inv = parse_invariant_header(p, 8);
    REQUIRE(inv.ok());
    CHECK(inv->long_header);
    CHECK(inv->version == 0x1a2b3c4d);
    CHECK(inv->dcid.size() == 255);
    CHECK(inv->scid.size() == 200);
    CHECK(inv->scid[0] == 0x22);
    // The full parser refuses the version (it cannot interpret the rest).
    CHECK(parse_error(p).find("unsupported version 0x1a2b3c4d") != std::string::npos);
    // A v1 header with a 21-byte CID is still invariant-valid (demux decides to drop it).
    Bytes v1 = from_hex("c00000000115");
    v1.resize(6 + 21 + 1 + 30);
    CHECK(parse_invariant_header(v1, 8).ok());

    // Short header: the DCID length is ours.
    Bytes s = short_packet(cid("0102030405060708"), 30);
    auto sh = parse_invariant_header(s, 8);
    REQUIRE(sh.ok());
    CHECK_FALSE(sh->long_header);
    CHECK(to_hex(sh->dcid) == "0102030405060708");
    CHECK(sh->scid.empty());

    CHECK_FALSE(parse_invariant_header({}, 8).ok());
    CHECK_FALSE(parse_invariant_header(ByteSpan(s).first(8), 8).ok());
    for (size_t n = 1; n < 6 + 255 + 1 + 200; ++n)
        CHECK_FALSE(parse_invariant_header(ByteSpan(p).first(n), 8).ok());
}

TEST_CASE("Version Negotiation: the interop runner's probe gets a valid reply") {
    // quic-interop-runner probes with an unknown version and empty CIDs.
    Bytes probe = from_hex("c057414954 00 00");
    probe.resize(1207);
    auto inv = parse_invariant_header(probe, 8);
    REQUIRE(inv.ok());
    CHECK(inv->long_header);
    CHECK(inv->version == 0x57414954);
    CHECK(inv->dcid.empty());
    CHECK(inv->scid.empty());
    CHECK_FALSE(is_supported_version(inv->version));
    CHECK_FALSE(parse_packet_header(probe, 8).ok());

    const Version supported[] = {kVersion1, kVersion2, reserved_version(0x12345678)};
    // Swapped: our DCID is their SCID.
    Bytes vn = build_version_negotiation(inv->scid, inv->dcid, supported, 0xff);
    CHECK(to_hex(vn) == "ff000000000000000000016b3343cf1a3a5a7a");
    auto h = parse_packet_header(vn, 8);
    REQUIRE(h.ok());
    CHECK(h->type == PacketType::kVersionNegotiation);
    CHECK(h->version == 0);
    CHECK(h->dcid.empty());
    CHECK(h->scid.empty());
    REQUIRE(h->supported_versions.size() == 3);
    CHECK(h->supported_versions[0] == kVersion1);
    CHECK(h->supported_versions[1] == kVersion2);
    CHECK(is_reserved_version(h->supported_versions[2]));
    CHECK(h->packet_size == vn.size());
    // The runner's client chose 0x57414954, which is not listed: valid.
    CHECK(version_negotiation_is_valid(*h, 0x57414954, ConnectionId(), ConnectionId()).ok());
}

TEST_CASE("Version Negotiation: build/parse round trip and RFC 9000 §6.2 checks") {
    const ConnectionId client_dcid = cid("8394c8f03e515708");
    const ConnectionId client_scid = cid("c0ffee");
    const Version supported[] = {kVersion2, kVersion1};
    // The server echoes: DCID = client's SCID, SCID = client's DCID.
    Bytes vn = build_version_negotiation(client_scid.bytes(), client_dcid.bytes(), supported, 0x12);
    CHECK(vn[0] == (0xc0 | 0x12));
    auto h = parse_packet_header(vn, 8);
    REQUIRE(h.ok());
    CHECK(h->dcid == client_scid);
    CHECK(h->scid == client_dcid);
    CHECK(h->supported_versions == std::vector<Version>{kVersion2, kVersion1});
    CHECK(h->supported_versions_omitted == 0);

    CHECK(version_negotiation_is_valid(*h, 0xff00001d, client_dcid, client_scid).ok());
    auto lists_ours = version_negotiation_is_valid(*h, kVersion1, client_dcid, client_scid);
    REQUIRE_FALSE(lists_ours.ok());
    CHECK(lists_ours.error().reason.find("lists the version we chose") != std::string::npos);
    auto swapped = version_negotiation_is_valid(*h, 0xff00001d, client_scid, client_dcid);
    REQUIRE_FALSE(swapped.ok());
    CHECK(swapped.error().reason.find("echo") != std::string::npos);

    // The first byte's unused bits are ignored: 0x80 alone is a VN too (RFC 8999 §6).
    vn[0] = 0x80;
    CHECK(parse_packet_header(vn, 8).ok());

    // Builder limits.
    Bytes long_cid(256, 1);
    CHECK(build_version_negotiation(long_cid, {}, supported, 0).empty());
    CHECK(build_version_negotiation({}, {}, {}, 0).empty());
    CHECK_FALSE(build_version_negotiation(ByteSpan(long_cid).first(255),
                                          ByteSpan(long_cid).first(255), supported, 0)
                    .empty());
    CHECK(is_reserved_version(reserved_version(0)));
    CHECK(is_reserved_version(reserved_version(0xffffffff)));
}

TEST_CASE("Version Negotiation: list capped, the whole list still checked") {
    std::vector<Version> many;
    for (uint32_t i = 0; i < 1000; ++i) many.push_back(0x10000000 + i);
    many.push_back(kVersion1);  // past the cap
    Bytes vn = build_version_negotiation({}, {}, many, 0);
    auto h = parse_packet_header(vn, 8);
    REQUIRE(h.ok());
    CHECK(h->supported_versions.size() == kMaxVersionNegotiationVersions);
    CHECK(h->supported_versions_omitted == many.size() - kMaxVersionNegotiationVersions);
    CHECK_FALSE(version_negotiation_is_valid(*h, kVersion1, {}, {}).ok());
    CHECK(version_negotiation_is_valid(*h, kVersion2, {}, {}).ok());

    // Not a VN at all.
    Bytes s = short_packet(ConnectionId(), 30);
    auto sh = parse_packet_header(s, 0);
    REQUIRE(sh.ok());
    CHECK_FALSE(version_negotiation_is_valid(*sh, kVersion1, {}, {}).ok());
}

TEST_CASE("coalesced packets: Initial + Handshake + 1-RTT") {
    const ConnectionId dcid = cid("0011223344556677");
    const ConnectionId scid = cid("8899aabb");
    LongHeaderFields init;
    init.type = PacketType::kInitial;
    init.dcid = dcid;
    init.scid = scid;
    init.pn_length = 1;
    LongHeaderFields hs = init;
    hs.type = PacketType::kHandshake;
    hs.pn_length = 2;
    Bytes p1 = long_packet(init, 40, 0x01);
    Bytes p2 = long_packet(hs, 60, 0x02);
    Bytes p3 = short_packet(dcid, 25);
    Bytes datagram = concat({p1, p2, p3});

    SplitDatagram split = split_coalesced_packets(datagram, 8);
    REQUIRE(split.packets.size() == 3);
    CHECK(split.packets[0].header.type == PacketType::kInitial);
    CHECK(split.packets[1].header.type == PacketType::kHandshake);
    CHECK(split.packets[2].header.type == PacketType::kOneRtt);
    CHECK(to_hex(split.packets[0].bytes) == to_hex(p1));
    CHECK(to_hex(split.packets[1].bytes) == to_hex(p2));
    CHECK(to_hex(split.packets[2].bytes) == to_hex(p3));
    for (const auto& p : split.packets) CHECK(p.header.dcid == dcid);
    CHECK(split.dropped_bytes == 0);
    CHECK(split.drop_reason.empty());
    CHECK(split.dcid_mismatches == 0);

    SUBCASE("trailing garbage is dropped") {
        Bytes d = concat({p1, p2});
        d.insert(d.end(), 7, 0x00);  // a zero first byte: fixed bit 0
        SplitDatagram s = split_coalesced_packets(d, 8);
        CHECK(s.packets.size() == 2);
        CHECK(s.dropped_bytes == 7);
        CHECK(s.drop_reason.find("fixed bit 0") != std::string::npos);
    }
    SUBCASE("a Length past the end drops the rest") {
        Bytes d = concat({p1, ByteSpan(p2).first(p2.size() - 1), p3});
        // p2's Length now runs into p3 and past the end of the datagram.
        d.resize(p1.size() + p2.size() - 1);
        SplitDatagram s = split_coalesced_packets(d, 8);
        CHECK(s.packets.size() == 1);
        CHECK(s.dropped_bytes == p2.size() - 1);
        CHECK(s.drop_reason.find("exceeds") != std::string::npos);
    }
    SUBCASE("a packet with another DCID is skipped, later ones kept") {
        LongHeaderFields other = hs;
        other.dcid = cid("ffffffffffffffff");
        Bytes d = concat({p1, long_packet(other, 30), p3});
        SplitDatagram s = split_coalesced_packets(d, 8);
        CHECK(s.packets.size() == 2);
        CHECK(s.dcid_mismatches == 1);
        CHECK(s.packets[1].header.type == PacketType::kOneRtt);
        CHECK(s.dropped_bytes == 0);
    }
    SUBCASE("a first packet that does not parse yields nothing") {
        Bytes d = {0x00, 0x01, 0x02};
        SplitDatagram s = split_coalesced_packets(d, 8);
        CHECK(s.packets.empty());
        CHECK(s.dropped_bytes == 3);
        CHECK_FALSE(s.drop_reason.empty());
        CHECK(split_coalesced_packets({}, 8).packets.empty());
    }
    SUBCASE("at most kMaxCoalescedPackets per datagram") {
        Bytes d;
        for (size_t i = 0; i < kMaxCoalescedPackets + 5; ++i) {
            Bytes p = long_packet(hs, 20);
            d.insert(d.end(), p.begin(), p.end());
        }
        SplitDatagram s = split_coalesced_packets(d, 8);
        CHECK(s.packets.size() == kMaxCoalescedPackets);
        CHECK(s.dropped_bytes == 5 * p2.size() - 5 * 40);
        CHECK(s.drop_reason.find("coalesced") != std::string::npos);
    }
}

TEST_CASE("malformed headers: table of inputs and the reason each is dropped for") {
    // 20 bytes of packet number + payload, the minimum that passes the Length checks.
    const std::string body20 = "0000000000000000000000000000000000000000";
    struct Case {
        const char* name;
        std::string hex;
        const char* reason;  // substring of the error; "" = parses
        size_t short_dcid_len = 8;
        bool allow_fixed_bit_zero = false;
    };
    const Case cases[] = {
        {"empty", "", "empty packet"},
        {"v1 Initial, minimal", "c0 00000001 00 00 00 14" + body20, ""},
        {"v1 Initial, DCID length 21",
         "c0 00000001 15" + std::string(42, '1') + "00 00 14" + body20,
         "DCID length 21 exceeds 20"},
        {"v1 Handshake, SCID length 21", "e0 00000001 00 15" + std::string(42, '1') + "14" + body20,
         "SCID length 21 exceeds 20"},
        {"v2 Handshake, DCID length 21", "f0 6b3343cf 15" + std::string(42, '1') + "00 14" + body20,
         "DCID length 21 exceeds 20"},
        {"Length past the end", "c0 00000001 00 00 00 15" + body20, "exceeds the 20 remaining"},
        {"Length 2-byte varint past the end", "e0 00000001 00 00 4100" + body20, "exceeds"},
        {"Length below the sample size", "e0 00000001 00 00 13" + body20.substr(2),
         "too short for the header protection sample"},
        {"Length 0", "e0 00000001 00 00 00", "too short"},
        {"Length missing", "e0 00000001 00 00", "truncated Length"},
        {"token length past the end", "c0 00000001 00 00 44ff 14" + body20, "truncated token"},
        {"long header, fixed bit 0", "80 00000001 00 00 00 14" + body20, "fixed bit 0"},
        {"long header, fixed bit 0 allowed", "80 00000001 00 00 00 14" + body20, "", 8, true},
        {"short header, fixed bit 0", "00 0102030405060708" + body20, "fixed bit 0"},
        {"short header, fixed bit 0 allowed", "00 0102030405060708" + body20, "", 8, true},
        {"short header, minimal", "40 0102030405060708" + body20, ""},
        {"short header, too short", "40 0102030405060708" + body20.substr(2), "too short"},
        {"short header, empty DCID, 21 bytes", "40" + body20, "", 0},
        {"short header, empty DCID, 20 bytes", "40" + body20.substr(2), "too short", 0},
        {"short header, configured DCID length 21", "40" + body20 + body20, "exceeds 20", 21},
        {"unsupported version", "c0 ff00001d 00 00 00 14" + body20,
         "unsupported version 0xff00001d"},
        {"reserved version", "c0 1a2a3a4a 00 00 00 14" + body20, "unsupported version"},
        {"truncated version", "c0 000000", "truncated version"},
        {"VN without versions", "80 00000000 00 00", "without Supported Version"},
        {"VN with a truncated version", "80 00000000 00 00 00000001 0000", "truncated version"},
        {"VN with a 21-byte DCID", "80 00000000 15" + std::string(42, '1') + "00 00000001",
         "DCID length 21"},
        {"VN, minimal", "80 00000000 00 00 00000001", ""},
        {"Retry without a tag", "f0 00000001 00 08 0102030405060708 aabb",
         "truncated integrity tag"},
        {"Retry with an empty token", "f0 00000001 00 00" + std::string(32, 'e'), "empty token"},
        {"Retry, one-byte token", "f0 00000001 00 00 aa" + std::string(32, 'e'), ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const Bytes p = from_hex(c.hex);
        const std::string got = parse_error(p, c.short_dcid_len, c.allow_fixed_bit_zero);
        if (std::string(c.reason).empty()) {
            CHECK(got == "");
        } else {
            CAPTURE(got);
            CHECK(got.find(c.reason) != std::string::npos);
        }
    }
}

TEST_CASE("malformed headers: truncation at every byte of each header kind") {
    const ConnectionId dcid = cid_of_length(8, 0x40);
    const ConnectionId scid = cid_of_length(5, 0x60);
    Bytes token(10, 0x77);
    for (Version v : kVersions) {
        for (PacketType t : kPnTypes) {
            LongHeaderFields f;
            f.type = t;
            f.version = v;
            f.dcid = dcid;
            f.scid = scid;
            if (t == PacketType::kInitial) f.token = token;
            f.pn_length = 2;
            f.length_field_size = 2;
            const Bytes p = long_packet(f, 30);
            REQUIRE(parse_packet_header(p, 8).ok());
            // Every proper prefix is missing a header field or bytes the Length promises.
            for (size_t n = 0; n < p.size(); ++n) {
                CAPTURE(packet_type_name(t));
                CAPTURE(n);
                CHECK_FALSE(parse_packet_header(ByteSpan(p).first(n), 8).ok());
            }
        }
        // Retry: anything shorter than the header, a 1-byte token and the tag.
        Bytes retry = build_retry_without_tag(v, dcid, scid, token, 0);
        const size_t header_size = retry.size() - token.size();
        retry.insert(retry.end(), 16, 0xee);
        REQUIRE(parse_packet_header(retry, 8).ok());
        for (size_t n = 0; n < header_size + 1 + 16; ++n) {
            CAPTURE(n);
            CHECK_FALSE(parse_packet_header(ByteSpan(retry).first(n), 8).ok());
        }
    }
    // Short header: the DCID, then the 20 bytes the header protection sample needs.
    const Bytes s = short_packet(dcid, 18);
    REQUIRE(s.size() == 1 + 8 + 2 + 18);
    REQUIRE(parse_packet_header(s, 8).ok());
    for (size_t n = 0; n < s.size(); ++n)
        CHECK_FALSE(parse_packet_header(ByteSpan(s).first(n), 8).ok());
    // Version Negotiation: a prefix is valid only when it ends on a whole, non-empty list.
    const Version versions[] = {kVersion1, kVersion2};
    const Bytes vn = build_version_negotiation(scid.bytes(), dcid.bytes(), versions, 0);
    const size_t vn_header = vn.size() - 8;
    for (size_t n = 0; n < vn.size(); ++n) {
        CAPTURE(n);
        const bool whole = n > vn_header && (n - vn_header) % 4 == 0;
        CHECK(parse_packet_header(ByteSpan(vn).first(n), 8).ok() == whole);
    }
}

TEST_CASE("stateless reset: layout") {
    StatelessResetToken token;
    for (size_t i = 0; i < token.size(); ++i) token[i] = static_cast<uint8_t>(0xa0 + i);
    SeededRandom rng(42);
    for (size_t size : {kMinStatelessResetSize, size_t{43}, kMaxStatelessResetSize}) {
        Bytes r = build_stateless_reset(size, token, rng);
        REQUIRE(r.size() == size);
        CHECK((r[0] & 0xc0) == 0x40);  // short header form, fixed bit 1
        CHECK(to_hex(ByteSpan(r).last(16)) == to_hex(token));
        auto candidate = stateless_reset_token_candidate(r);
        REQUIRE(candidate.has_value());
        CHECK(stateless_reset_token_equal(*candidate, token));
        // To anyone without the token it is a short header packet (RFC 9000 §10.3), as long as
        // the DCID length leaves the 20 bytes the sample needs.
        CHECK(parse_packet_header(r, 0).ok());
    }
    // The unpredictable bytes differ between resets.
    Bytes a = build_stateless_reset(40, token, rng);
    Bytes b = build_stateless_reset(40, token, rng);
    CHECK(to_hex(ByteSpan(a).first(24)) != to_hex(ByteSpan(b).first(24)));
    CHECK(build_stateless_reset(kMinStatelessResetSize - 1, token, rng).empty());
    CHECK(kMinStatelessResetSize == 21);
}

TEST_CASE("stateless reset: size rules (RFC 9000 §10.3, §10.3.3)") {
    CHECK_FALSE(stateless_reset_size_for(0).has_value());
    CHECK_FALSE(stateless_reset_size_for(20).has_value());
    CHECK_FALSE(stateless_reset_size_for(21).has_value());  // cannot be smaller and >= 21
    CHECK(stateless_reset_size_for(22) == 21);
    CHECK(stateless_reset_size_for(43) == 42);  // "one byte shorter" up to 43 bytes
    CHECK(stateless_reset_size_for(44) == 43);
    CHECK(stateless_reset_size_for(65) == 64);
    CHECK(stateless_reset_size_for(1200) == kMaxStatelessResetSize);
    CHECK(stateless_reset_size_for(65527) == kMaxStatelessResetSize);
    // Always smaller than the trigger (no loops), never an amplification.
    for (size_t trigger = 0; trigger < 2000; ++trigger) {
        auto s = stateless_reset_size_for(trigger);
        if (!s) continue;
        CHECK(*s < trigger);
        CHECK(*s >= kMinStatelessResetSize);
    }
}

TEST_CASE("stateless reset: candidate detection") {
    Bytes d(20, 0x55);
    CHECK_FALSE(stateless_reset_token_candidate(d).has_value());
    d.push_back(0x66);
    auto c = stateless_reset_token_candidate(d);
    REQUIRE(c.has_value());
    CHECK((*c)[15] == 0x66);
    CHECK((*c)[0] == 0x55);
    // Long headers are candidates too (RFC 9000 §10.3: other versions might use them).
    Bytes l(100, 0x01);
    l[0] = 0xc0;
    l.back() = 0x99;
    REQUIRE(stateless_reset_token_candidate(l).has_value());
    CHECK((*stateless_reset_token_candidate(l))[15] == 0x99);

    StatelessResetToken x{}, y{};
    CHECK(stateless_reset_token_equal(x, y));
    y[15] = 1;
    CHECK_FALSE(stateless_reset_token_equal(x, y));
    y[15] = 0;
    y[0] = 0x80;
    CHECK_FALSE(stateless_reset_token_equal(x, y));
}
