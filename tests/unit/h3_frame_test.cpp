// HTTP/3 frames (RFC 9114 §7), SETTINGS (§7.2.4), unidirectional stream headers (§6.2) and the
// per-stream frame rules (§4.1, §6.2.1, §7.2): round trips, input fed one byte at a time,
// truncation, and the exact error code of each violation.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hex.h"
#include "http3/frame.h"
#include "http3/grease.h"
#include "http3/stream_readers.h"
#include "http3/stream_types.h"
#include "quic/http3/error.h"
#include "quic/random.h"

namespace quic::h3 {
namespace {

using test::from_hex;
using test::to_hex;

void check_error(const Error& e, H3Error code) {
    CHECK_MESSAGE(is_h3_error(e, code), h3_error_name(e.code), ": ", e.reason);
}

// What a parser saw, flattened for comparison: complete frames, and DATA payloads joined.
struct Parsed {
    std::vector<FrameHeader> headers;
    std::vector<Frame> frames;
    Bytes data;
};

Result<Parsed> parse_all(const Bytes& in, bool bytewise) {
    FrameParser p;
    Parsed out;
    auto take = [&](ByteSpan piece) -> Status {
        auto events = p.feed(piece);
        if (!events) return std::move(events).error();
        for (auto& ev : *events) {
            if (auto* h = std::get_if<FrameHeader>(&ev)) out.headers.push_back(*h);
            if (auto* d = std::get_if<DataChunk>(&ev)) {
                CHECK(!d->data.empty());
                out.data.insert(out.data.end(), d->data.begin(), d->data.end());
            }
            if (auto* f = std::get_if<Frame>(&ev)) out.frames.push_back(std::move(*f));
        }
        return {};
    };
    if (bytewise) {
        for (size_t i = 0; i < in.size(); ++i) QUIC_TRY(take(ByteSpan(in).subspan(i, 1)));
    } else {
        QUIC_TRY(take(in));
    }
    QUIC_TRY(p.finish());
    return out;
}

Settings sample_settings() {
    Settings s;
    s.qpack_max_table_capacity = 4096;
    s.max_field_section_size = 16384;
    s.qpack_blocked_streams = 100;
    s.others.push_back({0x33, 1});  // an extension (H3_DATAGRAM)
    s.others.push_back({0x21, 7});  // reserved
    return s;
}

std::vector<Frame> all_frames() {
    return {
        HeadersFrame{from_hex("0000 d1d7")},
        HeadersFrame{},
        CancelPushFrame{0},
        CancelPushFrame{kVarintMax},
        SettingsFrame{sample_settings()},
        SettingsFrame{},
        PushPromiseFrame{3, from_hex("0000 d1")},
        PushPromiseFrame{1 << 20, {}},
        GoawayFrame{4},
        GoawayFrame{(uint64_t{1} << 62) - 4},
        MaxPushIdFrame{100},
    };
}

TEST_CASE("h3 frames: every frame round-trips, whole and one byte at a time") {
    for (bool bytewise : {false, true}) {
        for (const Frame& f : all_frames()) {
            const Bytes enc = encode_frame(f);
            auto r = parse_all(enc, bytewise);
            REQUIRE(r);
            REQUIRE(r->frames.size() == 1);
            CHECK(r->frames[0] == f);
            REQUIRE(r->headers.size() == 1);
            CHECK(r->headers[0].length + 2 <= enc.size());
        }
        // DATA is streamed: the chunks add up to the payload, whatever the feeding.
        Bytes payload(3000);
        for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
        auto r = parse_all(encode_frame(DataFrame{payload}), bytewise);
        REQUIRE(r);
        CHECK(r->frames.empty());
        CHECK(r->data == payload);
        r = parse_all(encode_frame(DataFrame{}), bytewise);  // empty DATA
        REQUIRE(r);
        CHECK(r->headers.size() == 1);
        CHECK(r->data.empty());
    }
}

TEST_CASE("h3 frames: exact encodings") {
    CHECK(to_hex(encode_frame(DataFrame{from_hex("abcd")})) == "0002abcd");
    CHECK(to_hex(encode_frame(HeadersFrame{from_hex("0000")})) == "01020000");
    CHECK(to_hex(encode_frame(CancelPushFrame{5})) == "030105");
    CHECK(to_hex(encode_frame(GoawayFrame{64})) == "07024040");
    CHECK(to_hex(encode_frame(MaxPushIdFrame{0})) == "0d0100");
    CHECK(to_hex(encode_frame(PushPromiseFrame{1, from_hex("0000")})) == "0503010000");
    Settings s;
    s.qpack_max_table_capacity = 0;
    s.qpack_blocked_streams = 16;
    CHECK(to_hex(encode_frame(SettingsFrame{s})) ==
          "0404"
          "0100"
          "0710");
}

TEST_CASE("h3 frames: a stream ending inside a frame is H3_FRAME_ERROR") {
    Bytes stream;
    for (const Frame& f : all_frames()) encode_frame(stream, f);
    encode_frame(stream, DataFrame{from_hex("0102030405")});
    encode_frame(stream, UnknownFrame{0x21, from_hex("ffff")});
    std::vector<size_t> boundaries = {0};
    {
        Bytes acc;
        for (const Frame& f : all_frames()) {
            encode_frame(acc, f);
            boundaries.push_back(acc.size());
        }
        encode_frame(acc, DataFrame{from_hex("0102030405")});
        boundaries.push_back(acc.size());
        boundaries.push_back(stream.size());
    }
    for (size_t n = 0; n <= stream.size(); ++n) {
        CAPTURE(n);
        FrameParser p;
        ByteReader in(ByteSpan(stream).first(n));
        while (true) {  // one byte at a time
            ByteReader one(in.rest().first(std::min<size_t>(1, in.remaining())));
            auto ev = p.feed(one.rest());
            REQUIRE(ev);
            if (in.empty()) break;
            in.skip(1);
        }
        const bool boundary =
            std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
        Status s = p.finish();
        CHECK(s.ok() == boundary);
        if (!s) check_error(s.error(), H3Error::kFrameError);
    }
}

TEST_CASE("h3 frames: malformed payloads") {
    auto fails = [](const char* hex, H3Error code) {
        CAPTURE(hex);
        FrameParser p;
        auto r = p.feed(from_hex(hex));
        REQUIRE(!r);
        check_error(r.error(), code);
    };
    fails("0700", H3Error::kFrameError);                     // GOAWAY without its varint
    fails("0701 40", H3Error::kFrameError);                  // varint cut by the Length
    fails("0702 0101", H3Error::kFrameError);                // two varints in a GOAWAY
    fails("0d09 000000000000000000", H3Error::kFrameError);  // longer than any varint
    fails("0300", H3Error::kFrameError);                     // empty CANCEL_PUSH
    fails("0500", H3Error::kFrameError);                     // PUSH_PROMISE without push ID
    fails("0401 01", H3Error::kFrameError);                  // SETTINGS, truncated setting
    fails("0402 0140", H3Error::kFrameError);                // SETTINGS, truncated value
    // Caps: SETTINGS above kMaxControlFramePayload, HEADERS above the headers cap.
    {
        Bytes b;
        encode_frame_header(b, 0x04, kMaxControlFramePayload + 1);
        FrameParser p;
        auto r = p.feed(b);
        REQUIRE(!r);
        check_error(r.error(), H3Error::kExcessiveLoad);
    }
    {
        Bytes b;
        encode_frame_header(b, 0x01, 1001);
        FrameParser p(1000);
        auto r = p.feed(b);
        REQUIRE(!r);
        check_error(r.error(), H3Error::kExcessiveLoad);
    }
    // A huge DATA or unknown frame is fine: streamed, never buffered.
    {
        Bytes b;
        encode_frame_header(b, 0x00, uint64_t{1} << 40);
        encode_frame_header(b, 0x21, uint64_t{1} << 40);  // these bytes are DATA payload
        FrameParser p;
        auto r = p.feed(b);
        REQUIRE(r);
        CHECK(r->size() == 2);  // FrameHeader, DataChunk
    }
}

TEST_CASE("h3 settings: validation (§7.2.4)") {
    auto decode_hex = [](const char* hex) { return decode_settings(from_hex(hex)); };
    auto r = decode_hex("0140 00 0640 00 0710 2140 00 3301");
    REQUIRE(r);
    CHECK(r->qpack_max_table_capacity == 0u);
    CHECK(r->max_field_section_size == 0u);
    CHECK(r->qpack_blocked_streams == 16u);
    REQUIRE(r->others.size() == 2);
    CHECK(r->others[0] == Setting{0x21, 0});
    CHECK(r->others[1] == Setting{0x33, 1});
    CHECK(decode_hex("")->max_field_section_size_or_default() == UINT64_MAX);

    for (const char* hex : {"0100 0101", "0710 0700", "2101 2102", "0600 0100 0600"}) {
        CAPTURE(hex);
        auto d = decode_hex(hex);
        REQUIRE(!d);
        check_error(d.error(), H3Error::kSettingsError);
    }
    for (const char* hex : {"0200", "0301", "0400", "0500"}) {  // HTTP/2-only identifiers
        CAPTURE(hex);
        auto d = decode_hex(hex);
        REQUIRE(!d);
        check_error(d.error(), H3Error::kSettingsError);
    }
    auto t = decode_hex("01");
    REQUIRE(!t);
    check_error(t.error(), H3Error::kFrameError);

    // Greasing adds one reserved identifier, which the receiver keeps among `others`.
    SeededRandom rng(9114);
    for (int i = 0; i < 50; ++i) {
        Bytes payload;
        encode_settings(payload, sample_settings(), &rng);
        auto back = decode_settings(payload);
        REQUIRE(back);
        REQUIRE(back->others.size() == 3);
        CHECK(is_grease_codepoint(back->others[2].id));
        CHECK(back->qpack_max_table_capacity == 4096u);
    }
}

TEST_CASE("h3 frames: grease frames are skipped") {
    SeededRandom rng(33);
    Bytes stream;
    for (int i = 0; i < 20; ++i) {
        encode_grease_frame(stream, rng);
        encode_frame(stream, GoawayFrame{static_cast<uint64_t>(i)});
    }
    for (bool bytewise : {false, true}) {
        auto r = parse_all(stream, bytewise);
        REQUIRE(r);
        CHECK(r->headers.size() == 40);
        CHECK(r->frames.size() == 20);
        for (size_t i = 0; i < 20; i += 2) CHECK(is_grease_codepoint(r->headers[i].type));
    }
    CHECK(is_grease_codepoint(0x21));
    CHECK(is_grease_codepoint(0x40));
    CHECK(is_grease_codepoint(0x1f * 1000 + 0x21));
    CHECK(!is_grease_codepoint(0x20));
    CHECK(!is_grease_codepoint(0x22));
}

// --- Unidirectional stream headers --------------------------------------------------------

TEST_CASE("h3 streams: unidirectional stream types (§6.2)") {
    struct Case {
        const char* hex;
        UniStreamKind kind;
        std::optional<uint64_t> push_id;
    };
    const Case cases[] = {
        {"00", UniStreamKind::kControl, std::nullopt},
        {"01 4005", UniStreamKind::kPush, 5},
        {"02", UniStreamKind::kQpackEncoder, std::nullopt},
        {"03", UniStreamKind::kQpackDecoder, std::nullopt},
        {"21", UniStreamKind::kReserved, std::nullopt},
        {"4040", UniStreamKind::kReserved, std::nullopt},
        {"04", UniStreamKind::kUnknown, std::nullopt},
        {"c000000000000054", UniStreamKind::kUnknown, std::nullopt},
    };
    for (const Case& c : cases) {
        CAPTURE(c.hex);
        Bytes in = from_hex(c.hex);
        const size_t header_size = in.size();
        in.push_back(0xaa);  // the stream's first byte after the header
        UniStreamHeaderReader reader;
        std::optional<UniStreamHeader> h;
        size_t fed = 0;
        ByteReader r(in);
        while (!h) {  // one byte at a time
            ByteReader one(ByteSpan(in).subspan(fed, 1));
            h = reader.next(one);
            fed += one.position();
            REQUIRE(fed <= header_size);
        }
        CHECK(fed == header_size);
        CHECK(h->kind == c.kind);
        CHECK(h->push_id == c.push_id);
        ByteReader rest(ByteSpan(in).subspan(fed));
        CHECK(reader.next(rest)->type == h->type);  // complete: consumes nothing more
        CHECK(rest.position() == 0);
    }
    Bytes b;
    encode_uni_stream_header(b, 0x01, 7);
    CHECK(to_hex(b) == "0107");
}

// --- Control stream -----------------------------------------------------------------------

Bytes settings_frame() {
    return encode_frame(SettingsFrame{sample_settings()});
}

Result<std::vector<ControlFrame>> control(Perspective local, const Bytes& bytes) {
    ControlStreamReader r(local);
    std::vector<ControlFrame> all;
    for (size_t i = 0; i < bytes.size(); ++i) {  // one byte at a time
        auto f = r.feed(ByteSpan(bytes).subspan(i, 1));
        if (!f) return std::move(f).error();
        for (auto& x : *f) all.push_back(std::move(x));
    }
    return all;
}

void control_fails(Perspective local, const Bytes& bytes, H3Error code) {
    auto r = control(local, bytes);
    REQUIRE(!r);
    check_error(r.error(), code);
    // The same bytes at once give the same error.
    ControlStreamReader whole(local);
    auto w = whole.feed(bytes);
    REQUIRE(!w);
    check_error(w.error(), code);
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

TEST_CASE("h3 control stream: valid sequence with grease") {
    SeededRandom rng(1);
    Bytes stream = settings_frame();
    encode_grease_frame(stream, rng);
    encode_frame(stream, GoawayFrame{8});
    encode_frame(stream, CancelPushFrame{2});
    encode_grease_frame(stream, rng);
    encode_frame(stream, GoawayFrame{4});
    auto r = control(Perspective::kClient, stream);
    REQUIRE(r);
    REQUIRE(r->size() == 4);
    CHECK(std::get<SettingsFrame>((*r)[0]).settings == sample_settings());
    CHECK(std::get<GoawayFrame>((*r)[1]).id == 8);
    CHECK(std::get<CancelPushFrame>((*r)[2]).push_id == 2);
    CHECK(std::get<GoawayFrame>((*r)[3]).id == 4);

    Bytes to_server = cat({settings_frame(), encode_frame(MaxPushIdFrame{3}),
                           encode_frame(MaxPushIdFrame{3}), encode_frame(MaxPushIdFrame{10}),
                           encode_frame(GoawayFrame{5})});  // a client's GOAWAY: a push ID
    auto s = control(Perspective::kServer, to_server);
    REQUIRE(s);
    CHECK(s->size() == 5);
    check_error(ControlStreamReader::closed_error(), H3Error::kClosedCriticalStream);
}

TEST_CASE("h3 control stream: errors (§6.2.1, §7.2)") {
    const auto kClient = Perspective::kClient;
    const auto kServer = Perspective::kServer;
    // SETTINGS must come first: any other frame, even a reserved one, is H3_MISSING_SETTINGS.
    control_fails(kClient, encode_frame(GoawayFrame{0}), H3Error::kMissingSettings);
    control_fails(kClient, encode_frame(DataFrame{}), H3Error::kMissingSettings);
    control_fails(kClient, encode_frame(UnknownFrame{0x21, {}}), H3Error::kMissingSettings);
    // A second SETTINGS.
    control_fails(kClient, cat({settings_frame(), settings_frame()}), H3Error::kFrameUnexpected);
    // Frames of other streams.
    control_fails(kClient, cat({settings_frame(), encode_frame(DataFrame{from_hex("00")})}),
                  H3Error::kFrameUnexpected);
    control_fails(kServer, cat({settings_frame(), encode_frame(HeadersFrame{from_hex("0000")})}),
                  H3Error::kFrameUnexpected);
    control_fails(kClient, cat({settings_frame(), encode_frame(PushPromiseFrame{0, {}})}),
                  H3Error::kFrameUnexpected);
    // HTTP/2-only frame types, whatever their payload.
    for (uint64_t t : {0x02, 0x06, 0x08, 0x09}) {
        CAPTURE(t);
        control_fails(kServer,
                      cat({settings_frame(), encode_frame(UnknownFrame{t, from_hex("00")})}),
                      H3Error::kFrameUnexpected);
    }
    // MAX_PUSH_ID is for servers to receive.
    control_fails(kClient, cat({settings_frame(), encode_frame(MaxPushIdFrame{1})}),
                  H3Error::kFrameUnexpected);
    // IDs: MAX_PUSH_ID decreasing, GOAWAY increasing, a server GOAWAY naming a non-request
    // stream.
    control_fails(
        kServer,
        cat({settings_frame(), encode_frame(MaxPushIdFrame{5}), encode_frame(MaxPushIdFrame{4})}),
        H3Error::kIdError);
    control_fails(
        kClient,
        cat({settings_frame(), encode_frame(GoawayFrame{4}), encode_frame(GoawayFrame{8})}),
        H3Error::kIdError);
    control_fails(kClient, cat({settings_frame(), encode_frame(GoawayFrame{2})}),
                  H3Error::kIdError);
    // SETTINGS errors surface through the reader.
    control_fails(kClient, from_hex("0404 0100 0101"), H3Error::kSettingsError);
    control_fails(kClient, from_hex("0402 0200"), H3Error::kSettingsError);
    // A frame type check comes before the length check: a 9-byte GOAWAY before SETTINGS is
    // H3_MISSING_SETTINGS, after it H3_FRAME_ERROR.
    control_fails(kClient, from_hex("0709 000000000000000000"), H3Error::kMissingSettings);
    control_fails(kClient, cat({settings_frame(), from_hex("0709 000000000000000000")}),
                  H3Error::kFrameError);
}

// --- Request and push streams -------------------------------------------------------------

struct Collected {
    std::vector<HeaderSection> headers;
    std::vector<PushPromiseFrame> promises;
    Bytes data;
};

Result<Collected> request(Perspective local, const Bytes& bytes,
                          RequestStreamReader::Kind kind = RequestStreamReader::Kind::kRequest) {
    RequestStreamReader r(local, kind);
    Collected out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto evs = r.feed(ByteSpan(bytes).subspan(i, 1));
        if (!evs) return std::move(evs).error();
        for (auto& e : *evs) {
            if (auto* h = std::get_if<HeaderSection>(&e)) out.headers.push_back(std::move(*h));
            if (auto* d = std::get_if<DataChunk>(&e))
                out.data.insert(out.data.end(), d->data.begin(), d->data.end());
            if (auto* p = std::get_if<PushPromiseFrame>(&e)) out.promises.push_back(std::move(*p));
        }
    }
    QUIC_TRY(r.finish());
    return out;
}

void request_fails(Perspective local, const Bytes& bytes, H3Error code,
                   RequestStreamReader::Kind kind = RequestStreamReader::Kind::kRequest) {
    auto r = request(local, bytes, kind);
    REQUIRE(!r);
    check_error(r.error(), code);
}

TEST_CASE("h3 request stream: HEADERS, DATA*, trailers, grease anywhere") {
    SeededRandom rng(2);
    Bytes stream;
    encode_grease_frame(stream, rng);
    encode_frame(stream, HeadersFrame{from_hex("0000d1")});
    encode_grease_frame(stream, rng);
    encode_frame(stream, DataFrame{from_hex("6869")});
    encode_frame(stream, DataFrame{});
    encode_grease_frame(stream, rng);
    encode_frame(stream, DataFrame{from_hex("21")});
    encode_frame(stream, HeadersFrame{from_hex("0000")});
    encode_grease_frame(stream, rng);
    auto r = request(Perspective::kServer, stream);
    REQUIRE(r);
    REQUIRE(r->headers.size() == 2);
    CHECK(!r->headers[0].trailers);
    CHECK(to_hex(r->headers[0].encoded_field_section) == "0000d1");
    CHECK(r->headers[1].trailers);
    CHECK(to_hex(r->data) == "686921");

    // A client reading a response: PUSH_PROMISE anywhere; interim responses.
    RequestStreamReader client(Perspective::kClient);
    auto evs = client.feed(cat({encode_frame(PushPromiseFrame{1, from_hex("0000")}),
                                encode_frame(HeadersFrame{from_hex("0000d9")})}));
    REQUIRE(evs);
    REQUIRE(evs->size() == 2);
    CHECK(std::get<PushPromiseFrame>((*evs)[0]).push_id == 1);
    CHECK(!std::get<HeaderSection>((*evs)[1]).trailers);
    client.on_interim_response();  // that was a 103
    evs = client.feed(cat({encode_frame(HeadersFrame{from_hex("0000d9")}),
                           encode_frame(DataFrame{from_hex("00")}),
                           encode_frame(HeadersFrame{from_hex("0000")})}));
    REQUIRE(evs);
    REQUIRE(evs->size() == 3);
    CHECK(!std::get<HeaderSection>((*evs)[0]).trailers);
    CHECK(std::get<HeaderSection>((*evs)[2]).trailers);
    CHECK(client.finish());
}

TEST_CASE("h3 request stream: errors (§4.1, §7.2)") {
    const auto kServer = Perspective::kServer;
    const auto kClient = Perspective::kClient;
    const Bytes headers = encode_frame(HeadersFrame{from_hex("0000")});
    const Bytes data = encode_frame(DataFrame{from_hex("00")});
    request_fails(kServer, data, H3Error::kFrameUnexpected);  // DATA before HEADERS
    request_fails(kServer, cat({headers, data, headers, data}), H3Error::kFrameUnexpected);
    request_fails(kServer, cat({headers, headers, headers}), H3Error::kFrameUnexpected);
    request_fails(kServer, cat({headers, encode_frame(SettingsFrame{})}),
                  H3Error::kFrameUnexpected);
    request_fails(kServer, cat({headers, encode_frame(GoawayFrame{0})}), H3Error::kFrameUnexpected);
    request_fails(kServer, encode_frame(CancelPushFrame{0}), H3Error::kFrameUnexpected);
    request_fails(kClient, cat({headers, encode_frame(MaxPushIdFrame{0})}),
                  H3Error::kFrameUnexpected);
    for (uint64_t t : {0x02, 0x06, 0x08, 0x09}) {
        CAPTURE(t);
        request_fails(kServer, cat({headers, encode_frame(UnknownFrame{t, {}})}),
                      H3Error::kFrameUnexpected);
    }
    // PUSH_PROMISE: never to a server, never on a push stream.
    request_fails(kServer, encode_frame(PushPromiseFrame{0, from_hex("0000")}),
                  H3Error::kFrameUnexpected);
    request_fails(kClient, encode_frame(PushPromiseFrame{0, from_hex("0000")}),
                  H3Error::kFrameUnexpected, RequestStreamReader::Kind::kPush);
    // A truncated last frame at a clean end.
    request_fails(kServer, cat({headers, from_hex("0005 0102")}), H3Error::kFrameError);
    // A HEADERS frame above the cap.
    {
        RequestStreamReader r(kServer, RequestStreamReader::Kind::kRequest, 16);
        Bytes big = encode_frame(HeadersFrame{Bytes(17, 0)});
        auto evs = r.feed(big);
        REQUIRE(!evs);
        check_error(evs.error(), H3Error::kExcessiveLoad);
    }
    // headers_received lets the session tell an incomplete request (H3_REQUEST_INCOMPLETE).
    RequestStreamReader empty(kServer);
    CHECK(empty.finish());
    CHECK(!empty.headers_received());
}

TEST_CASE("h3 errors: names") {
    CHECK(h3_error_name(0x100) == "H3_NO_ERROR");
    CHECK(h3_error_name(0x105) == "H3_FRAME_UNEXPECTED");
    CHECK(h3_error_name(0x110) == "H3_VERSION_FALLBACK");
    CHECK(h3_error_name(0x200) == "QPACK_DECOMPRESSION_FAILED");
    CHECK(h3_error_name(0x202) == "QPACK_DECODER_STREAM_ERROR");
    CHECK(h3_error_name(0x21) == "H3_UNKNOWN(0x21)");
    const Error e = h3_error(H3Error::kSettingsError, "dup");
    CHECK(e.space == ErrorSpace::kApplication);
    CHECK(e.code == 0x109);
}

}  // namespace
}  // namespace quic::h3
