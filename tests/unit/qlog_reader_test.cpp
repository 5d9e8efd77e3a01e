// The qlog reader, summary and plot on real files from other implementations (committed
// under tests/data/qlog/, generated on loopback):
//   ngtcp2-0.12_client.sqlog  gtlsclient --qlog-dir (Debian ngtcp2-client 0.12.1), qlog 0.3
//                             JSON-SEQ, fetching a 3000-byte file from gtlsserver;
//   quic-go-0.29_server.qlog  quic-go 0.29 (Debian golang-github-lucas-clemente-quic-go-dev)
//                             with qlog.NewTracer, NDJSON "draft-02", serving 3000 bytes.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "qlog/plot.h"
#include "qlog/reader.h"
#include "qlog/summary.h"

namespace {

namespace fs = std::filesystem;

// tests/data/qlog, from CMake (__FILE__ may be relative under ccache's base_dir).
fs::path data_dir() {
    return fs::path(QUIVER_TEST_DATA_DIR) / "qlog";
}

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

// A small well-formedness check for the SVG we write (no comments, CDATA or DTD): every tag
// closes in order, attributes are quoted, there is one root element.
bool well_formed_xml(const std::string& s, std::string& why) {
    std::vector<std::string> stack;
    size_t roots = 0;
    size_t i = 0;
    while ((i = s.find('<', i)) != std::string::npos) {
        const size_t end = s.find('>', i);
        if (end == std::string::npos) return why = "unclosed tag", false;
        std::string tag = s.substr(i + 1, end - i - 1);
        i = end + 1;
        if (tag.empty()) return why = "empty tag", false;
        if (tag[0] == '?') continue;  // the XML declaration
        if (tag[0] == '/') {
            const std::string name = tag.substr(1);
            if (stack.empty() || stack.back() != name)
                return why = "mismatched </" + name + ">", false;
            stack.pop_back();
            continue;
        }
        if (count(tag, "\"") % 2 != 0) return why = "unbalanced quotes in <" + tag + ">", false;
        const bool self_closing = tag.back() == '/';
        const std::string name = tag.substr(0, tag.find_first_of(" /"));
        if (stack.empty()) ++roots;
        if (!self_closing) stack.push_back(name);
    }
    if (!stack.empty()) return why = "unclosed <" + stack.back() + ">", false;
    if (roots != 1) return why = "not one root element", false;
    return true;
}

}  // namespace

TEST_CASE("qlog reader: ngtcp2 0.12 JSON-SEQ (qlog 0.3)") {
    auto r = qlog::read_file(data_dir() / "ngtcp2-0.12_client.sqlog");
    REQUIRE_MESSAGE(r.ok(), r.error().reason);
    REQUIRE(r->size() == 1);
    const qlog::Trace& t = (*r)[0];
    CHECK(t.serialization == "JSON-SEQ");
    CHECK(t.qlog_version == "0.3");
    CHECK(t.vantage_point == "client");
    CHECK(t.producer == "ngtcp2");
    CHECK(t.bad_records == 0);
    CHECK(t.events.size() == 34);
    CHECK(t.events.front().name == "quic:parameters_set");
    CHECK(t.events.front().data["initiator"] == "local");  // 0.3 "owner"
    // Frame lengths are normalised to the draft's raw.length.
    bool saw_stream = false;
    for (const qlog::Event& e : t.events) {
        CHECK(e.name.rfind("quic:", 0) == 0);
        if (e.name != "quic:packet_received") continue;
        for (const auto& f : e.data["frames"])
            if (f["frame_type"] == "stream") {
                CHECK(f["raw"]["length"].is_number());
                saw_stream = true;
            }
    }
    CHECK(saw_stream);

    const qlog::ConnectionSummary s = qlog::summarize(t);
    CHECK(s.packets_sent == 7);
    CHECK(s.packets_received == 9);
    CHECK(s.bytes_sent == 3508);
    CHECK(s.bytes_received == 6391);
    CHECK(s.packets_lost == 0);
    CHECK(s.max_congestion_window == 17477);
    CHECK(s.handshake_ms.has_value());  // from the HANDSHAKE_DONE frame
    CHECK(s.closed == "local application 0x100");
}

