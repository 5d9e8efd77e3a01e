// util/: varints (RFC 9000 §16 and Appendix A.1), the bounds-checked reader and writer, Result.
#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "quic/bytes.h"
#include "quic/random.h"
#include "quic/result.h"
#include "quic/varint.h"

using namespace quic;

namespace {

uint64_t decode_one(std::vector<uint8_t> bytes, size_t* consumed = nullptr) {
    ByteReader r(bytes);
    uint64_t v = 0;
    REQUIRE(r.read_varint(v));
    if (consumed) *consumed = r.position();
    return v;
}

std::vector<uint8_t> encode_one(uint64_t v) {
    std::array<uint8_t, 8> buf{};
    ByteWriter w(buf);
    w.write_varint(v);
    REQUIRE(w.ok());
    return {buf.begin(), buf.begin() + w.size()};
}

}  // namespace

TEST_CASE("varint: RFC 9000 Appendix A.1 sample decodings") {
    size_t n = 0;
    CHECK(decode_one({0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}, &n) ==
          151288809941952652ull);
    CHECK(n == 8);
    CHECK(decode_one({0x9d, 0x7f, 0x3e, 0x7d}, &n) == 494878333);
    CHECK(n == 4);
    CHECK(decode_one({0x7b, 0xbd}, &n) == 15293);
    CHECK(n == 2);
    CHECK(decode_one({0x25}, &n) == 37);
    CHECK(n == 1);
    // "the two-byte sequence 0x40 0x25 also decodes to 37"
    CHECK(decode_one({0x40, 0x25}, &n) == 37);
    CHECK(n == 2);
}

TEST_CASE("varint: encodings are the shortest and round trip at every boundary") {
    CHECK(encode_one(151288809941952652ull) ==
          std::vector<uint8_t>{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c});
    CHECK(encode_one(494878333) == std::vector<uint8_t>{0x9d, 0x7f, 0x3e, 0x7d});
    CHECK(encode_one(15293) == std::vector<uint8_t>{0x7b, 0xbd});
    CHECK(encode_one(37) == std::vector<uint8_t>{0x25});
    const uint64_t values[] = {0, 63, 64, 16383, 16384, (1u << 30) - 1, 1u << 30, kVarintMax};
    const size_t sizes[] = {1, 1, 2, 2, 4, 4, 8, 8};
    for (size_t i = 0; i < 8; ++i) {
        CAPTURE(values[i]);
        auto bytes = encode_one(values[i]);
        CHECK(bytes.size() == sizes[i]);
        CHECK(varint_size(values[i]) == sizes[i]);
        CHECK(decode_one(bytes) == values[i]);
    }
}

TEST_CASE("varint: values above 2^62-1 cannot be written") {
    std::array<uint8_t, 16> buf{};
    ByteWriter w(buf);
    CHECK(varint_size(kVarintMax + 1) == 0);
    w.write_varint(kVarintMax + 1);
    CHECK_FALSE(w.ok());
    CHECK(w.size() == 0);
}

TEST_CASE("varint: truncated at every byte fails without consuming") {
    const std::vector<uint8_t> full = {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c};
    for (size_t len = 0; len < full.size(); ++len) {
        ByteReader r(ByteSpan(full).first(len));
        uint64_t v = 0;
        CHECK_FALSE(r.read_varint(v));
        CHECK(r.position() == 0);
    }
}

TEST_CASE("varint: fixed-length encodings for reserved Length fields") {
    std::array<uint8_t, 8> buf{};
    ByteWriter w(buf);
    w.write_varint_with_length(37, 2);
    CHECK(w.ok());
    CHECK(buf[0] == 0x40);
    CHECK(buf[1] == 0x25);
    ByteWriter too_small(buf);
    too_small.write_varint_with_length(16384, 2);
    CHECK_FALSE(too_small.ok());
    ByteWriter bad_length(buf);
    bad_length.write_varint_with_length(1, 3);
    CHECK_FALSE(bad_length.ok());
}

TEST_CASE("ByteReader: every read is bounds-checked") {
    const std::vector<uint8_t> data = {1, 2, 3};
    ByteReader r(data);
    uint32_t u32 = 0;
    CHECK_FALSE(r.read_u32(u32));
    uint16_t u16 = 0;
    REQUIRE(r.read_u16(u16));
    CHECK(u16 == 0x0102);
    ByteSpan s;
    CHECK_FALSE(r.read_bytes(2, s));
    CHECK(r.read_bytes(1, s));
    CHECK(s[0] == 3);
    uint8_t u8 = 0;
    CHECK_FALSE(r.read_u8(u8));
    CHECK_FALSE(r.skip(1));
    CHECK(r.empty());
    uint64_t big = 0;
    ByteReader r2(data);
    CHECK_FALSE(r2.read_uint(9, big));
}

TEST_CASE("ByteWriter: an overflowing write fails the writer and writes nothing") {
    std::array<uint8_t, 3> buf{};
    ByteWriter w(buf);
    w.write_u16(0xabcd);
    CHECK(w.ok());
    w.write_u16(0x1234);
    CHECK_FALSE(w.ok());
    CHECK(w.size() == 2);
    w.write_u8(1);  // sticky: nothing more is written once failed
    CHECK(w.size() == 2);
    CHECK(buf[2] == 0);
}

TEST_CASE("Result: carries a value or an Error; QUIC_TRY propagates") {
    auto fails = []() -> Status {
        return Error::transport(TransportErrorCode::kFrameEncodingError, "short", 0x06);
    };
    auto wraps = [&]() -> Result<int> {
        QUIC_TRY(fails());
        return 1;
    };
    Result<int> r = wraps();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is_transport(TransportErrorCode::kFrameEncodingError));
    CHECK(r.error().frame_type == 0x06);
    CHECK(r.error().to_string() == "FRAME_ENCODING_ERROR (frame 0x6): short");
    Result<int> good = 7;
    CHECK(good.ok());
    CHECK(*good == 7);
    CHECK(transport_error_name(0x12a) == "CRYPTO_ERROR(0x12a)");
    CHECK(transport_error_name(0x11) == "VERSION_NEGOTIATION_ERROR");
}

TEST_CASE("SeededRandom: one seed, one sequence") {
    SeededRandom a(42), b(42), c(43);
    std::array<uint8_t, 37> x{}, y{}, z{};
    a.fill(x);
    b.fill(y);
    c.fill(z);
    CHECK(x == y);
    CHECK(x != z);
}
