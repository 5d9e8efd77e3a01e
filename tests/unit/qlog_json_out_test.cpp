// The qlog writer's serializer (qlog/json_out.h), checked against nlohmann::json's strict
// parser: structure and separators, numbers and times, and text from anywhere (every byte
// value, random bytes, cut UTF-8) always giving valid JSON that reads back as the input when
// the input was valid UTF-8.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "qlog/json_out.h"
#include "qlog/limits.h"

namespace {

using nlohmann::json;

// Runs `build` on a fresh buffer and parses what it wrote (strictly: throws on bad JSON).
template <typename F>
json written(F build) {
    qlog::RecordBuffer buffer;
    qlog::JsonOut j(buffer);
    build(j);
    const std::string_view text = buffer.view();
    INFO("output: " << std::string(text));
    json out;
    REQUIRE_NOTHROW(out = json::parse(text));
    return out;
}

json text_value(std::string_view s, size_t max = SIZE_MAX) {
    return written([&](qlog::JsonOut& j) {
        j.begin_object().key("t").text(s, std::min(max, s.size() + 1)).end_object();
    })["t"];
}

// True when nlohmann accepts `s` as UTF-8 (its dump throws otherwise).
bool valid_utf8(const std::string& s) {
    try {
        (void)json(s).dump();
        return true;
    } catch (const json::type_error&) {
        return false;
    }
}

}  // namespace

TEST_CASE("qlog json: objects, arrays and separators") {
    const json j = written([](qlog::JsonOut& o) {
        o.begin_object();
        o.key("a").number(uint64_t{1});
        o.key("b").begin_array().number(uint64_t{2}).begin_object().end_object();
        o.begin_array().end_array().trusted("x").boolean(false).end_array();
        o.key("c").begin_object().key("d").boolean(true).key("e").number(int64_t{-5});
        o.end_object();
        o.key("f").begin_array().end_array();
        o.end_object();
    });
    CHECK(j == json::parse(R"({"a":1,"b":[2,{},[],"x",false],"c":{"d":true,"e":-5},"f":[]})"));
}

TEST_CASE("qlog json: integers at their limits and doubles that read back the same") {
    const json j = written([](qlog::JsonOut& o) {
        o.begin_array();
        o.number(uint64_t{0}).number(std::numeric_limits<uint64_t>::max());
        o.number(std::numeric_limits<int64_t>::min()).number(std::numeric_limits<int64_t>::max());
        o.number(0.1).number(1e300).number(-2.5e-300).number(1234567.875);
        o.number(std::nan("")).number(std::numeric_limits<double>::infinity());
        o.end_array();
    });
    CHECK(j[0] == 0);
    CHECK(j[1].get<uint64_t>() == std::numeric_limits<uint64_t>::max());
    CHECK(j[2].get<int64_t>() == std::numeric_limits<int64_t>::min());
    CHECK(j[3].get<int64_t>() == std::numeric_limits<int64_t>::max());
    CHECK(j[4].get<double>() == 0.1);
    CHECK(j[5].get<double>() == 1e300);
    CHECK(j[6].get<double>() == -2.5e-300);
    CHECK(j[7].get<double>() == 1234567.875);
    CHECK(j[8].is_null());  // JSON has no NaN or infinity
    CHECK(j[9].is_null());
}

