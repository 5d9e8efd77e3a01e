// The qlog writer: every Tracer method driven directly, the file read back as JSON-SEQ and
// checked against the quic events draft's required fields (a table per event name and per
// frame type), both schemas' headers, and hostile inputs that must give a bounded, valid file.
#include <doctest/doctest.h>

#include <unistd.h>
#include "qlog_required_fields.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "qlog/limits.h"
#include "qlog/reader.h"
#include "qlog/summary.h"
#include "qlog/writer.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using qlog_test::kRequiredEventFields;
using qlog_test::kRequiredFrameFields;
using quic::Time;
namespace tr = quic::trace;

// A fresh directory under /tmp, removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "qlog_test_XXXXXX").string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Strict RFC 7464 check: 0x1E, one JSON object, 0x0A, again and again; nothing else.
std::vector<json> parse_json_seq(const std::string& text) {
    std::vector<json> out;
    size_t pos = 0;
    REQUIRE(!text.empty());
    while (pos < text.size()) {
        REQUIRE(text[pos] == '\x1e');
        const size_t next = text.find('\x1e', pos + 1);
        const size_t end = next == std::string::npos ? text.size() : next;
        REQUIRE(text[end - 1] == '\n');
        json j = json::parse(text.begin() + static_cast<long>(pos) + 1,
                             text.begin() + static_cast<long>(end), nullptr, false);
        REQUIRE_MESSAGE(!j.is_discarded(), "record does not parse: ",
                        text.substr(pos, std::min<size_t>(200, end - pos)));
        REQUIRE(j.is_object());
        out.push_back(std::move(j));
        pos = end;
    }
    return out;
}

quic::ConnectionId cid(std::initializer_list<uint8_t> b) {
    std::vector<uint8_t> v(b);
    return quic::ConnectionId(v);
}

