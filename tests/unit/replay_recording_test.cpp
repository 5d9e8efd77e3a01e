// `quiver client --record` recordings (cli/replay_record.cpp) read back by `quiver replay`
// (cli/replay_recording.cpp, docs/replay.md "Recording"): every kind of action the recorder
// writes comes back as the action it was, with its time, and malformed recordings give one
// error naming the record and the field.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "qlog/reader.h"
#include "replay_record.h"
#include "replay_recording.h"

namespace quiver::replay {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempFile {
    TempFile() : path(fs::temp_directory_path() / ("replay_rec_" + std::to_string(getpid()))) {}
    ~TempFile() { fs::remove(path); }
    std::string text() const {
        std::ifstream in(path, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    fs::path path;
};

std::string as_string(const quic::Bytes& b) {
    return {b.begin(), b.end()};
}

// A recording of every action the recorder knows, written by the recorder itself.
std::string record_everything(const TempFile& f, uint64_t max_body) {
    std::string error;
    auto rec = Recorder::open(f.path.string(), max_body, "test", error);
    REQUIRE(rec);
    rec->offer({"example.org", {"h3", "h3-29"}, {0x00000001, 0x6b3343cf}});
    const quic::Time t0{};
    quic::ConnectionInfo info;
    info.alpn = "h3";
    info.version = 1;
    info.datagrams_supported = true;
    rec->start(t0 + 5ms, info);
    rec->headers(0, t0 + 6ms, {{":method", "POST"}, {"X-Upper", "v"}, {":path", "/late"}}, false);
    const std::string body = "0123456789";
    rec->data(0, t0 + 7ms, quic::ByteSpan(reinterpret_cast<const uint8_t*>(body.data()), 10), true);
    rec->headers(4, t0 + 8ms, {{":method", "GET"}}, true);
    rec->stop_sending(4, t0 + 9ms, 0x10c);
    rec->reset_stream(4, t0 + 9ms, 0x10c);
    const uint8_t dgram[] = {0xde, 0xad};
    rec->datagram(t0 + 10ms, dgram);
    rec->response(0, t0 + 11ms, 200, {{":status", "200"}, {"content-length", "3"}});
    rec->response(0, t0 + 12ms, 200, {{":status", "200"}});  // trailers-like: not expected twice
    rec.reset();
    return f.text();
}

TEST_CASE("replay recording: every action comes back as recorded") {
    TempFile f;
    const std::string text = record_everything(f, 1 << 20);
    REQUIRE(is_recording(text));
    std::string error;
    auto s = parse_recording(text, "r.sqlog", error);
    REQUIRE_MESSAGE(s, error);
    CHECK(s->recording);
    CHECK(s->sni == "example.org");
    CHECK(s->alpn == std::vector<std::string>{"h3", "h3-29"});
    CHECK(s->versions == std::vector<uint32_t>{0x00000001, 0x6b3343cf});
    CHECK(s->title == "test");
    REQUIRE(s->actions.size() == 7);
    const auto& a = s->actions;
    using K = Action::Kind;
    CHECK(a[0].kind == K::kHeaders);
    CHECK(a[0].stream == "s0");
    CHECK(*a[0].time_ms == doctest::Approx(1.0));
    // The fields exactly as sent: order, case and pseudo-fields after regular ones.
    REQUIRE(a[0].fields.size() == 3);
    CHECK(a[0].fields[1].name == "X-Upper");
    CHECK(a[0].fields[2].name == ":path");
    CHECK_FALSE(a[0].fin);
    CHECK(a[1].kind == K::kData);
    CHECK(as_string(a[1].bytes) == "0123456789");
    CHECK(a[1].fin);  // the FIN went with the last DATA frame
    CHECK(a[1].elided.empty());
    CHECK(a[2].kind == K::kHeaders);
    CHECK(a[2].stream == "s4");
    CHECK(a[2].fin);
    CHECK(a[3].kind == K::kStopSending);
    CHECK(a[3].code == 0x10c);
    CHECK(a[4].kind == K::kResetStream);
    CHECK(a[4].code == 0x10c);
    CHECK(a[5].kind == K::kDatagram);
    CHECK(as_string(a[5].bytes) == "\xde\xad");
    CHECK(a[6].kind == K::kExpect);
    REQUIRE(a[6].any_of.size() == 1);
    CHECK(a[6].any_of[0].stream == "s0");
    CHECK(a[6].any_of[0].statuses == std::vector<int>{200});
    CHECK(*a[6].time_ms == doctest::Approx(6.0));
}

TEST_CASE("replay recording: --record-max-body elides and says so; replay keeps the length") {
    TempFile f;
    const std::string text = record_everything(f, 4);
    CHECK(text.find("\"payload_length\":10,\"data\":\"30313233\"}},\"elided_bytes\":6") !=
          std::string::npos);
    std::string error;
    auto s = parse_recording(text, "r.sqlog", error);
    REQUIRE_MESSAGE(s, error);
    CHECK(as_string(s->actions[1].bytes) == "0123xxxxxx");
    CHECK(s->actions[1].elided.find("6 body bytes beyond --record-max-body 4") == 0);
}

TEST_CASE("replay recording: a qlog reader reads it") {
    TempFile f;
    const std::string text = record_everything(f, 1 << 20);
    auto traces = qlog::parse_text(text, "r.sqlog");
    REQUIRE_MESSAGE(traces.ok(), traces.error().reason);
    REQUIRE(traces->size() == 1);
    CHECK((*traces)[0].vantage_point == "client");
    CHECK((*traces)[0].events.size() == 13);
}

// Record 1 is the header; the recording above has these records after it (2..14):
// connection_parameters, state open, HEADERS, DATA, state data_sent, state open, HEADERS,
// state data_sent, stop_sending, reset, datagram, response, response.
std::string replace(std::string s, const std::string& from, const std::string& to) {
    const size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

TEST_CASE("replay recording: malformed ones name the record and the field") {
    TempFile f;
    const std::string good = record_everything(f, 1 << 20);
    struct Case {
        std::string text, error;
    };
    const Case cases[] = {
        {good.substr(0, good.size() - 20), "r.sqlog record 14: not a JSON object (truncated?)"},
        {good + "\x1e{\"time\": 1, \"name\": \"quic:packet_sent\", \"data\": {}}\n",
         "r.sqlog record 15: unknown event 'quic:packet_sent' (docs/replay.md lists a "
         "recording's)"},
        {replace(good, "\"payload_length\":10,", ""),
         "r.sqlog record 5: event 'http3:frame_created': field 'frame.raw.payload_length' is "
         "missing"},
        {replace(good, "\"data\":\"30313233343536373839\"", "\"data\":\"3x\""),
         "r.sqlog record 5: event 'http3:frame_created': field 'frame.raw.data' must be hex "
         "(pairs of digits)"},
        {replace(good, "\"sni\":\"example.org\",", ""),
         "r.sqlog record 2: event 'quiver:connection_parameters': field 'sni' is missing"},
        {replace(good, "\"new\":\"reset_sent\"", "\"new\":\"closed\""),
         "r.sqlog record 11: event 'quic:stream_state_updated': field 'new': 'closed' is not a "
         "state a recording has (open, data_sent, reset_sent)"},
        {replace(good, "stop_sending\",\"data\":{\"stream_id\":4,", "stop_sending\",\"data\":{"),
         "r.sqlog record 10: event 'quiver:stop_sending': field 'stream_id' is missing"},
        {replace(good, "\"name\":\"quiver:connection_parameters\"",
                 "\"name\":\"quic:alpn_information\""),
         "r.sqlog record 3: event 'quic:stream_state_updated': comes before "
         "quiver:connection_parameters (the connection was not ready)"},
        {replace(good, "{\"time\":6,", "{\"tme\":6,"),
         "r.sqlog record 13: field 'time' is missing"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.error);
        std::string error;
        CHECK_FALSE(parse_recording(c.text, "r.sqlog", error));
        CHECK(error == c.error);
    }
    // Not a recording: a script, and another stack's qlog.
    CHECK_FALSE(is_recording("{\"replay\": 1}\n{\"action\": \"wait\", \"ms\": 1}\n"));
    CHECK_FALSE(
        is_recording("\x1e{\"file_schema\":\"urn:ietf:params:qlog:file:sequential\",\"trace\":{"
                     "\"event_schemas\":[\"urn:ietf:params:qlog:events:quic-13\"]}}\n"));
}

}  // namespace
}  // namespace quiver::replay
