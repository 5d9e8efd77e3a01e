// The public wire-level HTTP/3 layer (quic/http3/wire.h): RFC 9204 Appendix B's first field
// section, malformed frames encoded as asked, and the decoders' error codes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "hex.h"
#include "quic/http3/error.h"
#include "quic/http3/wire.h"

namespace quic::h3 {
namespace {

using test::from_hex;
using test::to_hex;

void check_error(const Error& e, H3Error code) {
    CHECK_MESSAGE(is_h3_error(e, code), h3_error_name(e.code), ": ", e.reason);
}

TEST_CASE("wire: RFC 9204 B.1 field section, static table and a literal with a name reference") {
    const std::vector<Field> fields{{":path", "/index.html"}};
    const Bytes encoded = wire::encode_field_section(fields, /*huffman=*/false);
    CHECK(to_hex(encoded) == "0000510b2f696e6465782e68746d6c");
    wire::FieldSectionDecoder decoder;
    auto s = decoder.decode(0, encoded);
    REQUIRE(s.ok());
    CHECK(s->outcome == wire::FieldSectionDecoder::Outcome::kDecoded);
    CHECK(s->fields == fields);
}

TEST_CASE("wire: fields are encoded as given: order, case, pseudo-fields last, empty names") {
    const std::vector<Field> fields{{"User-Agent", "x"},
                                    {":method", "GET"},
                                    {"", "v"},
                                    {":path", "/"},
                                    {"x-long", std::string(300, 'a')}};
    for (bool huffman : {false, true}) {
        wire::FieldSectionDecoder decoder;
        auto s = decoder.decode(4, wire::encode_field_section(fields, huffman));
        REQUIRE(s.ok());
        CHECK(s->fields == fields);
    }
}

TEST_CASE("wire: a reference beyond the static table is QPACK_DECOMPRESSION_FAILED") {
    wire::FieldSectionDecoder decoder;
    // Indexed field line, static, index 99 (the table has 0..98): 0b11 + 6-bit prefix 63, 36.
    auto s = decoder.decode(0, from_hex("0000 ff24"));
    REQUIRE(!s.ok());
    check_error(s.error(), H3Error::kQpackDecompressionFailed);
}

TEST_CASE("wire: frames with lying lengths, raw SETTINGS and stream headers") {
    Bytes out;
    wire::append_frame(out, wire::kGoaway, wire::varint_payload(4));
    CHECK(to_hex(out) == "070104");
    out.clear();
    wire::append_frame(out, 0x21, from_hex("aabb"), 7);  // reserved type, Length 7, 2 bytes
    CHECK(to_hex(out) == "2107aabb");
    const std::vector<Setting> repeated{{0x06, 100}, {0x06, 200}, {0x02, 1}};
    CHECK(to_hex(wire::settings_payload(repeated)) == "0640640640c80201");
    CHECK(to_hex(wire::stream_header(wire::kPushStream, 3)) == "0103");
    CHECK(to_hex(wire::stream_header(wire::kControlStream)) == "00");
}

TEST_CASE("wire: FrameReader reports known, unknown and DATA frames fed a byte at a time") {
    Bytes in;
    const Bytes section = wire::encode_field_section(std::vector<Field>{{":status", "200"}});
    wire::append_frame(in, wire::kHeaders, section);
    wire::append_frame(in, 0x21, from_hex("010203"));
    wire::append_frame(in, wire::kData, from_hex("0a0b0c"));
    wire::append_frame(in, wire::kGoaway, wire::varint_payload(8));
    wire::FrameReader reader;
    std::vector<wire::ReceivedFrame> frames;
    for (uint8_t b : in) {
        auto got = reader.feed(ByteSpan(&b, 1));
        REQUIRE(got.ok());
        frames.insert(frames.end(), got->begin(), got->end());
    }
    CHECK(reader.finish().ok());
    REQUIRE(frames.size() == 6);  // HEADERS, the reserved frame, DATA in 3 pieces, GOAWAY
    CHECK(frames[0].type == wire::kHeaders);
    CHECK(frames[0].payload == section);
    CHECK(frames[1].type == 0x21);
    CHECK(frames[1].length == 3);
    Bytes data;
    for (int i = 2; i < 5; ++i) {
        CHECK(frames[i].type == wire::kData);
        CHECK(frames[i].complete == (i == 4));
        data.insert(data.end(), frames[i].payload.begin(), frames[i].payload.end());
    }
    CHECK(to_hex(data) == "0a0b0c");
    CHECK(frames[5].type == wire::kGoaway);
    CHECK(frames[5].id == 8u);
}

TEST_CASE("wire: FrameReader errors: a short GOAWAY, a repeated setting, a cut frame") {
    {
        wire::FrameReader r;
        Bytes in;
        wire::append_frame(in, wire::kGoaway, {}, 0);
        auto got = r.feed(in);
        REQUIRE(!got.ok());
        check_error(got.error(), H3Error::kFrameError);
    }
    {
        wire::FrameReader r;
        Bytes in;
        const std::vector<Setting> twice{{0x06, 1}, {0x06, 2}};
        wire::append_frame(in, wire::kSettings, wire::settings_payload(twice));
        auto got = r.feed(in);
        REQUIRE(!got.ok());
        check_error(got.error(), H3Error::kSettingsError);
    }
    {
        wire::FrameReader r;
        REQUIRE(r.feed(from_hex("0005aa")).ok());
        REQUIRE(!r.finish().ok());
        check_error(r.finish().error(), H3Error::kFrameError);
    }
}

}  // namespace
}  // namespace quic::h3