Time at_ms(double ms) {
    return quic::time_from_ns(1'000'000'000 + static_cast<int64_t>(ms * 1e6));
}

// Bytes the frames point into; must outlive the calls.
struct Payloads {
    std::vector<uint8_t> crypto = std::vector<uint8_t>(371, 0x16);
    std::vector<uint8_t> stream = std::vector<uint8_t>(1200, 'x');
    std::vector<uint8_t> token = std::vector<uint8_t>(40, 0xab);
    std::vector<uint8_t> datagram = std::vector<uint8_t>(100, 'd');
    std::string reason = "bye";
};

// One of each frame of wire/frame.h.
std::vector<quic::Frame> every_frame(const Payloads& p) {
    quic::AckFrame ack;
    ack.largest_acknowledged = 10;
    ack.ack_delay = 100;  // 800 us with the default exponent 3
    ack.ranges = {{8, 10}, {5, 5}, {0, 3}};
    ack.ecn = quic::EcnCounts{4, 0, 1};
    quic::NewConnectionIdFrame ncid;
    ncid.sequence_number = 2;
    ncid.retire_prior_to = 1;
    ncid.connection_id = cid({1, 2, 3, 4, 5, 6, 7, 8});
    ncid.stateless_reset_token.fill(0x5a);
    quic::ConnectionCloseFrame close;
    close.error_code = 0x0a;
    close.frame_type = 0x08;
    close.reason =
        quic::ByteSpan(reinterpret_cast<const uint8_t*>(p.reason.data()), p.reason.size());
    return {
        quic::PaddingFrame{200},
        quic::PingFrame{},
        ack,
        quic::ResetStreamFrame{4, 0x10c, 5000},
        quic::StopSendingFrame{8, 0x10c},
        quic::CryptoFrame{0, p.crypto},
        quic::NewTokenFrame{p.token},
        quic::StreamFrame{4, 1000, p.stream, true, true},
        quic::MaxDataFrame{1 << 20},
        quic::MaxStreamDataFrame{4, 1 << 18},
        quic::MaxStreamsFrame{false, 100},
        quic::DataBlockedFrame{1 << 20},
        quic::StreamDataBlockedFrame{4, 1 << 18},
        quic::StreamsBlockedFrame{true, 100},
        ncid,
        quic::RetireConnectionIdFrame{1},
        quic::PathChallengeFrame{{1, 2, 3, 4, 5, 6, 7, 8}},
        quic::PathResponseFrame{{8, 7, 6, 5, 4, 3, 2, 1}},
        close,
        quic::HandshakeDoneFrame{},
        quic::DatagramFrame{p.datagram, true},
    };
}

quic::TransportParameters realistic_parameters(bool server) {
    quic::TransportParameters tp;
    tp.max_idle_timeout_ms = 30000;
    tp.initial_max_data = 1 << 20;
    tp.initial_max_stream_data_bidi_local = 1 << 18;
    tp.initial_max_stream_data_bidi_remote = 1 << 18;
    tp.initial_max_stream_data_uni = 1 << 18;
    tp.initial_max_streams_bidi = 100;
    tp.initial_max_streams_uni = 3;
    tp.ack_delay_exponent = server ? 4 : 3;
    tp.active_connection_id_limit = 4;
    tp.initial_source_connection_id = cid({0xaa, 0xbb});
    tp.max_datagram_frame_size = 1200;
    tp.grease_quic_bit = true;
    tp.version_information =
        quic::VersionInformation{quic::kVersion1, {quic::kVersion1, quic::kVersion2}};
    if (server) {
        tp.original_destination_connection_id = cid({0x83, 0x94, 0xc8, 0xf0});
        tp.stateless_reset_token = quic::StatelessResetToken{};
        quic::PreferredAddress pa;
        pa.ipv4_address = {192, 0, 2, 1};
        pa.ipv4_port = 443;
        pa.ipv6_address[15] = 1;
        pa.ipv6_port = 443;
        pa.connection_id = cid({9, 9, 9, 9});
        tp.preferred_address = pa;
    }
    return tp;
}

// Calls every Tracer method once or more, as a client connection would, over ~40 ms.
void drive_every_method(tr::Tracer& t) {
    const Payloads payloads;
    const auto frames = every_frame(payloads);
    const quic::ConnectionId odcid = cid({0x83, 0x94, 0xc8, 0xf0}), scid = cid({0xaa, 0xbb});
    quic::Path path{*quic::SocketAddress::parse("127.0.0.1:50000"),
                    *quic::SocketAddress::parse("127.0.0.1:4433")};
    t.connection_started(at_ms(0), path, quic::kVersion1, scid, odcid);
    t.parameters_set(at_ms(0), true, realistic_parameters(false));
    t.key_updated(at_ms(0), tr::KeyKind::kInitialClient, 0, tr::KeyTrigger::kTls);
    t.key_updated(at_ms(0), tr::KeyKind::kInitialServer, 0, tr::KeyTrigger::kTls);

    tr::PacketHeaderInfo initial;
    initial.type = quic::PacketType::kInitial;
    initial.packet_number = 0;
    initial.version = quic::kVersion1;
    initial.scid = scid;
    initial.dcid = odcid;
    initial.length = 1200;
    initial.token_length = 12;
    const quic::CryptoFrame ch{0, payloads.crypto};
    const quic::Frame initial_frames[] = {ch, quic::PaddingFrame{780}};
    t.packet_sent(at_ms(0.25), initial, initial_frames);
    t.timer_updated(at_ms(0.25), tr::TimerKind::kPto, at_ms(1000.25));
    t.metrics_updated(at_ms(0.25), tr::RecoveryMetrics{{},
                                                       std::chrono::milliseconds(333),
                                                       {},
                                                       std::chrono::microseconds(166500),
                                                       0,
                                                       14720,
                                                       1200,
                                                       UINT64_MAX,
                                                       0});
    t.datagram_received(at_ms(1.5), 1200);
    t.packet_buffered(at_ms(1.5), quic::PacketType::kHandshake, 600);
    t.packet_dropped(at_ms(1.5), quic::PacketType::kInitial, 1200,
                     tr::DropReason::kPayloadDecryptError);
    t.version_negotiation_received(at_ms(1.6),
                                   std::vector<quic::Version>{quic::kVersion1, 0x1a2a3a4a});
    t.retry_received(at_ms(1.7), cid({7, 7, 7, 7}), 44);
    tr::PacketHeaderInfo server_initial = initial;
    server_initial.scid = cid({0xcc, 0xdd});
    server_initial.dcid = scid;
    server_initial.token_length = 0;
    server_initial.length = 166;
    t.packet_received(at_ms(2), server_initial, std::span<const quic::Frame>(frames).first(3));
    t.parameters_set(at_ms(2), false, realistic_parameters(true));
    t.version_information(at_ms(2), std::vector<quic::Version>{quic::kVersion1, quic::kVersion2},
                          std::vector<quic::Version>{quic::kVersion1}, quic::kVersion1);
    t.alpn_information(at_ms(2), "hq-interop");
    t.key_updated(at_ms(2), tr::KeyKind::kHandshakeClient, 0, tr::KeyTrigger::kTls);
    t.key_discarded(at_ms(2.5), tr::KeyKind::kInitialClient, 0);
    t.connection_state_updated(at_ms(3), quic::ConnectionState::kHandshaking,
                               quic::ConnectionState::kEstablished);
    t.key_updated(at_ms(3), tr::KeyKind::kOneRttClient, 0, tr::KeyTrigger::kTls);
    t.key_updated(at_ms(3), tr::KeyKind::kZeroRtt, 0, tr::KeyTrigger::kTls);
    t.metrics_updated(
        at_ms(3),
        tr::RecoveryMetrics{std::chrono::microseconds(1750), std::chrono::microseconds(1750),
                            std::chrono::microseconds(1750), std::chrono::microseconds(875), 0,
                            14720, 0, UINT64_MAX, 1e8});

    tr::PacketHeaderInfo one_rtt;
    one_rtt.type = quic::PacketType::kOneRtt;
    one_rtt.packet_number = 3;
    one_rtt.dcid = cid({0xcc, 0xdd});
    one_rtt.length = 1400;
    one_rtt.key_phase = true;
    t.packet_sent(at_ms(4), one_rtt, frames);  // every frame type
    t.stream_state_updated(at_ms(4), 4, "send");
    t.stream_state_updated(at_ms(5), 4, "size_known");
    t.congestion_state_updated(at_ms(10), "", "slow_start");
    t.congestion_state_updated(at_ms(20), "slow_start", "recovery");
    t.packet_lost(at_ms(20), quic::PacketType::kOneRtt, 3, tr::LossTrigger::kTimeThreshold);
    t.packet_lost(at_ms(21), quic::PacketType::kOneRtt, 4, tr::LossTrigger::kReorderingThreshold);
    t.timer_updated(at_ms(21), tr::TimerKind::kLossTimeout, std::nullopt);
    t.timer_updated(at_ms(21), tr::TimerKind::kIdle, at_ms(30021));
    t.mtu_updated(at_ms(22), 1200, 1452, true);
    t.key_updated(at_ms(30), tr::KeyKind::kOneRttClient, 1, tr::KeyTrigger::kLocalUpdate);
    t.key_discarded(at_ms(31), tr::KeyKind::kOneRttClient, 0);
    t.connection_state_updated(at_ms(40), quic::ConnectionState::kEstablished,
                               quic::ConnectionState::kClosing);
    t.connection_closed(at_ms(40), quic::ConnectionClosed{quic::CloseOrigin::kLocal,
                                                          quic::Error::application(0, "done")});
    t.connection_state_updated(at_ms(41), quic::ConnectionState::kClosing,
                               quic::ConnectionState::kClosed);
}

bool has(const json& j, const std::string& pointer) {
    return j.contains(json::json_pointer(pointer));
}

std::vector<json> write_and_read(qlog::Schema schema, fs::path* file_out = nullptr) {
    TempDir dir;
    const auto odcid = cid({0x83, 0x94, 0xc8, 0xf0});
    {
        auto t = qlog::make_file_tracer(dir.path / "sub", quic::Role::kClient, odcid, schema);
        REQUIRE(t != nullptr);
        drive_every_method(*t);
    }
    const fs::path file = dir.path / "sub" / "8394c8f0_client.sqlog";
    REQUIRE(fs::exists(file));
    if (file_out) {
        *file_out =
            fs::temp_directory_path() / ("qlog_test_copy_" + std::to_string(getpid()) +
                                         (schema == qlog::Schema::kDraft ? "_d" : "_q") + ".sqlog");
        fs::copy_file(file, *file_out, fs::copy_options::overwrite_existing);
    }
    return parse_json_seq(slurp(file));
}

}  // namespace

