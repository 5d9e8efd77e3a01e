// HPACK Huffman code (RFC 7541 §5.2, Appendix B): the Huffman strings of the Appendix C.4 and
// C.6 examples byte for byte, round trips, and the malformed encodings §5.2 makes errors.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>

#include "hex.h"
#include "http3/huffman.h"
#include "quic/random.h"

namespace quic::h3 {
namespace {

using test::from_hex;
using test::to_hex;

std::string encode_hex(std::string_view s) {
    Bytes out;
    huffman_encode(s, out);
    CHECK(out.size() == huffman_encoded_size(s));
    return to_hex(out);
}

std::optional<std::string> decode(const Bytes& in) {
    std::string out;
    if (!huffman_decode(in, out)) return std::nullopt;
    return out;
}

struct Vector {
    std::string_view text;
    std::string_view hex;
};

// RFC 7541 C.4 (requests) and C.6 (responses): every Huffman-encoded literal.
constexpr Vector kVectors[] = {
    {"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"},  // C.4.1
    {"no-cache", "a8eb10649cbf"},                     // C.4.2
    {"custom-key", "25a849e95ba97d7f"},               // C.4.3
    {"custom-value", "25a849e95bb8e8b4bf"},           // C.4.3
    {"302", "6402"},                                  // C.6.1
    {"private", "aec3771a4b"},
    {"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"},
    {"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"},
    {"307", "640eff"},                                                                  // C.6.2
    {"Mon, 21 Oct 2013 20:13:22 GMT", "d07abe941054d444a8200595040b8166e084a62d1bff"},  // C.6.3
    {"gzip", "9bd9ab"},
    {"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
     "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d"
     "5007"},
};

TEST_CASE("huffman: RFC 7541 C.4 and C.6 strings encode and decode byte-exact") {
    for (const Vector& v : kVectors) {
        CAPTURE(v.text);
        CHECK(encode_hex(v.text) == v.hex);
        CHECK(decode(from_hex(v.hex)) == std::string(v.text));
    }
}

TEST_CASE("huffman: every byte value round-trips, alone and together") {
    std::string all;
    for (int b = 0; b < 256; ++b) {
        const std::string one(1, static_cast<char>(b));
        Bytes enc;
        huffman_encode(one, enc);
        CHECK(decode(enc) == one);
        all.push_back(static_cast<char>(b));
    }
    Bytes enc;
    huffman_encode(all, enc);
    CHECK(decode(enc) == all);
    CHECK(encode_hex("") == "");
    CHECK(decode({}) == std::string());
}

TEST_CASE("huffman: random strings round-trip") {
    SeededRandom rng(7541);
    for (int i = 0; i < 2000; ++i) {
        std::string s(rng.uniform(64), '\0');
        const bool printable = rng.uniform(2) == 0;
        for (char& c : s)
            c = static_cast<char>(printable ? 0x20 + rng.uniform(0x5f) : rng.uniform(256));
        Bytes enc;
        huffman_encode(s, enc);
        REQUIRE(decode(enc) == s);
    }
}

TEST_CASE("huffman: malformed encodings are rejected (RFC 7541 §5.2)") {
    // EOS (30 one bits) decoded as a symbol.
    CHECK_FALSE(decode(from_hex("ffffffff")));
    // 'a' (00011) then EOS inside the string.
    CHECK_FALSE(decode(from_hex("1fffffffff")));
    // 'a' then 11 bits of padding: longer than 7 bits.
    CHECK_FALSE(decode(from_hex("1fff")));
    // A whole octet of padding after a complete string.
    CHECK_FALSE(decode(from_hex("f1e3c2e5f23a6ba0ab90f4ffff")));
    // 'a' then padding 000: not the most significant bits of EOS.
    CHECK_FALSE(decode(from_hex("18")));
    // 'a' then padding 110.
    CHECK_FALSE(decode(from_hex("1e")));
    // The valid form: 'a' then 111.
    CHECK(decode(from_hex("1f")) == std::string("a"));
}

}  // namespace
}  // namespace quic::h3