TEST_CASE("qlog reader: quic-go 0.29 NDJSON (draft-02)") {
    auto r = qlog::read_file(data_dir() / "quic-go-0.29_server.qlog");
    REQUIRE_MESSAGE(r.ok(), r.error().reason);
    REQUIRE(r->size() == 1);
    const qlog::Trace& t = (*r)[0];
    CHECK(t.serialization == "NDJSON");
    CHECK(t.qlog_version == "draft-02");
    CHECK(t.vantage_point == "server");
    CHECK(t.producer == "quic-go qlog");
    CHECK(t.group_id == "0821dd607deb9bcf6cc3536e95c5a729da");
    CHECK(t.bad_records == 0);
    CHECK(t.events.size() == 53);
    bool key_discarded = false, timer = false, metrics = false;
    for (const qlog::Event& e : t.events) {
        key_discarded |= e.name == "quic:key_discarded";  // security:key_retired
        timer |= e.name == "quic:timer_updated";          // recovery:loss_timer_updated
        metrics |= e.name == "quic:recovery_metrics_updated";
    }
    CHECK(key_discarded);
    CHECK(timer);
    CHECK(metrics);

    const qlog::ConnectionSummary s = qlog::summarize(t);
    CHECK(s.packets_sent == 11);
    CHECK(s.packets_received == 5);
    CHECK(s.bytes_sent == 4733);
    CHECK(s.bytes_received == 2564);
    CHECK(s.version == 1u);
    CHECK(s.closed == "local application 0x0 (bye)");
    CHECK(s.min_rtt_ms.has_value());
    const std::string table = qlog::format_summary_table(std::vector{s});
    CHECK(table.find("quic-go-0.29_server.qlog") != std::string::npos);
    CHECK(table.find("TX_PKTS") != std::string::npos);
    CHECK(count(table, "\n") == 2);
}

TEST_CASE("qlog reader: JSON QlogFile with several traces, draft-01 event arrays") {
    const std::string text = R"({
      "qlog_version": "draft-01",
      "traces": [
        {"vantage_point": {"type": "client", "name": "old"},
         "common_fields": {"reference_time": "1000", "time_format": "absolute"},
         "event_fields": ["relative_time", "category", "event", "data"],
         "events": [[1000, "transport", "packet_sent",
                     {"packet_type": "initial", "header": {"packet_number": 0}, "raw": {"length": 1200}}],
                    [1012.5, "recovery", "metrics_updated", {"congestion_window": 12000}]]},
        {"error_description": "file not found"},
        {"vantage_point": {"type": "server"},
         "common_fields": {"time_format": "delta"},
         "events": [{"time": 5, "name": "transport:packet_received", "data": {}},
                    {"time": 2, "name": "http:frame_created", "data": {}}]}
      ]})";
    auto r = qlog::parse_text(text, "x.qlog");
    REQUIRE_MESSAGE(r.ok(), r.error().reason);
    REQUIRE(r->size() == 2);  // the TraceError entry is skipped
    const qlog::Trace& a = (*r)[0];
    CHECK(a.serialization == "JSON");
    CHECK(a.vantage_point == "client");
    REQUIRE(a.events.size() == 2);
    CHECK(a.events[0].name == "quic:packet_sent");
    CHECK(a.events[0].data["header"]["packet_type"] == "initial");
    CHECK(a.events[0].time_ms == 0);
    CHECK(a.events[1].name == "quic:recovery_metrics_updated");
    CHECK(a.events[1].time_ms == 12.5);
    const qlog::Trace& b = (*r)[1];
    REQUIRE(b.events.size() == 2);
    CHECK(b.events[1].name == "http3:frame_created");
    CHECK(b.events[1].time_ms == 2);  // deltas accumulated, then counted from the first event
    CHECK(qlog::summarize(a).packets_sent == 1);
    CHECK(qlog::summarize(a).max_congestion_window == 12000);
}

