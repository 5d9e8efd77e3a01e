// QPACK (RFC 9204): primitives, the static table, the Appendix B examples byte for byte, encoder
// and decoder round trips with delayed and split encoder/decoder streams, and the limits a peer
// must not be able to get past.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "hex.h"
#include "http3/qpack_decoder.h"
#include "http3/qpack_encoder.h"
#include "http3/qpack_instructions.h"
#include "http3/qpack_static_table.h"
#include "quic/http3/error.h"
#include "quic/random.h"

namespace quic::h3 {
namespace {

using test::from_hex;
using test::to_hex;
using Status_ = DecodedFieldSection::Status;

std::vector<Field> fields(std::initializer_list<std::pair<const char*, const char*>> list) {
    std::vector<Field> out;
    for (auto& [n, v] : list) out.push_back(Field{n, v});
    return out;
}

std::string hex_of_encoder(const EncoderInstruction& i, bool huffman = false) {
    Bytes out;
    encode_encoder_instruction(out, i, huffman);
    return to_hex(out);
}
std::string hex_of_decoder(const DecoderInstruction& i) {
    Bytes out;
    encode_decoder_instruction(out, i);
    return to_hex(out);
}
std::string hex_of_line(const FieldLineRepresentation& r, bool huffman = false) {
    Bytes out;
    encode_field_line(out, r, huffman);
    return to_hex(out);
}

// Feeds bytes one at a time, as the worst case of a stream arriving in pieces.
Status feed_bytewise(QpackDecoder& d, const Bytes& bytes) {
    for (uint8_t b : bytes) {
        Status s = d.on_encoder_stream_data(ByteSpan(&b, 1));
        if (!s) return s;
    }
    return {};
}

void check_error(const Error& e, H3Error code) {
    CHECK_MESSAGE(is_h3_error(e, code), h3_error_name(e.code), ": ", e.reason);
}

// --- Primitives ---------------------------------------------------------------------------

TEST_CASE("qpack: prefix integers, RFC 7541 C.1") {
    Bytes out;
    encode_prefix_int(out, 0xe0, 5, 10);  // C.1.1: 10 in a 5-bit prefix
    CHECK(to_hex(out) == "ea");
    out.clear();
    encode_prefix_int(out, 0x00, 5, 1337);  // C.1.2
    CHECK(to_hex(out) == "1f9a0a");
    out.clear();
    encode_prefix_int(out, 0x00, 8, 42);  // C.1.3
    CHECK(to_hex(out) == "2a");

    for (int prefix = 1; prefix <= 8; ++prefix) {
        for (uint64_t v :
             {uint64_t{0}, uint64_t{1}, uint64_t{30}, uint64_t{31}, uint64_t{127}, uint64_t{128},
              uint64_t{255}, uint64_t{1337}, uint64_t{1} << 32, kMaxQpackInteger}) {
            Bytes enc;
            encode_prefix_int(enc, 0, prefix, v);
            ByteReader r(enc);
            uint64_t got = 0;
            REQUIRE(decode_prefix_int(r, prefix, got) == ReadStatus::kOk);
            CHECK(got == v);
            CHECK(r.empty());
            // Every strict prefix is incomplete and consumes nothing.
            for (size_t n = 0; n < enc.size(); ++n) {
                ByteReader partial(ByteSpan(enc).first(n));
                CHECK(decode_prefix_int(partial, prefix, got) == ReadStatus::kIncomplete);
                CHECK(partial.position() == 0);
            }
        }
    }
}

TEST_CASE("qpack: prefix integer overflow guard") {
    uint64_t v;
    {
        // 2^62 (one above the largest varint): 5-bit prefix 31, then 2^62 - 31 in 7-bit groups.
        Bytes b;
        b.push_back(0x1f);
        uint64_t rest = (uint64_t{1} << 62) - 31;
        while (rest >= 0x80) {
            b.push_back(static_cast<uint8_t>(0x80 | (rest & 0x7f)));
            rest >>= 7;
        }
        b.push_back(static_cast<uint8_t>(rest));
        ByteReader r(b);
        CHECK(decode_prefix_int(r, 5, v) == ReadStatus::kError);
    }
    // Endless continuation bytes: an error once past 63 bits, never "incomplete" forever.
    Bytes endless(20, 0x80);
    endless[0] = 0xff;
    ByteReader r(endless);
    CHECK(decode_prefix_int(r, 8, v) == ReadStatus::kError);
    // 64 bits of ones.
    Bytes ones = from_hex("ff ffffffffffffffffff01");
    ByteReader r2(ones);
    CHECK(decode_prefix_int(r2, 8, v) == ReadStatus::kError);
}

TEST_CASE("qpack: static table (RFC 9204 Appendix A)") {
    const auto table = static_table();
    REQUIRE(table.size() == 99);
    CHECK(table[0].name == ":authority");
    CHECK(table[0].value == "");
    CHECK(table[1].name == ":path");
    CHECK(table[1].value == "/");
    CHECK(table[17].value == "GET");
    CHECK(table[29].value == "*/*");
    CHECK(table[52].value == "text/html; charset=utf-8");
    CHECK(table[85].value == "script-src 'none'; object-src 'none'; base-uri 'none'");
    CHECK(table[98].name == "x-frame-options");
    CHECK(table[98].value == "sameorigin");
    auto m = find_static(":method", "POST");
    CHECK(m.exact == 20u);
    CHECK(m.name == 15u);
    m = find_static(":status", "418");
    CHECK(!m.exact);
    CHECK(m.name == 24u);
    m = find_static("x-custom", "1");
    CHECK(!m.exact);
    CHECK(!m.name);
}

TEST_CASE("qpack: Required Insert Count encoding (§4.5.1.1)") {
    // The §4.5.1.1 example: a 100-byte table (MaxEntries 3) encodes modulo 6; after 10
    // inserts, 4 means 9.
    CHECK(decode_required_insert_count(4, 3, 10) == 9u);
    for (uint64_t max_entries : {1u, 3u, 6u, 128u}) {
        for (uint64_t total = 0; total < 40; ++total) {
            // Any RIC a valid section can have: within MaxEntries of the decoder's inserts
            // (an older one could only reference evicted entries).
            for (uint64_t ric = total >= max_entries ? total - max_entries + 1 : 1;
                 ric <= total + max_entries; ++ric) {
                if (ric == 0) continue;
                CHECK(decode_required_insert_count(encode_required_insert_count(ric, max_entries),
                                                   max_entries, total) == ric);
            }
        }
    }
    CHECK(decode_required_insert_count(0, 6, 0) == 0u);
    CHECK(!decode_required_insert_count(13, 6, 0));  // above FullRange
    CHECK(!decode_required_insert_count(1, 0, 0));   // no dynamic table
}

// --- RFC 9204 Appendix B ------------------------------------------------------------------

TEST_CASE("qpack: B.1 literal field line with name reference") {
    const Bytes block = from_hex("0000 510b 2f69 6e64 6578 2e68 746d 6c");
    QpackDecoder dec({});
    auto r = dec.decode(0, block);
    REQUIRE(r);
    CHECK(r->status == Status_::kDecoded);
    CHECK(r->fields == fields({{":path", "/index.html"}}));
    CHECK(dec.take_decoder_stream_data().empty());  // RIC 0: no acknowledgment

    // The encoder makes the same choice (without Huffman, as the example).
    QpackEncoder enc({.max_table_capacity = 4096, .huffman = false});
    CHECK(to_hex(enc.encode_field_section(0, fields({{":path", "/index.html"}}))) == to_hex(block));
    CHECK(!enc.has_encoder_stream_data());
}

TEST_CASE("qpack: B.2-B.5 decoder on the example bytes") {
    QpackDecoder dec({.max_table_capacity = 220, .max_blocked_streams = 1});

    // B.2 Dynamic Table.
    const Bytes enc_b2 = from_hex(
        "3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468");
    REQUIRE(feed_bytewise(dec, enc_b2));
    CHECK(dec.table().capacity() == 220);
    CHECK(dec.table().size() == 106);
    CHECK(dec.insert_count() == 2);
    auto r = dec.decode(4, from_hex("0381 10 11"));
    REQUIRE(r);
    REQUIRE(r->status == Status_::kDecoded);
    CHECK(r->fields == fields({{":authority", "www.example.com"}, {":path", "/sample/path"}}));
    CHECK(to_hex(dec.take_decoder_stream_data()) == "84");

    // B.3 Speculative Insert.
    REQUIRE(dec.on_encoder_stream_data(
        from_hex("4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565")));
    CHECK(dec.table().size() == 160);
    CHECK(to_hex(dec.take_decoder_stream_data()) == "01");

    // B.4 Duplicate Instruction, Stream Cancellation: the section for stream 8 arrives before
    // the Duplicate, so it blocks; the stream is then cancelled.
    const Bytes block8 = from_hex("0500 80 c1 81");
    r = dec.decode(8, block8);
    REQUIRE(r);
    CHECK(r->status == Status_::kBlocked);
    CHECK(r->required_insert_count == 4);
    CHECK(dec.blocked_stream_count() == 1);
    dec.cancel_stream(8);
    CHECK(dec.blocked_stream_count() == 0);
    CHECK(to_hex(dec.take_decoder_stream_data()) == "48");
    REQUIRE(dec.on_encoder_stream_data(from_hex("02")));
    CHECK(dec.table().size() == 217);
    CHECK(dec.take_unblocked_streams().empty());  // cancelled streams are not reported
    // Had the stream not been cancelled, the section decodes now as the example describes.
    r = dec.decode(8, block8);
    REQUIRE(r);
    REQUIRE(r->status == Status_::kDecoded);
    CHECK(r->fields ==
          fields(
              {{":authority", "www.example.com"}, {":path", "/"}, {"custom-key", "custom-value"}}));
    CHECK(to_hex(dec.take_decoder_stream_data()) == "88");  // Section Acknowledgment (8)

    // B.5 Dynamic Table Insert, Eviction.
    REQUIRE(dec.on_encoder_stream_data(from_hex("810d 6375 7374 6f6d 2d76 616c 7565 32")));
    CHECK(dec.table().size() == 215);
    CHECK(dec.table().first_index() == 1);
    CHECK(dec.insert_count() == 5);
    CHECK(dec.table().at(4)->name == "custom-key");
    CHECK(dec.table().at(4)->value == "custom-value2");
    CHECK(dec.table().at(0) == nullptr);
    CHECK(to_hex(dec.take_decoder_stream_data()) == "01");
}

TEST_CASE("qpack: B.2-B.5 unblocking when the Duplicate arrives") {
    QpackDecoder dec({.max_table_capacity = 220, .max_blocked_streams = 1});
    REQUIRE(dec.on_encoder_stream_data(from_hex(
        "3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468"
        "4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565")));
    auto r = dec.decode(8, from_hex("0500 80 c1 81"));
    REQUIRE(r);
    CHECK(r->status == Status_::kBlocked);
    REQUIRE(dec.on_encoder_stream_data(from_hex("02")));
    CHECK(dec.take_unblocked_streams() == std::vector<uint64_t>{8});
    CHECK(dec.take_unblocked_streams().empty());
    r = dec.decode(8, from_hex("0500 80 c1 81"));
    REQUIRE(r);
    CHECK(r->status == Status_::kDecoded);
    CHECK(r->fields.size() == 3);
}

TEST_CASE("qpack: Appendix B instructions and representations encode byte-exact") {
    // B.2
    CHECK(hex_of_encoder(SetDynamicTableCapacity{220}) == "3fbd01");
    CHECK(hex_of_encoder(InsertWithNameReference{true, 0, "www.example.com"}) ==
          "c00f7777772e6578616d706c652e636f6d");
    CHECK(hex_of_encoder(InsertWithNameReference{true, 1, "/sample/path"}) ==
          "c10c2f73616d706c652f70617468");
    Bytes prefix;
    encode_field_section_prefix(prefix, 2, 0, max_entries(220));
    CHECK(to_hex(prefix) == "0381");
    CHECK(hex_of_line(IndexedFieldLinePostBase{0}) == "10");
    CHECK(hex_of_line(IndexedFieldLinePostBase{1}) == "11");
    CHECK(hex_of_decoder(SectionAcknowledgment{4}) == "84");
    // B.3
    CHECK(hex_of_encoder(InsertWithLiteralName{"custom-key", "custom-value"}) ==
          "4a637573746f6d2d6b65790c637573746f6d2d76616c7565");
    CHECK(hex_of_decoder(InsertCountIncrement{1}) == "01");
    // B.4
    CHECK(hex_of_encoder(Duplicate{2}) == "02");
    prefix.clear();
    encode_field_section_prefix(prefix, 4, 4, max_entries(220));
    CHECK(to_hex(prefix) == "0500");
    CHECK(hex_of_line(IndexedFieldLine{false, 0}) == "80");
    CHECK(hex_of_line(IndexedFieldLine{true, 1}) == "c1");
    CHECK(hex_of_line(IndexedFieldLine{false, 1}) == "81");
    CHECK(hex_of_decoder(StreamCancellation{8}) == "48");
    // B.5
    CHECK(hex_of_encoder(InsertWithNameReference{false, 1, "custom-value2"}) ==
          "810d637573746f6d2d76616c756532");
    // B.1
    CHECK(hex_of_line(LiteralWithNameReference{false, true, 1, "/index.html"}) ==
          "510b2f696e6465782e68746d6c");
}

TEST_CASE("qpack: every representation and instruction parses back") {
    const std::vector<FieldLineRepresentation> lines = {
        IndexedFieldLine{true, 98},
        IndexedFieldLine{false, 1000},
        IndexedFieldLinePostBase{17},
        LiteralWithNameReference{true, false, 3, "secret"},
        LiteralWithNameReference{false, true, 95, std::string(300, 'x')},
        LiteralWithPostBaseNameReference{true, 9, "v"},
        LiteralWithPostBaseNameReference{false, 0, ""},
        LiteralWithLiteralName{true, "x-name", "value"},
        LiteralWithLiteralName{false, std::string(40, 'n'), ""},
    };
    for (bool huffman : {false, true}) {
        for (const auto& line : lines) {
            Bytes enc;
            encode_field_line(enc, line, huffman);
            ByteReader r(enc);
            FieldLineRepresentation back;
            REQUIRE(parse_field_line(r, back) == ReadStatus::kOk);
            CHECK(back == line);
            CHECK(r.empty());
        }
    }
    const std::vector<EncoderInstruction> insts = {
        SetDynamicTableCapacity{0},
        SetDynamicTableCapacity{1 << 20},
        InsertWithNameReference{true, 5, "c=1"},
        InsertWithNameReference{false, 70, ""},
        InsertWithLiteralName{"a", std::string(200, 'b')},
        Duplicate{31},
    };
    for (bool huffman : {false, true}) {
        for (const auto& inst : insts) {
            Bytes enc;
            encode_encoder_instruction(enc, inst, huffman);
            for (size_t n = 0; n < enc.size(); ++n) {  // every truncation is incomplete
                ByteReader partial(ByteSpan(enc).first(n));
                EncoderInstruction tmp;
                CHECK(parse_encoder_instruction(partial, 1 << 20, tmp) == ReadStatus::kIncomplete);
                CHECK(partial.position() == 0);
            }
            ByteReader r(enc);
            EncoderInstruction back;
            REQUIRE(parse_encoder_instruction(r, 1 << 20, back) == ReadStatus::kOk);
            CHECK(back == inst);
        }
    }
    for (const DecoderInstruction& inst : {DecoderInstruction{SectionAcknowledgment{1000}},
                                           DecoderInstruction{StreamCancellation{3}},
                                           DecoderInstruction{InsertCountIncrement{64}}}) {
        Bytes enc;
        encode_decoder_instruction(enc, inst);
        ByteReader r(enc);
        DecoderInstruction back;
        REQUIRE(parse_decoder_instruction(r, back) == ReadStatus::kOk);
        CHECK(back == inst);
    }
}

// --- Encoder and decoder together ---------------------------------------------------------

TEST_CASE("qpack: encoder round trip through the decoder, B.2-like") {
    QpackEncoder enc({.max_table_capacity = 220, .huffman = false});
    enc.apply_peer_settings(220, 1);
    QpackDecoder dec({.max_table_capacity = 220, .max_blocked_streams = 1});
    const auto section = fields({{":authority", "www.example.com"}, {":path", "/sample/path"}});
    const Bytes block = enc.encode_field_section(4, section);
    const Bytes instructions = enc.take_encoder_stream_data();
    CHECK(to_hex(instructions).starts_with("3fbd01"));  // Set Dynamic Table Capacity=220
    CHECK(enc.blocking_stream_count() == 1);

    // The block first: blocked until the instructions arrive.
    auto r = dec.decode(4, block);
    REQUIRE(r);
    if (enc.insert_count() > 0) CHECK(r->status == Status_::kBlocked);
    REQUIRE(dec.on_encoder_stream_data(instructions));
    if (r->status == Status_::kBlocked) {
        CHECK(dec.take_unblocked_streams() == std::vector<uint64_t>{4});
        r = dec.decode(4, block);
        REQUIRE(r);
    }
    CHECK(r->status == Status_::kDecoded);
    CHECK(r->fields == section);
    REQUIRE(enc.on_decoder_stream_data(dec.take_decoder_stream_data()));
    CHECK(enc.known_received_count() == enc.insert_count());
    CHECK(enc.blocking_stream_count() == 0);

    // A second identical section is all indexed now, and needs no new instruction.
    const Bytes block2 = enc.encode_field_section(8, section);
    CHECK(block2.size() < block.size() + 2);
    r = dec.decode(8, block2);
    REQUIRE(r);
    CHECK(r->fields == section);
}

// A pool of fields with many repeats, some unique values, never-index ones and static matches.
Field random_field(Random& rng) {
    static const char* const kNames[] = {":authority", ":path",      "user-agent", "cookie",
                                         "x-custom-a", "x-custom-b", "accept",     "date",
                                         ":method",    ":status",    "x-trace",    "etag"};
    static const char* const kValues[] = {"example.com",
                                          "/",
                                          "GET",
                                          "200",
                                          "gzip, deflate, br",
                                          "abcdef",
                                          "a much longer value that repeats"};
    Field f;
    f.name = kNames[rng.uniform(std::size(kNames))];
    switch (rng.uniform(4)) {
        case 0:  // unique each time
            f.value = "v" + std::to_string(rng.next_u64());
            break;
        case 1:
            f.value = std::string(rng.uniform(100), static_cast<char>('a' + rng.uniform(26)));
            break;
        default:
            f.value = kValues[rng.uniform(std::size(kValues))];
    }
    if (rng.uniform(6) == 0) f.name = "x-rand-" + std::to_string(rng.uniform(50));
    f.never_index = rng.uniform(10) == 0;
    return f;
}

// Sends byte streams in random pieces with random delays, in order.
struct Pipe {
    std::deque<uint8_t> bytes;
    void push(const Bytes& b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
    Bytes take_some(Random& rng, bool all) {
        size_t n = all ? bytes.size() : rng.uniform(bytes.size() + 1);
        if (!all && rng.uniform(3) == 0) n = 0;  // a delay
        Bytes out(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
        bytes.erase(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
        return out;
    }
};

struct RoundTripStats {
    size_t blocked = 0;  // sections that blocked at the decoder and were decoded later
    size_t inserts = 0;  // dynamic table insertions
    size_t evictions = 0;
};

RoundTripStats run_round_trips(uint64_t seed) {
    CAPTURE(seed);
    SeededRandom rng(seed);
    const uint64_t capacities[] = {0, 64, 256, 1024, 4096};
    const uint64_t capacity = capacities[rng.uniform(std::size(capacities))];
    const uint64_t blocked = rng.uniform(5);
    QpackEncoder enc({.max_table_capacity = 4096, .huffman = rng.uniform(2) == 0});
    enc.apply_peer_settings(capacity, blocked);
    QpackDecoder dec({.max_table_capacity = capacity, .max_blocked_streams = blocked});
    CAPTURE(capacity);
    CAPTURE(blocked);

    Pipe encoder_stream, decoder_stream;
    struct InFlight {
        uint64_t stream;
        Bytes block;
        std::vector<Field> expected;
    };
    std::vector<InFlight> in_flight;       // blocks not delivered yet
    std::map<uint64_t, InFlight> waiting;  // blocked at the decoder
    size_t decoded = 0, cancelled = 0, was_blocked = 0;

    auto check_decoded = [&](const InFlight& f, const DecodedFieldSection& r) {
        REQUIRE(r.status == Status_::kDecoded);
        REQUIRE(r.fields == f.expected);
        ++decoded;
    };
    auto deliver_encoder_stream = [&](bool all) {
        const Bytes piece = encoder_stream.take_some(rng, all);
        REQUIRE(dec.on_encoder_stream_data(piece));
        for (uint64_t id : dec.take_unblocked_streams()) {
            auto it = waiting.find(id);
            REQUIRE(it != waiting.end());
            auto r = dec.decode(id, it->second.block);
            REQUIRE(r);
            check_decoded(it->second, *r);
            waiting.erase(it);
        }
    };
    auto deliver_block = [&](size_t i) {
        InFlight f = std::move(in_flight[i]);
        in_flight.erase(in_flight.begin() + static_cast<ptrdiff_t>(i));
        if (rng.uniform(20) == 0) {  // the stream is reset before its section is read
            dec.cancel_stream(f.stream);
            ++cancelled;
            return;
        }
        auto r = dec.decode(f.stream, f.block);
        REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().reason));
        if (r->status == Status_::kBlocked) {
            ++was_blocked;
            // Sometimes the stream is abandoned while blocked.
            if (rng.uniform(10) == 0) {
                dec.cancel_stream(f.stream);
                ++cancelled;
            } else {
                waiting.emplace(f.stream, std::move(f));
            }
            return;
        }
        check_decoded(f, *r);
    };

    const int sections = 300;
    for (int i = 0; i < sections; ++i) {
        const uint64_t stream = 4 * static_cast<uint64_t>(i);
        std::vector<Field> section(rng.uniform(12));
        for (Field& f : section) f = random_field(rng);
        Bytes block = enc.encode_field_section(stream, section);
        encoder_stream.push(enc.take_encoder_stream_data());
        in_flight.push_back({stream, std::move(block), std::move(section)});

        // Random progress on the three channels.
        while (!in_flight.empty() && rng.uniform(2) == 0)
            deliver_block(rng.uniform(in_flight.size()));
        if (rng.uniform(2) == 0) deliver_encoder_stream(false);
        decoder_stream.push(dec.take_decoder_stream_data());
        REQUIRE(enc.on_decoder_stream_data(decoder_stream.take_some(rng, false)));
        CHECK(dec.blocked_stream_count() <= blocked);
        CHECK(enc.blocking_stream_count() <= blocked);
    }
    // Drain everything.
    while (!in_flight.empty()) deliver_block(0);
    deliver_encoder_stream(true);
    decoder_stream.push(dec.take_decoder_stream_data());
    REQUIRE(enc.on_decoder_stream_data(decoder_stream.take_some(rng, true)));
    CHECK(waiting.empty());
    CHECK(decoded + cancelled == sections);
    CHECK(enc.blocking_stream_count() == 0);
    CHECK(enc.known_received_count() == enc.insert_count());
    return {was_blocked, static_cast<size_t>(enc.insert_count()),
            static_cast<size_t>(enc.table().first_index())};
}

TEST_CASE("qpack: randomised round trips with delayed, split encoder and decoder streams") {
    RoundTripStats total;
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        const RoundTripStats s = run_round_trips(seed);
        total.blocked += s.blocked;
        total.inserts += s.inserts;
        total.evictions += s.evictions;
    }
    // The runs exercised what they are for: blocking, insertion and eviction.
    CHECK(total.blocked > 100);
    CHECK(total.inserts > 1000);
    CHECK(total.evictions > 100);
}

TEST_CASE("qpack: never-index fields stay literal with the N bit") {
    QpackEncoder enc;
    enc.apply_peer_settings(4096, 10);
    std::vector<Field> section = {Field{"authorization", "secret", true},
                                  Field{"x-token", "t0k3n", true}, Field{":method", "GET", true}};
    const Bytes block = enc.encode_field_section(0, section);
    CHECK(enc.insert_count() == 0);
    QpackDecoder dec({.max_table_capacity = 4096, .max_blocked_streams = 10});
    REQUIRE(dec.on_encoder_stream_data(enc.take_encoder_stream_data()));
    auto r = dec.decode(0, block);
    REQUIRE(r);
    CHECK(r->fields == section);  // never_index survives the trip
}

TEST_CASE("qpack: the encoder never blocks more streams than allowed, nor evicts unacked entries") {
    QpackEncoder enc({.max_table_capacity = 256});
    enc.apply_peer_settings(256, 2);
    for (uint64_t s = 0; s < 10; ++s) {
        // Entries of 47 bytes: five fit; the sixth would need an unacknowledged one evicted.
        const std::vector<Field> section = {
            Field{"x-custom", "value-" + std::string(1, static_cast<char>('a' + s))}};
        (void)enc.encode_field_section(4 * s, section);
        CHECK(enc.blocking_stream_count() <= 2);
    }
    CHECK(enc.insert_count() == 5);
    // Nothing was acknowledged, so nothing was evicted: every insert is still in the table.
    CHECK(enc.table().first_index() == 0);
}

// --- Limits and malformed input -----------------------------------------------------------

TEST_CASE("qpack: a decompression bomb fails on max_field_section_size") {
    QpackDecoder dec({.max_table_capacity = 4096,
                      .max_blocked_streams = 0,
                      .max_field_section_size = 16 * 1024});
    Bytes instructions;
    encode_encoder_instruction(instructions, SetDynamicTableCapacity{4096});
    encode_encoder_instruction(instructions,
                               InsertWithLiteralName{"x-bomb", std::string(4000, 'b')});
    REQUIRE(dec.on_encoder_stream_data(instructions));
    Bytes block;
    encode_field_section_prefix(block, 1, 1, max_entries(4096));
    for (int i = 0; i < 5000; ++i) encode_field_line(block, IndexedFieldLine{false, 0});
    // 5 KB that would expand to 20 MB.
    auto r = dec.decode(0, block);
    REQUIRE(r);
    CHECK(r->status == Status_::kTooLarge);
    CHECK(r->fields.empty());
    CHECK(to_hex(dec.take_decoder_stream_data()) == "80");  // acknowledged: nothing outstanding

    // Exactly at the limit is fine: 4 references = 4 * (6 + 4000 + 32) = 16152 <= 16384.
    Bytes small;
    encode_field_section_prefix(small, 1, 1, max_entries(4096));
    for (int i = 0; i < 4; ++i) encode_field_line(small, IndexedFieldLine{false, 0});
    r = dec.decode(4, small);
    REQUIRE(r);
    CHECK(r->status == Status_::kDecoded);
    CHECK(r->fields.size() == 4);
}

TEST_CASE("qpack: too many blocked streams is QPACK_DECOMPRESSION_FAILED") {
    QpackDecoder dec({.max_table_capacity = 4096, .max_blocked_streams = 1});
    Bytes block;
    encode_field_section_prefix(block, 1, 1, max_entries(4096));
    encode_field_line(block, IndexedFieldLine{false, 0});
    auto r = dec.decode(0, block);
    REQUIRE(r);
    CHECK(r->status == Status_::kBlocked);
    r = dec.decode(0, block);  // a retry of the same stream is not a second blocked stream
    REQUIRE(r);
    CHECK(r->status == Status_::kBlocked);
    r = dec.decode(4, block);
    REQUIRE(!r);
    check_error(r.error(), H3Error::kQpackDecompressionFailed);

    QpackDecoder none({.max_table_capacity = 4096, .max_blocked_streams = 0});
    r = none.decode(0, block);
    REQUIRE(!r);
    check_error(r.error(), H3Error::kQpackDecompressionFailed);
}

TEST_CASE("qpack: malformed field sections are QPACK_DECOMPRESSION_FAILED") {
    QpackDecoder dec({.max_table_capacity = 100, .max_blocked_streams = 4});
    // Two entries of 42 bytes; the third evicts the first (capacity 100).
    Bytes ins;
    encode_encoder_instruction(ins, SetDynamicTableCapacity{100});
    encode_encoder_instruction(ins, InsertWithLiteralName{"a", "123456789"});
    encode_encoder_instruction(ins, InsertWithLiteralName{"b", "123456789"});
    encode_encoder_instruction(ins, InsertWithLiteralName{"c", "123456789"});
    REQUIRE(dec.on_encoder_stream_data(ins));
    REQUIRE(dec.table().first_index() == 1);
    const uint64_t me = max_entries(100);  // 3

    auto expect_fail = [&](const Bytes& block, const char* what) {
        CAPTURE(what);
        auto r = dec.decode(100, block);
        REQUIRE(!r);
        check_error(r.error(), H3Error::kQpackDecompressionFailed);
    };
    Bytes b;
    // Reference to the evicted entry 0: RIC 3, Base 3, relative index 2.
    encode_field_section_prefix(b, 3, 3, me);
    encode_field_line(b, IndexedFieldLine{false, 2});
    expect_fail(b, "evicted entry");
    // Reference at or above RIC (a "future" entry): RIC 2, Base 2, post-base 0 = absolute 2.
    b.clear();
    encode_field_section_prefix(b, 2, 2, me);
    encode_field_line(b, IndexedFieldLinePostBase{0});
    expect_fail(b, "post-base reference >= RIC");
    // Relative index beyond Base.
    b.clear();
    encode_field_section_prefix(b, 3, 3, me);
    encode_field_line(b, IndexedFieldLine{false, 3});
    expect_fail(b, "relative index >= Base");
    // Name reference to an evicted entry.
    b.clear();
    encode_field_section_prefix(b, 3, 3, me);
    encode_field_line(b, LiteralWithNameReference{false, false, 2, "x"});
    expect_fail(b, "evicted name");
    // Invalid static index.
    b = from_hex("0000 ff24");  // static index 63 + 36 = 99
    expect_fail(b, "static index 99");
    // Encoded Insert Count above FullRange (2 * 3).
    expect_fail(from_hex("0700"), "EIC > FullRange");
    // Negative Base: RIC 3, sign, Delta Base 3 (RIC <= Delta Base, §4.5.1.2).
    b.clear();
    encode_prefix_int(b, 0, 8, encode_required_insert_count(3, me));
    encode_prefix_int(b, 0x80, 7, 3);
    expect_fail(b, "negative base");
    // Truncated representations and prefix; integer overflow in the prefix.
    expect_fail(from_hex("00"), "truncated prefix");
    expect_fail(from_hex("0000 51"), "truncated literal");
    expect_fail(from_hex("0000 510b 2f69"), "truncated string");
    expect_fail(from_hex("ffffffffffffffffffffff01 00"), "prefix integer overflow");
    expect_fail(from_hex("0000 ff ffffffffffffffffffff01"), "index overflow");
    // Bad Huffman in a literal: EOS.
    expect_fail(from_hex("0000 5184ffffffff"), "Huffman EOS");
    // A decoder without a dynamic table rejects any dynamic reference.
    QpackDecoder nodyn({});
    auto r = nodyn.decode(0, from_hex("0200 80"));
    REQUIRE(!r);
    check_error(r.error(), H3Error::kQpackDecompressionFailed);
}

TEST_CASE("qpack: malformed encoder streams are QPACK_ENCODER_STREAM_ERROR") {
    auto expect_fail = [](const Bytes& stream, const char* what) {
        CAPTURE(what);
        QpackDecoder dec({.max_table_capacity = 220, .max_blocked_streams = 1});
        Status s = dec.on_encoder_stream_data(stream);
        REQUIRE(!s);
        check_error(s.error(), H3Error::kQpackEncoderStreamError);
    };
    expect_fail(from_hex("3fbe01"), "capacity 221 above the maximum 220");
    expect_fail(from_hex("c00f 7777 772e 6578 616d 706c 652e 636f 6d"), "insert with capacity 0");
    expect_fail(from_hex("3fbd01 ff24 01 61"), "static name index 99");
    expect_fail(from_hex("3fbd01 8001 61"), "dynamic name reference, empty table");
    expect_fail(from_hex("3fbd01 00"), "duplicate, empty table");
    expect_fail(from_hex("3fbd01 c084 ffffffff"), "Huffman EOS in a value");
    expect_fail(from_hex("3fbd01 5f ffffffffffffffffffff01"), "name length overflow");
    {
        // An entry larger than the capacity: 32 + 1 + 200 > 220.
        Bytes b = from_hex("3fbd01");
        encode_encoder_instruction(b, InsertWithLiteralName{"a", std::string(200, 'v')}, false);
        expect_fail(b, "entry larger than the capacity");
    }
    {
        // A string length announcing far more than could fit: rejected before its bytes come.
        QpackDecoder dec({.max_table_capacity = 220, .max_blocked_streams = 1});
        REQUIRE(dec.on_encoder_stream_data(from_hex("3fbd01")));
        Bytes b;
        encode_prefix_int(b, 0x40, 5, 1 << 20);  // Insert with Literal Name, name of 1 MiB
        Status s = dec.on_encoder_stream_data(b);
        REQUIRE(!s);
        check_error(s.error(), H3Error::kQpackEncoderStreamError);
    }
    {
        // Reducing the capacity evicts; a later name reference to the evicted entry fails.
        QpackDecoder dec({.max_table_capacity = 220, .max_blocked_streams = 1});
        REQUIRE(dec.on_encoder_stream_data(from_hex("3fbd01 4161 0162 20")));
        CHECK(dec.table().entry_count() == 0);
        REQUIRE(dec.on_encoder_stream_data(from_hex("3fbd01")));
        Status s = dec.on_encoder_stream_data(from_hex("00"));
        REQUIRE(!s);
        check_error(s.error(), H3Error::kQpackEncoderStreamError);
    }
}

TEST_CASE("qpack: malformed decoder streams are QPACK_DECODER_STREAM_ERROR") {
    auto make = [] {
        QpackEncoder enc;
        enc.apply_peer_settings(4096, 4);
        (void)enc.encode_field_section(0, fields({{"x-a", "1"}}));  // one insert, blocking
        return enc;
    };
    auto expect_fail = [&](const Bytes& stream, const char* what) {
        CAPTURE(what);
        QpackEncoder enc = make();
        Status s = enc.on_decoder_stream_data(stream);
        REQUIRE(!s);
        check_error(s.error(), H3Error::kQpackDecoderStreamError);
    };
    expect_fail(from_hex("84"), "acknowledgment of a stream with no section");
    expect_fail(from_hex("80 80"), "second acknowledgment of the one section");
    expect_fail(from_hex("00"), "increment of zero");
    expect_fail(from_hex("02"), "increment beyond the insert count");
    expect_fail(from_hex("ffffffffffffffffffffff01"), "stream ID overflow");

    QpackEncoder enc = make();
    REQUIRE(enc.on_decoder_stream_data(from_hex("01")));  // Insert Count Increment 1
    CHECK(enc.known_received_count() == 1);
    REQUIRE(enc.on_decoder_stream_data(from_hex("40")));  // cancel stream 0: fine
    CHECK(enc.blocking_stream_count() == 0);
    REQUIRE(enc.on_decoder_stream_data(from_hex("48")));  // cancelling an unknown stream: fine
    // Split in the middle of an instruction.
    QpackEncoder enc2 = make();
    REQUIRE(enc2.on_decoder_stream_data(from_hex("ff")));
    Status s = enc2.on_decoder_stream_data(from_hex("00"));  // SectionAck(127): no such stream
    REQUIRE(!s);
    check_error(s.error(), H3Error::kQpackDecoderStreamError);
}

}  // namespace
}  // namespace quic::h3