TEST_CASE("qlog writer: draft schema header, and every event has the draft's required fields") {
    const std::vector<json> records = write_and_read(qlog::Schema::kDraft);
    REQUIRE(records.size() > 30);
    const json& h = records[0];
    CHECK(h["file_schema"] == "urn:ietf:params:qlog:file:sequential");
    CHECK(h["serialization_format"] == "application/qlog+json-seq");
    CHECK(h["trace"]["event_schemas"] == json::array({"urn:ietf:params:qlog:events:quic-13",
                                                      "urn:ietf:params:qlog:events:http3-13"}));
    CHECK(h["trace"]["vantage_point"]["type"] == "client");
    CHECK(h["trace"]["common_fields"]["group_id"] == "8394c8f0");
    CHECK(h["trace"]["common_fields"]["time_format"] == "relative_to_epoch");
    CHECK(h["trace"]["common_fields"]["reference_time"]["clock_type"] == "monotonic");
    CHECK(h["trace"]["common_fields"]["reference_time"]["epoch"] == "unknown");
    CHECK(h["trace"]["common_fields"]["reference_time"]["wall_clock_time"].is_string());
    // Main schema §3: file_schema and serialization_format within the first 256 bytes.
    CHECK(h.dump().find("serialization_format") < 256);

    std::set<std::string> seen_events, seen_frames;
    double last_time = -1;
    for (size_t i = 1; i < records.size(); ++i) {
        const json& e = records[i];
        REQUIRE(e["time"].is_number());
        REQUIRE(e["name"].is_string());
        REQUIRE(e["data"].is_object());
        CHECK(e["time"].get<double>() >= last_time);
        last_time = e["time"].get<double>();
        const std::string name = e["name"];
        auto req = kRequiredEventFields.find(name);
        REQUIRE_MESSAGE(req != kRequiredEventFields.end(), "unexpected event ", name);
        for (const std::string& f : req->second)
            CHECK_MESSAGE(has(e["data"], f), name, " lacks ", f, ": ", e.dump());
        seen_events.insert(name);
        if (e["data"].contains("frames")) {
            for (const json& f : e["data"]["frames"]) {
                const std::string type = f["frame_type"];
                auto freq = kRequiredFrameFields.find(type);
                REQUIRE_MESSAGE(freq != kRequiredFrameFields.end(), "unexpected frame ", type);
                for (const std::string& field : freq->second)
                    CHECK_MESSAGE(has(f, field), type, " lacks ", field, ": ", f.dump());
                seen_frames.insert(type);
            }
        }
    }
    for (const auto& entry : kRequiredEventFields)
        CHECK_MESSAGE(seen_events.count(entry.first) == 1, "never written: ", entry.first);
    for (const auto& entry : kRequiredFrameFields)
        CHECK_MESSAGE(seen_frames.count(entry.first) == 1, "frame never written: ", entry.first);
    CHECK(records[1]["time"] == 0);
}