TEST_CASE("qlog reader: damaged and foreign input") {
    SUBCASE("a cut-off last record is counted, the rest is read") {
        const std::string text =
            "\x1e{\"qlog_version\":\"0.3\",\"trace\":{\"vantage_point\":{\"type\":\"server\"}}}\n"
            "\x1e{\"time\":1,\"name\":\"transport:packet_sent\",\"data\":{\"raw\":{\"length\":9}}}"
            "\n"
            "\x1e{\"time\":2,\"name\":\"transport:pack";
        auto r = qlog::parse_text(text);
        REQUIRE(r.ok());
        CHECK((*r)[0].events.size() == 1);
        CHECK((*r)[0].bad_records == 1);
    }
    SUBCASE("not qlog") {
        CHECK_FALSE(qlog::parse_text("hello").ok());
        CHECK_FALSE(qlog::parse_text("").ok());
        CHECK_FALSE(qlog::parse_text("\x1e garbage\n\x1e more").ok());
        CHECK_FALSE(qlog::read_file(data_dir() / "no-such-file.sqlog").ok());
    }
    SUBCASE("event names of every qlog version map to the draft's") {
        CHECK(qlog::normalize_event_name("transport:packet_sent") == "quic:packet_sent");
        CHECK(qlog::normalize_event_name("connectivity:connection_started") ==
              "quic:connection_started");
        CHECK(qlog::normalize_event_name("recovery:metrics_updated") ==
              "quic:recovery_metrics_updated");
        CHECK(qlog::normalize_event_name("security:key_retired") == "quic:key_discarded");
        CHECK(qlog::normalize_event_name("transport:datagrams_received") ==
              "quic:udp_datagrams_received");
        CHECK(qlog::normalize_event_name("quic:packet_lost") == "quic:packet_lost");
        CHECK(qlog::normalize_event_name("http:frame_parsed") == "http3:frame_parsed");
    }
}

TEST_CASE("qlog plot: a well-formed SVG with axes, legend and series") {
    for (const char* name : {"quic-go-0.29_server.qlog", "ngtcp2-0.12_client.sqlog"}) {
        CAPTURE(name);
        auto r = qlog::read_file(data_dir() / name);
        REQUIRE(r.ok());
        const std::string svg = qlog::render_svg((*r)[0]);
        CHECK(svg.rfind("<?xml", 0) == 0);
        CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
        CHECK(svg.find("</svg>") != std::string::npos);
        std::string why;
        CHECK_MESSAGE(well_formed_xml(svg, why), why);
        CHECK(count(svg, "<polyline") >= 4);  // cwnd, bytes in flight, RTTs, a stream
        CHECK(svg.find("time (ms)") != std::string::npos);
        CHECK(svg.find("RTT (ms)") != std::string::npos);
        CHECK(svg.find("congestion window") != std::string::npos);
        CHECK(svg.find("bytes in flight") != std::string::npos);
        CHECK(svg.find("smoothed RTT") != std::string::npos);
        CHECK(svg.find("stream 0") != std::string::npos);
        CHECK(svg.find("nan") == std::string::npos);
        CHECK(svg.find("inf") == std::string::npos);
    }
    // No metrics at all: still a valid picture, saying so.
    qlog::Trace empty;
    empty.source = "empty<&>.sqlog";
    const std::string svg = qlog::render_svg(empty);
    std::string why;
    CHECK_MESSAGE(well_formed_xml(svg, why), why);
    CHECK(svg.find("no recovery metrics") != std::string::npos);
    CHECK(svg.find("empty&lt;&amp;&gt;.sqlog") != std::string::npos);
}
