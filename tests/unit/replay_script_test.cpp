// The replay script parser (cli/replay_script.cpp, docs/replay.md): every action read, and a
// table of malformed scripts, each giving one line that names the line and the field.
#include <doctest/doctest.h>

#include <string>

#include "hex.h"
#include "quic/http3/error.h"
#include "replay_script.h"

namespace quiver::replay {
namespace {

using quic::test::to_hex;

TEST_CASE("replay script: a header and every action") {
    const std::string text =
        "{\"replay\": 1, \"title\": \"t\", \"clause\": \"RFC 9114 §4.1\", \"requires\": \"r\", "
        "\"settings\": [[6, 1000]]}\n"
        "\n"
        "\x1e{\"action\": \"headers\", \"stream\": \"a\", \"fields\": [[\":method\", \"GET\"], "
        "{\"name\": \"x\", \"value\": \"ab\", \"repeat\": 3}], \"time\": 12.5}\n"
        "{\"action\": \"data\", \"stream\": \"a\", \"text\": \"hi\", \"fin\": true}\n"
        "{\"action\": \"frame\", \"stream\": \"control\", \"type\": \"GOAWAY\", \"id\": 4}\n"
        "{\"action\": \"frame\", \"stream\": \"a\", \"type\": 33, \"hex\": \"0a0b\", \"length\": "
        "9}\n"
        "{\"action\": \"raw\", \"stream\": \"a\", \"hex\": \"00 01\"}\n"
        "{\"action\": \"uni_stream\", \"stream\": \"p\", \"type\": \"push\", \"push_id\": 2}\n"
        "{\"action\": \"fin\", \"stream\": \"a\"}\n"
        "{\"action\": \"reset_stream\", \"stream\": \"a\", \"code\": \"H3_REQUEST_CANCELLED\"}\n"
        "{\"action\": \"stop_sending\", \"stream\": \"a\", \"code\": 7}\n"
        "{\"action\": \"goaway\", \"id\": 0}\n"
        "{\"action\": \"settings\", \"settings\": [[6, 1], [6, 2]]}\n"
        "{\"action\": \"datagram\", \"size\": 3}\n"
        "{\"action\": \"quic_frame\", \"type\": \"MAX_STREAMS\", \"bidi\": false, \"maximum\": 9}\n"
        "{\"action\": \"wait\", \"ms\": 10}\n"
        "{\"action\": \"expect\", \"timeout_ms\": 500, \"any_of\": [{\"connection_close\": "
        "[\"H3_FRAME_UNEXPECTED\", \"0x105\"]}, {\"stream_reset\": {\"stream\": \"a\"}}, "
        "{\"response\": {\"stream\": \"a\", \"status\": [200, \"4xx\"]}}]}\n"
        "{\"time\": 30, \"name\": \"replay:fin\", \"data\": {\"stream\": \"b\"}}\n";
    std::string error;
    auto s = parse_script(text, "t.json", error);
    REQUIRE_MESSAGE(s, error);
    CHECK(s->title == "t");
    CHECK(s->settings.size() == 1);
    REQUIRE(s->actions.size() == 16);
    const Action& h = s->actions[0];
    CHECK(h.kind == Action::Kind::kHeaders);
    CHECK(h.line == 3);
    CHECK(h.time_ms == 12.5);
    REQUIRE(h.fields.size() == 2);
    CHECK(h.fields[1].value == "ababab");
    CHECK(s->actions[2].frame_type == 0x07);
    CHECK(to_hex(s->actions[2].bytes) == "04");
    CHECK(s->actions[3].length == 9u);
    CHECK(to_hex(s->actions[4].bytes) == "0001");
    CHECK(s->actions[5].push_id == 2u);
    CHECK(s->actions[7].code == quic::h3::to_underlying(quic::h3::H3Error::kRequestCancelled));
    CHECK(s->actions[10].settings.size() == 2);
    CHECK(s->actions[11].bytes.size() == 3);
    CHECK(s->actions[12].quic_type == "MAX_STREAMS");
    CHECK(!s->actions[12].bidirectional);
    CHECK(s->actions[12].maximum == 9);
    const Action& e = s->actions[14];
    REQUIRE(e.any_of.size() == 3);
    CHECK(e.any_of[0].codes.size() == 2);
    CHECK(e.any_of[2].statuses == std::vector<int>{200, 4});
    CHECK(s->actions[15].kind == Action::Kind::kFin);
    CHECK(s->actions[15].time_ms == 30);
}

TEST_CASE("replay script: malformed scripts name the line and the field, never crash") {
    struct Case {
        const char* text;
        const char* error;
    };
    const Case cases[] = {
        {"", "s.json: no actions"},
        {"{\"action\": \"wait\", \"ms\": 1}\nnot json", "s.json line 2: not a JSON object"},
        {"[1, 2]", "s.json line 1: not a JSON object"},
        {"{\"ms\": 1}", "s.json line 1: field 'action' is missing or not a string"},
        {"{\"action\": 3}", "s.json line 1: field 'action' is missing or not a string"},
        {"{\"action\": \"jump\"}", "s.json line 1: action 'jump': unknown action"},
        {"{\"action\": \"headers\", \"stream\": \"a\", \"fields\": {}}",
         "s.json line 1: action 'headers': field 'fields' must be an array"},
        {"{\"action\": \"headers\", \"stream\": \"a\"}",
         "s.json line 1: action 'headers': field 'fields' is missing"},
        {"{\"action\": \"headers\", \"fields\": []}",
         "s.json line 1: action 'headers': field 'stream' is missing"},
        {"{\"action\": \"headers\", \"stream\": \"a\", \"fields\": [[\"a\"]]}",
         "s.json line 1: action 'headers': field 'fields' item 1 must be a [name, value] pair"},
        {"{\"action\": \"headers\", \"stream\": \"a\", \"fields\": [{\"name\": \"a\"}]}",
         "s.json line 1: action 'headers': field 'fields' item 1: field 'value' is missing"},
        {"{\"action\": \"headers\", \"stream\": \"a\", \"fields\": [{\"name\": \"a\", \"value\": "
         "\"bb\", \"repeat\": 16000000}]}",
         "s.json line 1: action 'headers': field 'fields' item 1: the repeated value is above"},
        {"{\"action\": \"headers\", \"stream\": \"control\", \"fields\": []}",
         "s.json line 1: action 'headers': stream 'control' is our control stream"},
        {"{\"action\": \"headers\", \"stream\": \"a\", \"fields\": [], \"colour\": 1}",
         "s.json line 1: action 'headers': unknown field 'colour'"},
        {"{\"action\": \"data\", \"stream\": \"a\", \"hex\": \"abc\"}",
         "s.json line 1: action 'data': field 'hex' must be pairs of hex digits"},
        {"{\"action\": \"data\", \"stream\": \"a\", \"hex\": \"ab\", \"text\": \"x\"}",
         "s.json line 1: action 'data': give one of 'hex', 'text' and 'size'"},
        {"{\"action\": \"data\", \"stream\": \"a\", \"size\": -1}",
         "s.json line 1: action 'data': field 'size' must be a number from 0 to"},
        {"{\"action\": \"data\", \"stream\": \"a\", \"fin\": 1}",
         "s.json line 1: action 'data': field 'fin' must be true or false"},
        {"{\"action\": \"frame\", \"stream\": \"a\", \"type\": \"BOGUS\"}",
         "s.json line 1: action 'frame': field 'type': unknown name 'BOGUS'"},
        {"{\"action\": \"frame\", \"stream\": \"a\", \"type\": 4611686018427387904}",
         "s.json line 1: action 'frame': field 'type' must be an integer from 0 to 2^62-1"},
        {"{\"action\": \"frame\", \"stream\": \"a\", \"type\": 4, \"settings\": [[1]]}",
         "s.json line 1: action 'frame': field 'settings' item 1 must be an [id, value] pair"},
        {"{\"action\": \"uni_stream\", \"stream\": \"u\"}",
         "s.json line 1: action 'uni_stream': field 'type' is missing"},
        {"{\"action\": \"reset_stream\", \"stream\": \"a\", \"code\": \"H3_OOPS\"}",
         "s.json line 1: action 'reset_stream': field 'code': unknown error code 'H3_OOPS'"},
        {"{\"action\": \"goaway\"}", "s.json line 1: action 'goaway': field 'id' is missing"},
        {"{\"action\": \"wait\", \"ms\": \"soon\"}",
         "s.json line 1: action 'wait': field 'ms' must be a number from 0 to 600000"},
        {"{\"action\": \"wait\", \"ms\": 1e9}",
         "s.json line 1: action 'wait': field 'ms' must be a number from 0 to 600000"},
        {"{\"action\": \"expect\"}", "s.json line 1: action 'expect': an expect needs"},
        {"{\"action\": \"expect\", \"any_of\": []}",
         "s.json line 1: action 'expect': field 'any_of' must be a non-empty array"},
        {"{\"action\": \"expect\", \"any_of\": [{\"smile\": 1}]}",
         "s.json line 1: action 'expect': any_of item 1: unknown expectation 'smile'"},
        {"{\"action\": \"expect\", \"any_of\": [{\"goaway\": {}, \"alive\": true}]}",
         "s.json line 1: action 'expect': any_of item 1 must be an object with one key"},
        {"{\"action\": \"expect\", \"response\": {\"status\": 200}}",
         "s.json line 1: action 'expect': expectation: response: field 'stream' is missing"},
        {"{\"action\": \"expect\", \"response\": {\"stream\": \"a\", \"status\": 999}}",
         "s.json line 1: action 'expect': expectation: response: field 'status' must be"},
        {"{\"action\": \"expect\", \"connection_close\": \"NOPE\"}",
         "s.json line 1: action 'expect': expectation: connection_close: field 'code': unknown"},
        {"{\"action\": \"expect\", \"stream_reset\": 5}",
         "s.json line 1: action 'expect': expectation: stream_reset: must be an object"},
        {"{\"action\": \"expect\", \"alive\": false}",
         "s.json line 1: action 'expect': expectation: alive: must be true"},
        {"{\"action\": \"expect\", \"goaway\": {}, \"alive\": true}",
         "s.json line 1: action 'expect': give one expectation, or several in 'any_of'"},
        {"{\"action\": \"wait\", \"ms\": 1}\n{\"replay\": 1}",
         "s.json line 2: the 'replay' header must be the first record"},
        {"{\"replay\": 2}", "s.json line 1: header: 'replay' must be 1"},
        {"{\"replay\": 1, \"control_streams\": \"yes\"}",
         "s.json line 1: header: field 'control_streams' must be true or false"},
        {"{\"action\": \"quic_frame\", \"type\": \"ACK\"}",
         "s.json line 1: action 'quic_frame': field 'type': 'ACK' cannot be injected"},
        {"{\"action\": \"quic_frame\", \"type\": \"STREAM\"}",
         "s.json line 1: action 'quic_frame': a STREAM frame needs 'stream' or 'stream_id'"},
        {"{\"action\": \"wait\", \"ms\": 1, \"time\": -5}",
         "s.json line 1: action 'wait': field 'time' must be a number"},
    };
    for (const Case& c : cases) {
        std::string error;
        auto s = parse_script(c.text, "s.json", error);
        CHECK_MESSAGE(!s, std::string(c.text));
        CHECK_MESSAGE(error.rfind(c.error, 0) == 0, "script: ", std::string(c.text),
                      "\nerror: ", error, "\nwant: ", std::string(c.error));
    }
}

TEST_CASE("replay script: error codes by name, by number, in hex") {
    CHECK(parse_error_code("H3_MESSAGE_ERROR")->code == 0x10e);
    CHECK(parse_error_code("QPACK_DECOMPRESSION_FAILED")->code == 0x200);
    CHECK(parse_error_code("STREAM_LIMIT_ERROR")->space == ErrorCode::Space::kTransport);
    CHECK(parse_error_code("0x10c")->code == 0x10c);
    CHECK(!parse_error_code("0xzz"));
    CHECK(!parse_error_code("h3_message_error"));
    CHECK(describe(ErrorCode{ErrorCode::Space::kAny, 0x10e}) == "H3_MESSAGE_ERROR");
}

}  // namespace
}  // namespace quiver::replay