TEST_CASE("qlog writer: draft field values (times, header, ACK, STREAM, close, parameters)") {
    const std::vector<json> records = write_and_read(qlog::Schema::kDraft);
    auto find = [&](const std::string& name, int nth = 0) -> const json& {
        for (const json& r : records)
            if (r.value("name", "") == name && nth-- == 0) return r;
        FAIL("no event ", name);
        return records[0];
    };
    const json& started = find("quic:connection_started");
    CHECK(started["data"]["local"]["ip_v4"] == "127.0.0.1");
    CHECK(started["data"]["local"]["port_v4"] == 50000);
    CHECK(started["data"]["remote"]["port_v4"] == 4433);
    CHECK(started["data"]["remote"]["connection_ids"] == json::array({"8394c8f0"}));

    const json& first = find("quic:packet_sent");
    CHECK(first["time"] == 0.25);
    CHECK(first["data"]["header"]["packet_type"] == "initial");
    CHECK(first["data"]["header"]["version"] == "00000001");
    CHECK(first["data"]["header"]["scid"] == "aabb");
    CHECK(first["data"]["header"]["dcid"] == "8394c8f0");
    CHECK(first["data"]["header"]["token"]["raw"]["length"] == 12);
    CHECK(first["data"]["raw"]["length"] == 1200);
    CHECK(first["data"]["frames"][0]["frame_type"] == "crypto");
    CHECK(first["data"]["frames"][0]["raw"]["length"] == 371);
    CHECK(first["data"]["frames"][1]["raw"]["payload_length"] == 780);

    const json& big = find("quic:packet_sent", 1);
    CHECK(big["time"] == 4);
    CHECK(big["data"]["header"]["packet_type"] == "1RTT");
    CHECK(big["data"]["header"]["packet_number"] == 3);
    CHECK(big["data"]["header"]["key_phase_bit"] == true);
    CHECK_FALSE(big["data"]["header"].contains("scid"));
    const json& frames = big["data"]["frames"];
    REQUIRE(frames.size() == 21);
    const json& ack = frames[2];
    // The local ack_delay_exponent is 3: 100 << 3 = 800 us.
    CHECK(ack["ack_delay"] == 0.8);
    CHECK(ack["acked_ranges"] == json::parse("[[8,10],[5],[0,3]]"));
    CHECK(ack["ect0"] == 4);
    CHECK(ack["ce"] == 1);
    CHECK(frames[3]["error_code"] == 0x10c);
    CHECK(frames[3]["final_size"] == 5000);
    CHECK(frames[6]["token"]["raw"]["length"] == 40);
    CHECK(frames[6]["token"]["raw"]["data"].get<std::string>().size() == 2 * qlog::kMaxHexBytes);
    const json& stream = frames[7];
    CHECK(stream["stream_id"] == 4);
    CHECK(stream["offset"] == 1000);
    CHECK(stream["raw"]["length"] == 1200);
    CHECK(stream["fin"] == true);
    CHECK(frames[10]["stream_type"] == "unidirectional");
    CHECK(frames[14]["connection_id"] == "0102030405060708");
    CHECK(frames[14]["connection_id_length"] == 8);
    CHECK(frames[14]["stateless_reset_token"] == "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
    CHECK(frames[16]["data"] == "0102030405060708");
    const json& close = frames[18];
    CHECK(close["error_space"] == "transport");
    CHECK(close["error"] == "protocol_violation");
    CHECK(close["trigger_frame_type"] == 8);
    CHECK(close["reason"] == "bye");
    CHECK(frames[20]["raw"]["length"] == 100);

    // The server's ack_delay_exponent (4) applies to received ACKs... in 1-RTT; the received
    // Initial's ACK uses the default 3.
    const json& received = find("quic:packet_received", 2);
    CHECK(received["data"]["frames"][2]["ack_delay"] == 0.8);

    const json& peer = find("quic:parameters_set", 1);
    CHECK(peer["data"]["initiator"] == "remote");
    CHECK(peer["data"]["original_destination_connection_id"] == "8394c8f0");
    CHECK(peer["data"]["preferred_address"]["ip_v4"] == "192.0.2.1");
    CHECK(peer["data"]["preferred_address"]["port_v6"] == 443);
    CHECK(peer["data"]["max_idle_timeout"] == 30000);
    CHECK(peer["data"]["max_datagram_frame_size"] == 1200);

    const json& m1 = find("quic:recovery_metrics_updated");
    CHECK(m1["data"]["smoothed_rtt"] == 333);
    CHECK(m1["data"]["rtt_variance"] == 166.5);
    CHECK_FALSE(m1["data"].contains("ssthresh"));  // "infinite" is left out
    const json& m2 = find("quic:recovery_metrics_updated", 1);
    CHECK(m2["data"]["min_rtt"] == 1.75);
    CHECK(m2["data"]["pacing_rate"] == 100000000);
    CHECK_FALSE(m2["data"].contains("congestion_window"));  // unchanged: not repeated

    CHECK(find("quic:timer_updated")["data"]["delta"] == 1000);
    CHECK(find("quic:timer_updated", 1)["data"]["event_type"] == "cancelled");
    CHECK(find("quic:key_updated", 5)["data"]["key_phase"] == 1);
    CHECK(find("quic:key_updated", 5)["data"]["trigger"] == "local_update");
    CHECK(find("quic:stream_state_updated", 1)["data"]["stream_side"] == "receiving");
    CHECK(find("quic:packet_dropped")["data"]["trigger"] == "decryption_failure");
    CHECK(find("quic:packet_dropped")["data"]["details"]["reason"] == "payload_decrypt_error");
    const json& vn = find("quic:packet_received", 0);
    CHECK(vn["data"]["header"]["packet_type"] == "version_negotiation");
    CHECK(vn["data"]["supported_versions"] == json::array({"00000001", "1a2a3a4a"}));
    const json& closed = find("quic:connection_closed");
    CHECK(closed["data"]["initiator"] == "local");
    CHECK(closed["data"]["application_error"] == "unknown");
    CHECK(closed["data"]["error_code"] == 0);
    CHECK(closed["data"]["reason"] == "done");
    CHECK(find("quic:alpn_information")["data"]["chosen_alpn"]["string_value"] == "hq-interop");
    CHECK(find("quic:version_information")["data"]["client_versions"] ==
          json::array({"00000001", "6b3343cf"}));
}

TEST_CASE("qlog writer: qvis 0.3 schema header and event names") {
    const std::vector<json> records = write_and_read(qlog::Schema::kQvis03);
    const json& h = records[0];
    CHECK(h["qlog_version"] == "0.3");
    CHECK(h["qlog_format"] == "JSON-SEQ");
    CHECK(h["trace"]["vantage_point"]["type"] == "client");
    CHECK(h["trace"]["common_fields"]["ODCID"] == "8394c8f0");
    CHECK(h["trace"]["common_fields"]["time_format"] == "relative");
    CHECK(h["trace"]["common_fields"]["reference_time"].is_number());
    std::set<std::string> names;
    for (size_t i = 1; i < records.size(); ++i) names.insert(records[i]["name"]);
    for (const char* n :
         {"transport:connection_started", "transport:parameters_set", "transport:packet_sent",
          "transport:packet_received", "transport:packet_dropped", "transport:packet_buffered",
          "transport:version_information", "transport:alpn_information",
          "transport:connection_closed", "transport:connection_state_updated",
          "transport:stream_state_updated", "transport:datagrams_received",
          "recovery:metrics_updated", "recovery:congestion_state_updated", "recovery:packet_lost",
          "recovery:loss_timer_updated", "security:key_updated", "security:key_retired"})
        CHECK_MESSAGE(names.count(n) == 1, "missing ", n);
    for (const std::string& n : names) CHECK_MESSAGE(n.rfind("quic:", 0) != 0, n);
    // 0.3 frames carry "length" next to the offset, as qvis reads them.
    for (const json& r : records) {
        if (r.value("name", "") != "transport:packet_sent") continue;
        for (const json& f : r["data"]["frames"])
            if (f["frame_type"] == "stream") CHECK(f["length"] == 1200);
    }
}

TEST_CASE("qlog writer: files read back in both schemas give the same summary") {
    fs::path draft_copy, qvis_copy;
    write_and_read(qlog::Schema::kDraft, &draft_copy);
    write_and_read(qlog::Schema::kQvis03, &qvis_copy);
    auto d = qlog::read_file(draft_copy);
    auto q = qlog::read_file(qvis_copy);
    fs::remove(draft_copy);
    fs::remove(qvis_copy);
    REQUIRE(d.ok());
    REQUIRE(q.ok());
    REQUIRE(d->size() == 1);
    REQUIRE(q->size() == 1);
    CHECK((*d)[0].qlog_version == "draft");
    CHECK((*q)[0].qlog_version == "0.3");
    REQUIRE((*d)[0].events.size() == (*q)[0].events.size());
    for (size_t i = 0; i < (*d)[0].events.size(); ++i)
        CHECK((*d)[0].events[i].name == (*q)[0].events[i].name);
    const qlog::ConnectionSummary sd = qlog::summarize((*d)[0]);
    const qlog::ConnectionSummary sq = qlog::summarize((*q)[0]);
    for (const auto* s : {&sd, &sq}) {
        CHECK(s->vantage_point == "client");
        CHECK(s->producer == "quiver");
        CHECK(s->packets_sent == 2);
        CHECK(s->bytes_sent == 2600);
        CHECK(s->packets_received == 3);  // VN, Retry, Initial
        CHECK(s->bytes_received == 166);
        CHECK(s->packets_lost == 2);
        CHECK(s->version == quic::kVersion1);
        CHECK(s->alpn == "hq-interop");
        CHECK(s->handshake_ms == 3);
        CHECK(s->duration_ms == 41);
        CHECK(s->min_rtt_ms == 1.75);
        CHECK(s->max_congestion_window == 14720);
        CHECK(s->closed == "local application 0x0 (done)");
    }
}

TEST_CASE("qlog writer: hostile sizes give a bounded, valid file") {
    TempDir dir;
    const fs::path file = dir.path / "hostile.sqlog";
    {
        qlog::QlogTracer t(file, quic::Role::kServer, cid({1, 2, 3}));
        REQUIRE(t.ok());
        // 5000 ACK ranges, as a peer acknowledging every other packet would send.
        quic::AckFrame ack;
        for (uint64_t i = 0; i < 5000; ++i) {
            const uint64_t top = 20000 - 2 * i;
            ack.ranges.push_back({top, top});
        }
        ack.largest_acknowledged = ack.ranges[0].largest;
        ack.ranges_dropped = 7;
        const std::string reason(100'000, 'R');
        std::string bad_utf8 = "\xff\xfe bad \xc3";
        const std::vector<uint8_t> token(60'000, 0xee);
        quic::ConnectionCloseFrame close;
        close.reason =
            quic::ByteSpan(reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
        quic::ConnectionCloseFrame close2;
        close2.reason =
            quic::ByteSpan(reinterpret_cast<const uint8_t*>(bad_utf8.data()), bad_utf8.size());
        std::vector<quic::Frame> frames{ack, quic::NewTokenFrame{token}, close, close2};
        for (int i = 0; i < 2000; ++i) frames.push_back(quic::PingFrame{});
        tr::PacketHeaderInfo h;
        h.type = quic::PacketType::kOneRtt;
        h.dcid = cid({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20});
        h.length = 1500;
        t.packet_received(at_ms(1), h, frames);
        // Long names and reasons from everywhere else.
        t.alpn_information(at_ms(2), std::string(300, 'a'));
        t.congestion_state_updated(at_ms(2), std::string(10'000, 'o'), std::string(10'000, 'n'));
        t.stream_state_updated(at_ms(2), 0, std::string(10'000, 's'));
        std::vector<quic::Version> many(10'000, quic::kVersion1);
        t.version_information(at_ms(2), many, many, quic::kVersion1);
        t.version_negotiation_received(at_ms(2), many);
        quic::TransportParameters tp;
        tp.version_information = quic::VersionInformation{quic::kVersion1, many};
        t.parameters_set(at_ms(2), false, tp);
        t.connection_closed(at_ms(3),
                            quic::ConnectionClosed{
                                quic::CloseOrigin::kPeer,
                                quic::Error::transport(quic::TransportErrorCode::kProtocolViolation,
                                                       reason + bad_utf8)});
    }
    const std::string text = slurp(file);
    CHECK(text.size() < 16 * 1024);  // bounded, whatever the peer sent
    const std::vector<json> records = parse_json_seq(text);
    REQUIRE(records.size() == 9);
    const json& frames = records[1]["data"]["frames"];
    REQUIRE(frames.size() == qlog::kMaxFramesPerPacket);
    CHECK(records[1]["data"]["frames_omitted"] == 2004 - qlog::kMaxFramesPerPacket);
    CHECK(frames[0]["acked_ranges"].size() == qlog::kMaxAckRanges);
    CHECK(frames[0]["acked_ranges_omitted"] == 5000 - qlog::kMaxAckRanges + 7);
    CHECK(frames[0]["acked_ranges"][0] == json::array({20000}));
    CHECK(frames[1]["token"]["raw"]["length"] == 60'000);
    CHECK(frames[1]["token"]["raw"]["data"].get<std::string>().size() == 2 * qlog::kMaxHexBytes);
    const std::string r = frames[2]["reason"];
    CHECK(r.size() == qlog::kMaxReasonBytes + qlog::kTruncationMarker.size());
    CHECK(r.substr(qlog::kMaxReasonBytes) == qlog::kTruncationMarker);
    CHECK(frames[3]["reason"].is_string());  // invalid UTF-8 replaced, not thrown
    CHECK(records[1]["data"]["header"]["dcid"].get<std::string>().size() == 40);
    const std::string alpn = records[2]["data"]["chosen_alpn"]["string_value"];
    CHECK(alpn.size() == qlog::kMaxAlpnBytes + qlog::kTruncationMarker.size());
    CHECK(records[3]["data"]["new"].get<std::string>().size() ==
          qlog::kMaxStateNameBytes + qlog::kTruncationMarker.size());
    CHECK(records[5]["data"]["server_versions"].size() == qlog::kMaxVersions);
    CHECK(records[6]["data"]["supported_versions"].size() == qlog::kMaxVersions);
    CHECK(records[7]["data"]["version_information"]["available_versions"].size() ==
          qlog::kMaxVersions);
    CHECK(records[8]["data"]["reason"].get<std::string>().size() ==
          qlog::kMaxReasonBytes + qlog::kTruncationMarker.size());
    CHECK(records[8]["data"]["connection_error"] == "protocol_violation");
    CHECK(records[8]["data"]["initiator"] == "remote");
}

TEST_CASE("qlog writer: I/O failures stop tracing without throwing") {
    SUBCASE("the directory cannot be created") {
        auto t = qlog::make_file_tracer("/proc/no/such/dir", quic::Role::kClient, cid({1}));
        CHECK(t == nullptr);
    }
    SUBCASE("the file cannot be opened: an inert tracer") {
        qlog::QlogTracer t("/nonexistent-dir/x.sqlog", quic::Role::kClient, cid({1}));
        CHECK_FALSE(t.ok());
        CHECK_NOTHROW(drive_every_method(t));
    }
    SUBCASE("writes fail (disk full): tracing stops at the first flush") {
        if (!fs::exists("/dev/full")) return;
        qlog::QlogTracer t("/dev/full", quic::Role::kClient, cid({1}));
        REQUIRE(t.ok());
        CHECK_NOTHROW(drive_every_method(t));  // connection_closed flushes
        CHECK_FALSE(t.ok());
        CHECK_NOTHROW(drive_every_method(t));
    }
}

TEST_CASE("qlog writer: buffered output reaches the file at flush and at destruction") {
    TempDir dir;
    const fs::path file = dir.path / "b.sqlog";
    auto t = std::make_unique<qlog::QlogTracer>(file, quic::Role::kServer, cid({0xab}));
    CHECK(fs::file_size(file) == 0);  // nothing written before an event, or a flush
    t->alpn_information(at_ms(0), "h3");
    CHECK(fs::file_size(file) == 0);  // buffered
    t->flush();
    CHECK(fs::file_size(file) == t->bytes_written());
    // Enough events to pass the buffer size: written without an explicit flush.
    tr::PacketHeaderInfo h;
    h.length = 1200;
    const quic::Frame ping[] = {quic::PingFrame{}};
    for (int i = 0; i < 2000; ++i) t->packet_sent(at_ms(i), h, ping);
    CHECK(fs::file_size(file) >= qlog::kWriteBufferBytes);
    t.reset();
    const std::vector<json> records = parse_json_seq(slurp(file));
    CHECK(records.size() == 2002);
    CHECK(records[0]["trace"]["vantage_point"]["type"] == "server");
    CHECK(qlog::trace_file_name(quic::Role::kServer, cid({0xab})) == "ab_server.sqlog");
    CHECK(qlog::trace_file_name(quic::Role::kClient, quic::ConnectionId()) ==
          "unknown_client.sqlog");
    CHECK(qlog::parse_schema("qvis") == qlog::Schema::kQvis03);
    CHECK(qlog::parse_schema("draft") == qlog::Schema::kDraft);
    CHECK_FALSE(qlog::parse_schema("json").has_value());
}
