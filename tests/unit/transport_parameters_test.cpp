// Transport parameters: RFC 9000 §7.3, §7.4, §18; RFC 9368 §3-4; RFC 9221 §3; RFC 9287 §3.
#include "quic/transport_parameters.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <string>
#include <vector>

#include "quic/random.h"

namespace {

using quic::Bytes;
using quic::ConnectionId;
using quic::Role;
using quic::TransportErrorCode;
using quic::TransportParameters;
using Id = quic::TransportParameterId;

constexpr uint64_t kVarintMax = quic::kVarintMax;

Bytes varint(uint64_t v) {
    std::array<uint8_t, 8> buf;
    quic::ByteWriter w(buf);
    w.write_varint(v);
    REQUIRE(w.ok());
    return Bytes(w.written().begin(), w.written().end());
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// One raw (id, length, value) tuple, RFC 9000 §18 Figure 21.
Bytes param(uint64_t id, const Bytes& value) {
    return cat({varint(id), varint(value.size()), value});
}
Bytes param(Id id, const Bytes& value) {
    return param(static_cast<uint64_t>(id), value);
}

Bytes repeat(size_t n, uint8_t b) {
    return Bytes(n, b);
}

ConnectionId cid(size_t len, uint8_t first = 0x10) {
    // An empty vector's data() may be null, which ConnectionId's memcpy must not see.
    if (len == 0) return ConnectionId();
    Bytes b(len);
    for (size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(first + i);
    return ConnectionId(b);
}

quic::StatelessResetToken token(uint8_t first) {
    quic::StatelessResetToken t;
    for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint8_t>(first + i);
    return t;
}

Bytes be32(uint32_t v) {
    return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
            static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

// A preferred_address value (§18.2 Figure 22) with the given connection ID length byte.
Bytes preferred_address_value(uint8_t cid_len, size_t cid_bytes) {
    return cat({Bytes{192, 0, 2, 1}, Bytes{0x11, 0x51}, repeat(16, 0x20), Bytes{0x01, 0xbb},
                Bytes{cid_len}, repeat(cid_bytes, 0xcc), repeat(16, 0xdd)});
}

quic::PreferredAddress sample_preferred_address(size_t cid_len) {
    quic::PreferredAddress pa;
    pa.ipv4_address = {192, 0, 2, 1};
    pa.ipv4_port = 4433;
    for (size_t i = 0; i < 16; ++i) pa.ipv6_address[i] = static_cast<uint8_t>(0x20 + i);
    pa.ipv6_port = 443;
    pa.connection_id = cid(cid_len, 0x80);
    pa.stateless_reset_token = token(0xa0);
    return pa;
}

// Every parameter set to a non-default value; the server-only ones only for a server.
TransportParameters full_parameters(Role role) {
    TransportParameters p;
    if (role == Role::kServer) {
        p.original_destination_connection_id = cid(8, 0x01);
        p.stateless_reset_token = token(0x40);
        p.preferred_address = sample_preferred_address(8);
        p.retry_source_connection_id = cid(20, 0x30);
    }
    p.max_idle_timeout_ms = 30000;
    p.max_udp_payload_size = 1472;
    p.initial_max_data = 1 << 20;
    p.initial_max_stream_data_bidi_local = 1 << 18;
    p.initial_max_stream_data_bidi_remote = 1 << 17;
    p.initial_max_stream_data_uni = 1 << 16;
    p.initial_max_streams_bidi = 100;
    p.initial_max_streams_uni = 3;
    p.ack_delay_exponent = 10;
    p.max_ack_delay_ms = 40;
    p.disable_active_migration = true;
    p.active_connection_id_limit = 8;
    p.initial_source_connection_id = cid(0);  // zero-length is valid (§7.3)
    p.max_datagram_frame_size = 65535;
    p.grease_quic_bit = true;
    p.version_information =
        quic::VersionInformation{quic::kVersion1, {quic::kVersion2, quic::kVersion1, 0x1a2a3a4a}};
    return p;
}

TransportParameters round_trip(const TransportParameters& p, Role role) {
    auto enc = quic::encode_transport_parameters(p, role);
    REQUIRE_MESSAGE(enc.ok(), enc.error().to_string());
    auto dec = quic::decode_transport_parameters(*enc, role);
    REQUIRE_MESSAGE(dec.ok(), dec.error().to_string());
    return *dec;
}

// Integer parameters with their valid boundary values and first invalid ones.
struct IntegerField {
    const char* name;
    Id id;
    uint64_t TransportParameters::*field;
    std::vector<uint64_t> valid;
    std::vector<uint64_t> invalid;  // each must fit a varint so it can be put on the wire
};

std::vector<IntegerField> integer_fields() {
    const std::vector<uint64_t> any = {0,         63, 64, 16383, 16384, 1u << 30, (1u << 30) - 1,
                                       kVarintMax};
    return {
        {"max_idle_timeout",
         Id::kMaxIdleTimeout,
         &TransportParameters::max_idle_timeout_ms,
         any,
         {}},
        {"max_udp_payload_size",
         Id::kMaxUdpPayloadSize,
         &TransportParameters::max_udp_payload_size,
         {1200, 1201, 65527, 65528, kVarintMax},
         {0, 63, 1199}},
        {"initial_max_data", Id::kInitialMaxData, &TransportParameters::initial_max_data, any, {}},
        {"initial_max_stream_data_bidi_local",
         Id::kInitialMaxStreamDataBidiLocal,
         &TransportParameters::initial_max_stream_data_bidi_local,
         any,
         {}},
        {"initial_max_stream_data_bidi_remote",
         Id::kInitialMaxStreamDataBidiRemote,
         &TransportParameters::initial_max_stream_data_bidi_remote,
         any,
         {}},
        {"initial_max_stream_data_uni",
         Id::kInitialMaxStreamDataUni,
         &TransportParameters::initial_max_stream_data_uni,
         any,
         {}},
        {"initial_max_streams_bidi",
         Id::kInitialMaxStreamsBidi,
         &TransportParameters::initial_max_streams_bidi,
         {0, 63, 64, uint64_t{1} << 60},
         {(uint64_t{1} << 60) + 1, kVarintMax}},
        {"initial_max_streams_uni",
         Id::kInitialMaxStreamsUni,
         &TransportParameters::initial_max_streams_uni,
         {0, 63, 64, uint64_t{1} << 60},
         {(uint64_t{1} << 60) + 1, kVarintMax}},
        {"ack_delay_exponent",
         Id::kAckDelayExponent,
         &TransportParameters::ack_delay_exponent,
         {0, 3, 19, 20},
         {21, 63, 64, kVarintMax}},
        {"max_ack_delay",
         Id::kMaxAckDelay,
         &TransportParameters::max_ack_delay_ms,
         {0, 25, 63, 64, 16383},
         {16384, kVarintMax}},
        {"active_connection_id_limit",
         Id::kActiveConnectionIdLimit,
         &TransportParameters::active_connection_id_limit,
         {2, 3, 63, 64, kVarintMax},
         {0, 1}},
    };
}

// Offsets at which a parameter ends, found by walking the tuples.
std::vector<size_t> parameter_boundaries(const Bytes& blob) {
    std::vector<size_t> ends = {0};
    quic::ByteReader r(blob);
    while (!r.empty()) {
        uint64_t id = 0, len = 0;
        REQUIRE(r.read_varint(id));
        REQUIRE(r.read_varint(len));
        REQUIRE(r.skip(len));
        ends.push_back(r.position());
    }
    return ends;
}

}  // namespace

TEST_CASE("transport parameters: defaults encode to nothing and decode from nothing") {
    for (Role role : {Role::kClient, Role::kServer}) {
        auto enc = quic::encode_transport_parameters(TransportParameters{}, role);
        REQUIRE(enc.ok());
        CHECK(enc->empty());
        auto dec = quic::decode_transport_parameters({}, role);
        REQUIRE(dec.ok());
        CHECK(*dec == TransportParameters{});
        CHECK(dec->max_udp_payload_size == 65527);
        CHECK(dec->ack_delay_exponent == 3);
        CHECK(dec->max_ack_delay_ms == 25);
        CHECK(dec->active_connection_id_limit == 2);
        CHECK(!dec->max_datagram_frame_size);
        CHECK(!dec->version_information);
    }
}

TEST_CASE("transport parameters: every parameter round-trips, both roles") {
    for (Role role : {Role::kClient, Role::kServer}) {
        CAPTURE(static_cast<int>(role));
        TransportParameters p = full_parameters(role);
        CHECK(round_trip(p, role) == p);
    }
}

TEST_CASE("transport parameters: integer boundary values round-trip") {
    for (const IntegerField& f : integer_fields()) {
        for (uint64_t v : f.valid) {
            for (Role role : {Role::kClient, Role::kServer}) {
                CAPTURE(f.name);
                CAPTURE(v);
                TransportParameters p;
                p.*f.field = v;
                TransportParameters got = round_trip(p, role);
                CHECK(got.*f.field == v);
                CHECK(got == p);
            }
        }
    }
    for (uint64_t v : {uint64_t{0}, uint64_t{63}, uint64_t{64}, kVarintMax}) {
        TransportParameters p;
        p.max_datagram_frame_size = v;
        CHECK(round_trip(p, Role::kClient) == p);  // an explicit 0 stays present (RFC 9221 §3)
    }
}

TEST_CASE("transport parameters: connection IDs of length 0 and 20") {
    for (size_t len : {size_t{0}, size_t{1}, size_t{20}}) {
        TransportParameters p;
        p.original_destination_connection_id = cid(len, 1);
        p.initial_source_connection_id = cid(len, 2);
        p.retry_source_connection_id = cid(len, 3);
        CHECK(round_trip(p, Role::kServer) == p);
    }
}

TEST_CASE("transport parameters: preferred_address round-trips") {
    for (size_t len : {size_t{1}, size_t{8}, size_t{20}}) {
        TransportParameters p;
        p.preferred_address = sample_preferred_address(len);
        TransportParameters got = round_trip(p, Role::kServer);
        REQUIRE(got.preferred_address);
        CHECK(got.preferred_address->ipv4_port == 4433);
        CHECK(got.preferred_address->connection_id.size() == len);
        CHECK(got == p);
    }
    // An all-zero IPv4 address and port is how a server offers only IPv6 (§18.2).
    TransportParameters p;
    p.preferred_address = sample_preferred_address(4);
    p.preferred_address->ipv4_address = {};
    p.preferred_address->ipv4_port = 0;
    CHECK(round_trip(p, Role::kServer) == p);
}

TEST_CASE("transport parameters: version_information") {
    TransportParameters p;
    p.version_information = quic::VersionInformation{
        quic::kVersion2, {quic::kVersion2, quic::kVersion1, 0x0a0a0a0a, 0xfa1afa2a}};
    CHECK(round_trip(p, Role::kClient) == p);
    CHECK(round_trip(p, Role::kServer) == p);

    // A server's list may be empty and need not include its Chosen Version (RFC 9368 §3).
    p.version_information = quic::VersionInformation{quic::kVersion1, {}};
    CHECK(round_trip(p, Role::kServer) == p);
    p.version_information = quic::VersionInformation{quic::kVersion1, {quic::kVersion2}};
    CHECK(round_trip(p, Role::kServer) == p);

    SUBCASE("a long list keeps the first kMaxAvailableVersions and is checked in full") {
        // 100 versions from a client; the Chosen Version is only at index 89.
        Bytes value = be32(0xff000063);
        for (uint32_t i = 0; i < 100; ++i) value = cat({value, be32(0xff000000 + i + 10)});
        auto dec =
            quic::decode_transport_parameters(param(Id::kVersionInformation, value), Role::kClient);
        REQUIRE_MESSAGE(dec.ok(), dec.error().to_string());
        REQUIRE(dec->version_information);
        CHECK(dec->version_information->chosen_version == 0xff000063);
        REQUIRE(dec->version_information->available_versions.size() == quic::kMaxAvailableVersions);
        CHECK(dec->version_information->available_versions[0] == 0xff00000a);
        // The Chosen Version, past the cap, takes the last kept place: what is kept is valid
        // client Version Information and round-trips (a fuzzer finding).
        CHECK(dec->version_information->available_versions.back() == 0xff000063);
        CHECK(round_trip(*dec, Role::kClient) == *dec);

        // A zero past the cap is still a parsing failure (RFC 9368 §4).
        Bytes with_zero = cat({value, be32(0)});
        auto bad = quic::decode_transport_parameters(param(Id::kVersionInformation, with_zero),
                                                     Role::kClient);
        REQUIRE(!bad.ok());
        CHECK(bad.error().is_transport(TransportErrorCode::kTransportParameterError));
    }
}

TEST_CASE("transport parameters: a grease parameter is added and ignored") {
    TransportParameters p = full_parameters(Role::kServer);
    auto plain = quic::encode_transport_parameters(p, Role::kServer);
    REQUIRE(plain.ok());
    bool saw_nonempty = false;
    for (uint64_t seed = 1; seed <= 64; ++seed) {
        CAPTURE(seed);
        quic::SeededRandom rng(seed);
        auto enc = quic::encode_transport_parameters(p, Role::kServer, &rng);
        REQUIRE(enc.ok());
        // The greased blob is the plain one plus one trailing reserved parameter (§18.1).
        REQUIRE(enc->size() > plain->size());
        CHECK(std::equal(plain->begin(), plain->end(), enc->begin()));
        Bytes tail(enc->begin() + static_cast<ptrdiff_t>(plain->size()), enc->end());
        quic::ByteReader r(tail);
        uint64_t id = 0, len = 0;
        REQUIRE(r.read_varint(id));
        REQUIRE(r.read_varint(len));
        CHECK(id % 31 == 27);
        CHECK(len <= 16);
        CHECK(r.remaining() == len);
        saw_nonempty |= len > 0;

        auto dec = quic::decode_transport_parameters(*enc, Role::kServer);
        REQUIRE_MESSAGE(dec.ok(), dec.error().to_string());
        CHECK(*dec == p);
    }
    CHECK(saw_nonempty);
    // The same seed gives the same bytes (the RNG is the only source of variation).
    quic::SeededRandom a(7), b(7);
    CHECK(*quic::encode_transport_parameters(p, Role::kServer, &a) ==
          *quic::encode_transport_parameters(p, Role::kServer, &b));
}

TEST_CASE("transport parameters: unknown and reserved ids are ignored (§7.4.2)") {
    Bytes blob = cat({param(27, {}), param(0x1b + 31 * 1000, repeat(40, 0xee)),
                      param(Id::kInitialMaxData, varint(1000)), param(0x3fff, {1, 2, 3}),
                      param(kVarintMax, {9})});
    auto dec = quic::decode_transport_parameters(blob, Role::kClient);
    REQUIRE_MESSAGE(dec.ok(), dec.error().to_string());
    TransportParameters want;
    want.initial_max_data = 1000;
    CHECK(*dec == want);
}

TEST_CASE("transport parameters: byte-exact encoding") {
    TransportParameters p;
    p.max_idle_timeout_ms = 30000;      // 4-byte varint 0x80007530
    p.initial_max_data = 1048576;       // 4-byte varint 0x80100000
    p.initial_max_streams_bidi = 100;   // 2-byte varint 0x4064
    p.ack_delay_exponent = 3;           // default: omitted
    p.disable_active_migration = true;  // empty value
    p.initial_source_connection_id = ConnectionId(Bytes{0xc1, 0xc2, 0xc3, 0xc4});
    p.version_information = quic::VersionInformation{quic::kVersion1, {quic::kVersion1}};
    p.max_datagram_frame_size = 65535;  // 4-byte varint 0x8000ffff
    p.grease_quic_bit = true;           // id 0x2ab2 -> 2-byte varint 0x6ab2
    const Bytes expected = {
        0x01, 0x04, 0x80, 0x00, 0x75, 0x30,                          // max_idle_timeout
        0x04, 0x04, 0x80, 0x10, 0x00, 0x00,                          // initial_max_data
        0x08, 0x02, 0x40, 0x64,                                      // initial_max_streams_bidi
        0x0c, 0x00,                                                  // disable_active_migration
        0x0f, 0x04, 0xc1, 0xc2, 0xc3, 0xc4,                          // initial_source_cid
        0x11, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,  // version_information
        0x20, 0x04, 0x80, 0x00, 0xff, 0xff,                          // max_datagram_frame_size
        0x6a, 0xb2, 0x00,                                            // grease_quic_bit
    };
    auto enc = quic::encode_transport_parameters(p, Role::kClient);
    REQUIRE(enc.ok());
    CHECK(*enc == expected);
    auto dec = quic::decode_transport_parameters(expected, Role::kClient);
    REQUIRE(dec.ok());
    CHECK(*dec == p);

    // Server-only parameters, by hand.
    TransportParameters s;
    s.original_destination_connection_id = ConnectionId(Bytes{0xaa, 0xbb});
    s.stateless_reset_token = token(0);
    s.retry_source_connection_id = ConnectionId(Bytes{0x55});
    s.preferred_address = quic::PreferredAddress{
        {192, 0, 2, 1}, 0x1151, {}, 0x01bb, ConnectionId(Bytes{0xcc}), token(0x10)};
    Bytes pa = {0x0d, 0x2a, 192, 0, 2, 1, 0x11, 0x51};
    pa.insert(pa.end(), 16, 0);
    pa.insert(pa.end(), {0x01, 0xbb, 0x01, 0xcc});
    for (uint8_t i = 0; i < 16; ++i) pa.push_back(static_cast<uint8_t>(0x10 + i));
    Bytes srt = {0x02, 0x10};
    for (uint8_t i = 0; i < 16; ++i) srt.push_back(i);
    const Bytes expected_server =
        cat({Bytes{0x00, 0x02, 0xaa, 0xbb}, srt, pa, Bytes{0x10, 0x01, 0x55}});
    auto senc = quic::encode_transport_parameters(s, Role::kServer);
    REQUIRE(senc.ok());
    CHECK(*senc == expected_server);
}

TEST_CASE("transport parameters: encode refuses what must not be sent") {
    auto expect_internal = [](const TransportParameters& p, Role role, const char* substring) {
        CAPTURE(substring);
        auto enc = quic::encode_transport_parameters(p, role);
        REQUIRE(!enc.ok());
        CHECK(enc.error().is_transport(TransportErrorCode::kInternalError));
        CHECK(enc.error().reason.find(substring) != std::string::npos);
    };
    TransportParameters p;
    p.original_destination_connection_id = cid(4);
    expect_internal(p, Role::kClient, "original_destination_connection_id");
    p = {};
    p.stateless_reset_token = token(1);
    expect_internal(p, Role::kClient, "stateless_reset_token");
    p = {};
    p.preferred_address = sample_preferred_address(4);
    expect_internal(p, Role::kClient, "preferred_address");
    p = {};
    p.retry_source_connection_id = cid(4);
    expect_internal(p, Role::kClient, "retry_source_connection_id");

    for (const IntegerField& f : integer_fields()) {
        for (uint64_t v : f.invalid) {
            p = {};
            p.*f.field = v;
            expect_internal(p, Role::kServer, f.name);
        }
        p = {};
        p.*f.field = kVarintMax + 1;  // cannot be encoded at all
        expect_internal(p, Role::kServer, f.name);
    }
    p = {};
    p.max_datagram_frame_size = kVarintMax + 1;
    expect_internal(p, Role::kClient, "max_datagram_frame_size");
    p = {};
    p.preferred_address = sample_preferred_address(0);
    expect_internal(p, Role::kServer, "zero-length connection ID");
    p = {};
    p.version_information = quic::VersionInformation{0, {quic::kVersion1}};
    expect_internal(p, Role::kServer, "Chosen Version is zero");
    p.version_information = quic::VersionInformation{quic::kVersion1, {quic::kVersion1, 0}};
    expect_internal(p, Role::kServer, "Available Version is zero");
    p.version_information = quic::VersionInformation{quic::kVersion1, {quic::kVersion2}};
    expect_internal(p, Role::kClient, "not in its Available Versions");
    p.version_information = quic::VersionInformation{
        quic::kVersion1, std::vector<quic::Version>(quic::kMaxAvailableVersions + 1, 1)};
    expect_internal(p, Role::kServer, "kMaxAvailableVersions");
}

namespace {

struct Malformed {
    std::string name;
    Bytes input;
    Role sender;
    std::string reason;  // a substring of the error's reason
};

std::vector<Malformed> malformed_cases() {
    const Role C = Role::kClient;
    const Role S = Role::kServer;
    const Bytes pa44 = preferred_address_value(4, 4);
    std::vector<Malformed> m = {
        // Framing (§18).
        {"truncated 2-byte id", {0x40}, S, "truncated parameter id"},
        {"truncated 8-byte id", {0xc0, 0, 0, 0, 0, 0, 0}, S, "truncated parameter id"},
        {"missing length", {0x01}, S, "max_idle_timeout (0x1): truncated length"},
        {"truncated length", {0x01, 0x40}, S, "max_idle_timeout (0x1): truncated length"},
        {"unknown id, missing length", {0x1b}, S, "0x1b: truncated length"},
        {"value truncated", {0x01, 0x02, 0x45}, S, "max_idle_timeout (0x1): value truncated"},
        {"huge length", {0x01, 0xbf, 0xff, 0xff, 0xff, 0x00}, S, "value truncated"},
        {"unknown id, value truncated", {0x1b, 0x05, 0, 0}, S, "0x1b: value truncated"},
        {"varint longer than its length", {0x01, 0x01, 0x40}, S, "not exactly one varint"},
        // Duplicates (§7.4), including of an ignored id.
        {"duplicate unknown id", cat({param(27, {1}), param(4, varint(1)), param(27, {})}), S,
         "0x1b: duplicate"},
        // Server-only parameters from a client (§18.2).
        {"odcid from client", param(Id::kOriginalDestinationConnectionId, {1, 2}), C,
         "original_destination_connection_id (0x0): server-only"},
        {"stateless_reset_token from client", param(Id::kStatelessResetToken, repeat(16, 1)), C,
         "stateless_reset_token (0x2): server-only"},
        {"preferred_address from client",
         param(Id::kPreferredAddress, preferred_address_value(4, 4)), C,
         "preferred_address (0xd): server-only"},
        {"retry_scid from client", param(Id::kRetrySourceConnectionId, {1}), C,
         "retry_source_connection_id (0x10): server-only"},
        // stateless_reset_token must be 16 bytes (§18.2).
        {"stateless_reset_token empty", param(Id::kStatelessResetToken, {}), S,
         "stateless_reset_token (0x2): length is not 16"},
        {"stateless_reset_token 15", param(Id::kStatelessResetToken, repeat(15, 1)), S,
         "stateless_reset_token (0x2): length is not 16"},
        {"stateless_reset_token 17", param(Id::kStatelessResetToken, repeat(17, 1)), S,
         "stateless_reset_token (0x2): length is not 16"},
        // Connection IDs of at most 20 bytes (§17.2).
        {"odcid 21", param(Id::kOriginalDestinationConnectionId, repeat(21, 1)), S,
         "original_destination_connection_id (0x0): connection ID longer than 20"},
        {"iscid 21", param(Id::kInitialSourceConnectionId, repeat(21, 1)), C,
         "initial_source_connection_id (0xf): connection ID longer than 20"},
        {"rscid 21", param(Id::kRetrySourceConnectionId, repeat(21, 1)), S,
         "retry_source_connection_id (0x10): connection ID longer than 20"},
        // preferred_address (§18.2 Figure 22).
        {"preferred_address empty", param(Id::kPreferredAddress, {}), S,
         "preferred_address (0xd): value too short"},
        {"preferred_address without cid length",
         param(Id::kPreferredAddress, Bytes(pa44.begin(), pa44.begin() + 24)), S,
         "preferred_address (0xd): value too short"},
        {"preferred_address zero-length cid",
         param(Id::kPreferredAddress, preferred_address_value(0, 0)), S,
         "preferred_address (0xd): zero-length connection ID"},
        {"preferred_address cid 21", param(Id::kPreferredAddress, preferred_address_value(21, 21)),
         S, "preferred_address (0xd): connection ID longer than 20"},
        {"preferred_address cid length past the value",
         param(Id::kPreferredAddress, preferred_address_value(20, 4)), S,
         "preferred_address (0xd): value too short"},
        {"preferred_address one byte short",
         param(Id::kPreferredAddress, Bytes(pa44.begin(), pa44.end() - 1)), S,
         "preferred_address (0xd): value too short"},
        {"preferred_address trailing byte", param(Id::kPreferredAddress, cat({pa44, Bytes{0}})), S,
         "preferred_address (0xd): trailing bytes"},
        // Zero-length flags (§18.2, RFC 9287 §3).
        {"disable_active_migration with a value", param(Id::kDisableActiveMigration, {0}), C,
         "disable_active_migration (0xc): value must be empty"},
        {"grease_quic_bit with a value", param(Id::kGreaseQuicBit, {0}), C,
         "grease_quic_bit (0x2ab2): value must be empty"},
        // max_datagram_frame_size is a varint (RFC 9221 §3).
        {"max_datagram_frame_size empty", param(Id::kMaxDatagramFrameSize, {}), C,
         "max_datagram_frame_size (0x20): value is not exactly one varint"},
        {"max_datagram_frame_size trailing", param(Id::kMaxDatagramFrameSize, {0x05, 0x00}), C,
         "max_datagram_frame_size (0x20): value is not exactly one varint"},
        {"max_datagram_frame_size short varint", param(Id::kMaxDatagramFrameSize, {0x80, 0, 1}), C,
         "max_datagram_frame_size (0x20): value is not exactly one varint"},
        // version_information (RFC 9368 §4).
        {"version_information empty", param(Id::kVersionInformation, {}), S,
         "version_information (0x11): length is not a positive multiple of 4"},
        {"version_information 3 bytes", param(Id::kVersionInformation, {0, 0, 1}), S,
         "version_information (0x11): length is not a positive multiple of 4"},
        {"version_information 5 bytes", param(Id::kVersionInformation, {0, 0, 0, 1, 0}), S,
         "version_information (0x11): length is not a positive multiple of 4"},
        {"version_information 7 bytes", param(Id::kVersionInformation, {0, 0, 0, 1, 0, 0, 0}), C,
         "version_information (0x11): length is not a positive multiple of 4"},
        {"version_information chosen 0", param(Id::kVersionInformation, cat({be32(0), be32(1)})), S,
         "version_information (0x11): Chosen Version is zero"},
        {"version_information chosen 0 alone", param(Id::kVersionInformation, be32(0)), S,
         "version_information (0x11): Chosen Version is zero"},
        {"version_information available 0",
         param(Id::kVersionInformation, cat({be32(1), be32(1), be32(0)})), C,
         "version_information (0x11): an Available Version is zero"},
        {"version_information client chosen not available",
         param(Id::kVersionInformation, cat({be32(1), be32(quic::kVersion2)})), C,
         "version_information (0x11): client's Chosen Version is not in its Available"},
        {"version_information client empty list", param(Id::kVersionInformation, be32(1)), C,
         "version_information (0x11): client's Chosen Version is not in its Available"},
        // An error after valid parameters is still an error.
        {"error after valid parameters",
         cat({param(Id::kInitialMaxData, varint(5)), param(Id::kAckDelayExponent, varint(21))}), S,
         "ack_delay_exponent (0xa): value above 20"},
    };

    // Every integer parameter: empty value, trailing byte, out-of-range values.
    for (const IntegerField& f : integer_fields()) {
        std::string name = f.name;
        std::string prefix = name + " (0x";
        m.push_back({name + " empty", param(f.id, {}), S, "not exactly one varint"});
        m.push_back({name + " trailing byte", param(f.id, cat({varint(1), Bytes{0}})), S,
                     "not exactly one varint"});
        m.push_back(
            {name + " 2-byte varint in 1 byte", param(f.id, {0x7f}), S, "not exactly one varint"});
        for (uint64_t v : f.invalid)
            m.push_back({name + " = " + std::to_string(v), param(f.id, varint(v)), S, prefix});
    }
    // Exact reasons for the first value past each limit.
    m.push_back({"max_udp_payload_size 1199", param(Id::kMaxUdpPayloadSize, varint(1199)), C,
                 "max_udp_payload_size (0x3): value below 1200"});
    m.push_back({"ack_delay_exponent 21", param(Id::kAckDelayExponent, varint(21)), C,
                 "ack_delay_exponent (0xa): value above 20"});
    m.push_back({"max_ack_delay 2^14", param(Id::kMaxAckDelay, varint(16384)), C,
                 "max_ack_delay (0xb): value 2^14 or greater"});
    m.push_back({"active_connection_id_limit 1", param(Id::kActiveConnectionIdLimit, varint(1)), C,
                 "active_connection_id_limit (0xe): value below 2"});
    m.push_back({"initial_max_streams_bidi 2^60+1",
                 param(Id::kInitialMaxStreamsBidi, varint((uint64_t{1} << 60) + 1)), C,
                 "initial_max_streams_bidi (0x8): value above 2^60"});
    m.push_back({"initial_max_streams_uni 2^60+1",
                 param(Id::kInitialMaxStreamsUni, varint((uint64_t{1} << 60) + 1)), C,
                 "initial_max_streams_uni (0x9): value above 2^60"});

    // Every known parameter twice (§7.4), with a valid value each time.
    const TransportParameters full = full_parameters(Role::kServer);
    auto full_blob = quic::encode_transport_parameters(full, Role::kServer);
    REQUIRE(full_blob.ok());
    std::vector<size_t> ends = parameter_boundaries(*full_blob);
    for (size_t i = 0; i + 1 < ends.size(); ++i) {
        Bytes one(full_blob->begin() + static_cast<ptrdiff_t>(ends[i]),
                  full_blob->begin() + static_cast<ptrdiff_t>(ends[i + 1]));
        m.push_back(
            {"duplicate #" + std::to_string(i), cat({*full_blob, one}), S, "duplicate parameter"});
    }
    return m;
}

}  // namespace

TEST_CASE("transport parameters: malformed inputs") {
    std::vector<Malformed> cases = malformed_cases();
    for (const Malformed& c : cases) {
        CAPTURE(c.name);
        auto dec = quic::decode_transport_parameters(c.input, c.sender);
        REQUIRE_MESSAGE(!dec.ok(), c.name);
        CHECK(dec.error().is_transport(TransportErrorCode::kTransportParameterError));
        CHECK_MESSAGE(dec.error().reason.find(c.reason) != std::string::npos, dec.error().reason);
    }
    MESSAGE("malformed cases: ", cases.size());
    // 20 known ids: each duplicated once.
    CHECK(cases.size() >= 100);
}

TEST_CASE("transport parameters: every strict prefix fails or ends on a boundary") {
    for (Role role : {Role::kClient, Role::kServer}) {
        quic::SeededRandom rng(42);
        auto blob = quic::encode_transport_parameters(full_parameters(role), role, &rng);
        REQUIRE(blob.ok());
        std::vector<size_t> ends = parameter_boundaries(*blob);
        for (size_t n = 0; n < blob->size(); ++n) {
            CAPTURE(n);
            auto dec = quic::decode_transport_parameters(quic::ByteSpan(blob->data(), n), role);
            bool boundary = std::find(ends.begin(), ends.end(), n) != ends.end();
            if (boundary) {
                CHECK_MESSAGE(dec.ok(), dec.error().to_string());
            } else {
                REQUIRE(!dec.ok());
                CHECK(dec.error().is_transport(TransportErrorCode::kTransportParameterError));
            }
        }
    }
}

TEST_CASE("transport parameters: validate_connection_id_parameters (§7.3)") {
    const ConnectionId c1 = cid(8, 0xc1);  // client's SCID
    const ConnectionId s1 = cid(8, 0x51);  // client's first DCID
    const ConnectionId s2 = cid(8, 0x52);  // Retry SCID
    const ConnectionId s3 = cid(8, 0x53);  // server's SCID
    auto expect_error = [](const quic::Status& st, TransportErrorCode code, const char* sub) {
        CAPTURE(sub);
        REQUIRE(!st.ok());
        CHECK(st.error().is_transport(code));
        CHECK_MESSAGE(st.error().reason.find(sub) != std::string::npos, st.error().reason);
    };
    using quic::validate_connection_id_parameters;

    SUBCASE("client peer") {
        TransportParameters client;
        client.initial_source_connection_id = c1;
        CHECK(validate_connection_id_parameters(client, Role::kClient, c1, nullptr, nullptr).ok());
        // Zero-length connection IDs are sent as zero-length values (§7.3).
        client.initial_source_connection_id = ConnectionId();
        CHECK(validate_connection_id_parameters(client, Role::kClient, ConnectionId(), nullptr,
                                                nullptr)
                  .ok());
        expect_error(validate_connection_id_parameters(client, Role::kClient, c1, nullptr, nullptr),
                     TransportErrorCode::kTransportParameterError,
                     "initial_source_connection_id (0xf): is ");
        client.initial_source_connection_id.reset();
        expect_error(validate_connection_id_parameters(client, Role::kClient, c1, nullptr, nullptr),
                     TransportErrorCode::kTransportParameterError,
                     "initial_source_connection_id (0xf): missing");
    }

    SUBCASE("server peer without Retry") {
        TransportParameters server;
        server.initial_source_connection_id = s3;
        server.original_destination_connection_id = s1;
        CHECK(validate_connection_id_parameters(server, Role::kServer, s3, &s1, nullptr).ok());
        expect_error(validate_connection_id_parameters(server, Role::kServer, s3, &s2, nullptr),
                     TransportErrorCode::kTransportParameterError,
                     "original_destination_connection_id (0x0): is ");
        expect_error(validate_connection_id_parameters(server, Role::kServer, s1, &s1, nullptr),
                     TransportErrorCode::kTransportParameterError,
                     "initial_source_connection_id (0xf): is ");
        server.retry_source_connection_id = s2;
        expect_error(validate_connection_id_parameters(server, Role::kServer, s3, &s1, nullptr),
                     TransportErrorCode::kTransportParameterError,
                     "retry_source_connection_id (0x10): present although no Retry");
        server.retry_source_connection_id.reset();
        server.original_destination_connection_id.reset();
        expect_error(validate_connection_id_parameters(server, Role::kServer, s3, &s1, nullptr),
                     TransportErrorCode::kTransportParameterError,
                     "original_destination_connection_id (0x0): missing");
        server.initial_source_connection_id.reset();
        expect_error(validate_connection_id_parameters(server, Role::kServer, s3, &s1, nullptr),
                     TransportErrorCode::kTransportParameterError,
                     "initial_source_connection_id (0xf): missing");
    }

    SUBCASE("server peer after Retry") {
        TransportParameters server;
        server.initial_source_connection_id = s3;
        server.original_destination_connection_id = s1;
        server.retry_source_connection_id = s2;
        CHECK(validate_connection_id_parameters(server, Role::kServer, s3, &s1, &s2).ok());
        expect_error(validate_connection_id_parameters(server, Role::kServer, s3, &s1, &s3),
                     TransportErrorCode::kTransportParameterError,
                     "retry_source_connection_id (0x10): is ");
        server.retry_source_connection_id.reset();
        expect_error(validate_connection_id_parameters(server, Role::kServer, s3, &s1, &s2),
                     TransportErrorCode::kTransportParameterError,
                     "retry_source_connection_id (0x10): missing although a Retry");
    }

    SUBCASE("caller bug: server peer without an expected ODCID") {
        TransportParameters server;
        server.initial_source_connection_id = s3;
        server.original_destination_connection_id = s1;
        expect_error(validate_connection_id_parameters(server, Role::kServer, s3, nullptr, nullptr),
                     TransportErrorCode::kInternalError, "original_destination_connection_id");
    }
}
