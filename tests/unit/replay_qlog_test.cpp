// Other stacks' client traces as replay scripts (cli/replay_qlog.cpp): a real ngtcp2 client
// trace (tests/data/qlog/), an HTTP/3 event carrying the fields, and what a trace lacks.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "replay_qlog.h"

namespace quiver::replay {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST_CASE("replay qlog: ngtcp2's client trace gives its one request, and says what it lacks") {
    const std::string text = slurp(QUIVER_TEST_DATA_DIR "/qlog/ngtcp2-0.12_client.sqlog");
    REQUIRE(!text.empty());
    CHECK(looks_like_qlog(text));
    std::vector<std::string> notes;
    std::string error;
    auto s = script_from_qlog(text, "c.sqlog", "/small", notes, error);
    REQUIRE_MESSAGE(s, error);
    REQUIRE(s->actions.size() == 1);
    const Action& a = s->actions[0];
    CHECK(a.kind == Action::Kind::kHeaders);
    CHECK(a.stream == "s0");
    CHECK(a.fin);
    REQUIRE(a.fields.size() == 4);
    CHECK(a.fields[3].value == "/small");
    bool says_no_h3 = false;
    for (const std::string& n : notes)
        says_no_h3 = says_no_h3 || n.find("no HTTP/3 events") != std::string::npos;
    CHECK(says_no_h3);
}

TEST_CASE("replay qlog: HTTP/3 events give the fields; a reset stream is reset; servers refused") {
    const std::string text =
        "{\"qlog_version\":\"0.3\",\"qlog_format\":\"JSON-SEQ\",\"trace\":{\"vantage_point\":"
        "{\"type\":\"client\"}}}\n"
        "{\"time\":1,\"name\":\"transport:packet_sent\",\"data\":{\"frames\":[{\"frame_type\":"
        "\"stream\",\"stream_id\":4,\"offset\":0,\"length\":30}]}}\n"
        "{\"time\":2,\"name\":\"http3:frame_created\",\"data\":{\"stream_id\":4,\"frame\":{"
        "\"frame_type\":\"headers\",\"headers\":[{\"name\":\":method\",\"value\":\"POST\"},"
        "{\"name\":\":path\",\"value\":\"/up\"}]}}}\n"
        "{\"time\":3,\"name\":\"transport:packet_sent\",\"data\":{\"frames\":[{\"frame_type\":"
        "\"reset_stream\",\"stream_id\":4,\"error_code\":268}]}}\n";
    std::vector<std::string> notes;
    std::string error;
    auto s = script_from_qlog(text, "t", "/", notes, error);
    REQUIRE_MESSAGE(s, error);
    REQUIRE(s->actions.size() == 2);
    CHECK(s->actions[0].fields[0].value == "POST");
    CHECK(!s->actions[0].fin);
    CHECK(s->actions[1].kind == Action::Kind::kResetStream);
    CHECK(s->actions[1].code == 268);

    std::string server = text;
    server.replace(server.find("client"), 6, "server");
    CHECK(!script_from_qlog(server, "t", "/", notes, error));
    CHECK(error.find("no client trace") != std::string::npos);
    CHECK(!script_from_qlog("{\"qlog_version\": \"0.3\"", "t", "/", notes, error));
}

}  // namespace
}  // namespace quiver::replay