TEST_CASE("qlog json: milliseconds are the nanoseconds rounded to the microsecond") {
    // What the writer printed before (std::round to microseconds, then / 1000, as a double):
    // the same value must read back.
    auto reference = [](int64_t ns) { return std::round(static_cast<double>(ns) / 1e3) / 1e3; };
    std::mt19937_64 rng(14);
    std::vector<int64_t> values = {0,
                                   1,
                                   499,
                                   500,
                                   999,
                                   1000,
                                   1500,
                                   -1,
                                   -499,
                                   -500,
                                   -501,
                                   -1000,
                                   250'000,
                                   1'000'250'000,
                                   33'333'333,
                                   123'456'789'012,
                                   -123'456'789'012};
    for (int i = 0; i < 2000; ++i)
        values.push_back(static_cast<int64_t>(rng() >> 14) - (1LL << 49));
    for (int64_t ns : values) {
        CAPTURE(ns);
        const json j = written([&](qlog::JsonOut& o) {
            o.begin_array().milliseconds(quic::Duration(ns)).end_array();
        });
        CHECK(j[0].get<double>() == reference(ns));
    }
    const json k = written([](qlog::JsonOut& o) {
        o.begin_array().microseconds_as_ms(800).microseconds_as_ms(1000).microseconds_as_ms(-1010);
        o.microseconds_as_ms(std::numeric_limits<int64_t>::min()).end_array();
    });
    CHECK(k[0] == 0.8);
    CHECK(k[1] == 1);
    CHECK(k[2] == -1.01);
    CHECK(k[3].get<double>() == static_cast<double>(std::numeric_limits<int64_t>::min()) / 1e3);
}

TEST_CASE("qlog json: text is escaped and reads back as written") {
    CHECK(text_value("plain") == "plain");
    CHECK(text_value("quote \" backslash \\ slash /") == "quote \" backslash \\ slash /");
    CHECK(text_value("\n\r\t\b\f") == "\n\r\t\b\f");
    CHECK(text_value("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
          "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    std::string all_ascii;
    for (int c = 0; c < 0x80; ++c) all_ascii.push_back(static_cast<char>(c));
    CHECK(text_value(all_ascii) == all_ascii);
}

TEST_CASE("qlog json: bytes that are not UTF-8 become U+FFFD, whatever they are") {
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(text_value("a\xFF"
                     "b") == "a" + fffd + "b");
    CHECK(text_value("\xC3") == fffd);                                   // cut short
    CHECK(text_value("\xC0\xAF") == fffd + fffd);                        // overlong '/'
    CHECK(text_value("\xED\xA0\x80") == fffd + fffd + fffd);             // a UTF-16 surrogate
    CHECK(text_value("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // past U+10FFFF
    CHECK(text_value("\x80x") == fffd + "x");  // a stray continuation byte
    // Every single byte, and random byte strings: always valid JSON; valid UTF-8 unchanged.
    for (int c = 0; c < 256; ++c) {
        const std::string s(1, static_cast<char>(c));
        const json v = text_value(s);
        CHECK(v.is_string());
        if (valid_utf8(s)) CHECK(v == s);
    }
    std::mt19937 rng(6);
    for (int i = 0; i < 3000; ++i) {
        std::string s(rng() % 24, '\0');
        for (char& ch : s) ch = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 0x80 + rng() % 64);
        const json v = text_value(s);
        REQUIRE(v.is_string());
        if (valid_utf8(s)) CHECK(v == s);
    }
}

TEST_CASE("qlog json: capped text is cut between characters and says so") {
    const std::string euro = "\xE2\x82\xAC";  // 3 bytes
    const std::string text = "ab" + euro + euro;
    // A cap inside the first euro sign cuts before it.
    CHECK(text_value(text, 3) == "ab" + std::string(qlog::kTruncationMarker));
    CHECK(text_value(text, 5) == "ab" + euro + std::string(qlog::kTruncationMarker));
    CHECK(text_value(text, 8) == text);
    CHECK(text_value(text, 0) == std::string(qlog::kTruncationMarker));
}

TEST_CASE("qlog json: hex, and a buffer that grows far past its first size") {
    const std::vector<uint8_t> bytes = {0x00, 0x0f, 0xa5, 0xff};
    CHECK(written([&](qlog::JsonOut& o) { o.begin_array().hex(bytes, 16).end_array(); })[0] ==
          "000fa5ff");
    CHECK(written([&](qlog::JsonOut& o) { o.begin_array().hex(bytes, 2).end_array(); })[0] ==
          "000f");
    const json big = written([](qlog::JsonOut& o) {
        o.begin_array();
        for (uint64_t i = 0; i < 100'000; ++i) o.number(i);
        o.end_array();
    });
    REQUIRE(big.size() == 100'000);
    CHECK(big[99'999] == 99'999);
}
