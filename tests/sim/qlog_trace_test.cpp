// qlog end to end (issue "qlog"): real connections in the simulator write .sqlog files through
// qlog::QlogTracer; the files are read back and every record is checked against the draft's
// required fields, and the packet counts against the connections' own counters and the peer's
// trace. A lossy link makes packet_lost and congestion events appear; a key update, key events.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "qlog/reader.h"
#include "qlog/writer.h"
#include "qlog_required_fields.h"
#include "sim/file_transfer.h"

using namespace quic;
using namespace quic::sim;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<json> read_records(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::vector<json> out;
    size_t pos = 0;
    while (pos < text.size()) {
        REQUIRE(text[pos] == '\x1e');  // JSON-SEQ: RS, JSON, LF
        size_t end = text.find('\n', pos);
        REQUIRE(end != std::string::npos);
        out.push_back(json::parse(text.substr(pos + 1, end - pos - 1)));
        pos = end + 1;
    }
    return out;
}

struct PacketKey {
    std::string type;
    uint64_t pn;
    friend bool operator<(const PacketKey& a, const PacketKey& b) {
        return std::tie(a.type, a.pn) < std::tie(b.type, b.pn);
    }
};

}  // namespace

TEST_CASE("qlog: a lossy transfer's traces carry every required field and agree with both ends") {
    const fs::path dir =
        fs::temp_directory_path() / ("quiver-qlog-sim-" + std::to_string(getpid()));
    fs::remove_all(dir);
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    LinkConfig link;
    link.loss = 0.02;
    link.max_burst_loss = 3;
    EndpointConfig sc, cc;
    sc.server_tls = tls->server;
    cc.client_tls = tls->client;
    cc.connection.key_update_interval_packets = 20;
    sc.connection.key_update_interval_packets = 300;
    for (EndpointConfig* c : {&sc, &cc})
        c->tracer_factory = [&](Role role, const ConnectionId& odcid) {
            return qlog::make_file_tracer(dir, role, odcid, qlog::Schema::kDraft);
        };
    Simulation sim(150, link, link);
    Endpoint& server = sim.add_server(sc);
    Endpoint& client = sim.add_client(cc);
    FileTransferServer app_server(server);
    FileTransferClient::Options keep;
    keep.close_when_done = false;
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  {1 << 20}, keep);
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    REQUIRE(sim.run_until([&] { return app_client.finished(); }, 60s).done());
    REQUIRE(app_client.done());
    (void)sim.run_for(500ms);
    const ConnectionStats client_stats = app_client.connection()->stats();
    app_client.connection()->close(sim.now(), 0, "bye");
    (void)sim.run_for(2s);  // both sides close; the tracers flush at connection_closed

    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
    REQUIRE(files.size() == 2);
    std::map<std::string, std::vector<json>> by_role;
    for (const fs::path& f : files) {
        const std::string name = f.filename().string();
        CHECK(name.size() > 20);
        by_role[name.find("_client.sqlog") != std::string::npos ? "client" : "server"] =
            read_records(f);
        // The reader and the summary read what the writer wrote.
        auto traces = qlog::read_file(f);
        REQUIRE(traces.ok());
        REQUIRE(traces->size() == 1);
        CHECK((*traces)[0].bad_records == 0);
    }
    REQUIRE(by_role.count("client"));
    REQUIRE(by_role.count("server"));

    std::set<std::string> events_seen;
    std::map<std::string, std::set<PacketKey>> sent, received, lost;
    std::map<std::string, uint64_t> sent_count;
    for (auto& entry : by_role) {
        // (clang 14 cannot capture structured bindings in doctest's CAPTURE lambdas)
        const std::string role = entry.first;
        std::vector<json>& records = entry.second;
        CAPTURE(role);
        REQUIRE(records.size() > 100);
        CHECK(records[0]["file_schema"] == "urn:ietf:params:qlog:file:sequential");
        for (size_t i = 1; i < records.size(); ++i) {
            const json& e = records[i];
            const std::string name = e.at("name");
            auto req = qlog_test::kRequiredEventFields.find(name);
            REQUIRE_MESSAGE(req != qlog_test::kRequiredEventFields.end(), "unexpected event ",
                            name);
            for (const std::string& f : req->second)
                CHECK_MESSAGE(e["data"].contains(json::json_pointer(f)), name, " lacks ", f);
            events_seen.insert(name);
            if (e["data"].contains("frames"))
                for (const json& fr : e["data"]["frames"]) {
                    auto freq = qlog_test::kRequiredFrameFields.find(fr.at("frame_type"));
                    REQUIRE(freq != qlog_test::kRequiredFrameFields.end());
                    for (const std::string& f : freq->second)
                        CHECK_MESSAGE(fr.contains(json::json_pointer(f)), fr.dump(), " lacks ", f);
                }
            auto key = [&] {
                std::string type = e["data"]["header"]["packet_type"];
                if (type == "0RTT") type = "1RTT";  // one packet number space
                return PacketKey{type, e["data"]["header"]["packet_number"].get<uint64_t>()};
            };
            if (name == "quic:packet_sent") {
                sent[role].insert(key());
                sent_count[role]++;
            } else if (name == "quic:packet_received") {
                received[role].insert(key());
            } else if (name == "quic:packet_lost") {
                lost[role].insert(key());
            }
        }
    }
    // The events a lossy transfer with key updates must produce.
    for (const char* name :
         {"quic:connection_started", "quic:packet_sent", "quic:packet_received",
          "quic:parameters_set", "quic:recovery_metrics_updated", "quic:congestion_state_updated",
          "quic:packet_lost", "quic:key_updated", "quic:key_discarded", "quic:connection_closed",
          "quic:alpn_information", "quic:connection_state_updated"})
        CHECK_MESSAGE(events_seen.count(name) == 1, "never seen: ", name);
    // The trace counts what the connection counts (the client trace ends with its close).
    CHECK(sent_count["client"] >= client_stats.packets_sent);
    // Each packet one side sent was received by the other or declared lost by the sender,
    // except the last few in flight at the close and Initials sent after the peer dropped its
    // Initial keys (RFC 9001 §4.9.1).
    for (const auto& direction : {std::pair{"client", "server"}, std::pair{"server", "client"}}) {
        const std::string from = direction.first, to = direction.second;
        size_t unaccounted = 0;
        for (const PacketKey& p : sent[from])
            if (!received[to].count(p) && !lost[from].count(p) && p.type != "initial")
                ++unaccounted;
        INFO(from << " -> " << to << ": " << unaccounted << " of " << sent[from].size());
        CHECK(unaccounted <= 8);
    }
    fs::remove_all(dir);
}

namespace {

// The lossy transfer above, traced at `level` into `dir`: the records of each side's trace
// ("client", "server"), its size in bytes, and the client connection's counters.
struct TracedTransfer {
    std::map<std::string, std::vector<json>> records;
    std::map<std::string, uint64_t> bytes;
    ConnectionStats client_stats;
};

TracedTransfer traced_transfer(qlog::Level level, const fs::path& dir) {
    fs::remove_all(dir);
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    LinkConfig link;
    link.loss = 0.02;
    link.max_burst_loss = 3;
    EndpointConfig sc, cc;
    sc.server_tls = tls->server;
    cc.client_tls = tls->client;
    cc.connection.key_update_interval_packets = 20;
    sc.connection.key_update_interval_packets = 300;
    for (EndpointConfig* c : {&sc, &cc})
        c->tracer_factory = [&](Role role, const ConnectionId& odcid) {
            return qlog::make_file_tracer(dir, role, odcid, qlog::Schema::kDraft, level);
        };
    Simulation sim(150, link, link);
    Endpoint& server = sim.add_server(sc);
    Endpoint& client = sim.add_client(cc);
    FileTransferServer app_server(server);
    FileTransferClient::Options keep;
    keep.close_when_done = false;
    FileTransferClient app_client(client, sim.client_path(client), ConnectOptions{"server"},
                                  {1 << 20}, keep);
    sim.set_on_step(server, [&](Time t) { app_server.step(t); });
    sim.set_on_step(client, [&](Time t) { app_client.step(t); });
    REQUIRE(sim.run_until([&] { return app_client.finished(); }, 60s).done());
    REQUIRE(app_client.done());
    (void)sim.run_for(500ms);
    TracedTransfer out;
    out.client_stats = app_client.connection()->stats();
    app_client.connection()->close(sim.now(), 0, "bye");
    (void)sim.run_for(2s);
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string role =
            e.path().filename().string().find("_client.sqlog") != std::string::npos ? "client"
                                                                                    : "server";
        out.records[role] = read_records(e.path());
        out.bytes[role] = fs::file_size(e.path());
        auto traces = qlog::read_file(e.path());
        REQUIRE(traces.ok());
        CHECK((*traces)[0].bad_records == 0);
    }
    REQUIRE(out.records.size() == 2);
    fs::remove_all(dir);
    return out;
}

std::string packet_name(const json& e) {
    const std::string name = e.value("name", "");
    return name == "quic:packet_sent" || name == "quic:packet_received" ? name : "";
}

PacketKey packet_key(const json& e) {
    return PacketKey{e["data"]["header"]["packet_type"],
                     e["data"]["header"]["packet_number"].get<uint64_t>()};
}

// What qlog/level.h calls a bulk packet: 1-RTT or 0-RTT, frames all STREAM without FIN or
// PADDING (or also ACK, for a received one).
bool is_bulk(const json& e, bool ack_too) {
    const std::string type = e["data"]["header"]["packet_type"];
    if (type != "1RTT" && type != "0RTT") return false;
    const json& frames = e["data"]["frames"];
    if (frames.empty()) return false;
    for (const json& f : frames) {
        const std::string ft = f["frame_type"];
        const bool bulk = (ft == "stream" && !f.value("fin", false)) || ft == "padding" ||
                          (ack_too && ft == "ack");
        if (!bulk) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("qlog levels: core and extended traces of one transfer keep what they promise") {
    const fs::path dir =
        fs::temp_directory_path() / ("quiver-qlog-levels-" + std::to_string(getpid()));
    const TracedTransfer full = traced_transfer(qlog::Level::kFull, dir);
    const TracedTransfer extended = traced_transfer(qlog::Level::kExtended, dir);
    const TracedTransfer core = traced_transfer(qlog::Level::kCore, dir);
    // The simulator is deterministic: tracing does not change the transfer.
    REQUIRE(core.client_stats.packets_sent == full.client_stats.packets_sent);
    REQUIRE(extended.client_stats.packets_sent == full.client_stats.packets_sent);

    for (const std::string role : {"client", "server"}) {
        CAPTURE(role);
        // In the full trace: every packet with its frames, by key.
        std::map<PacketKey, const json*> full_sent, full_received;
        std::map<std::string, size_t> full_names;
        for (const json& e : full.records.at(role)) {
            full_names[e.value("name", "")]++;
            if (packet_name(e) == "quic:packet_sent") full_sent[packet_key(e)] = &e;
            if (packet_name(e) == "quic:packet_received" &&
                e["data"]["header"].contains("packet_number"))
                full_received[packet_key(e)] = &e;
        }
        REQUIRE(full_sent.size() > 100);

        for (const TracedTransfer* run : {&core, &extended}) {
            const bool is_core = run == &core;
            CAPTURE(is_core);
            const std::vector<json>& records = run->records.at(role);
            std::map<PacketKey, const json*> sent, received;
            std::map<std::string, size_t> names;
            for (size_t i = 1; i < records.size(); ++i) {
                const json& e = records[i];
                const std::string name = e.at("name");
                names[name]++;
                // The draft's required fields, as in every trace.
                auto req = qlog_test::kRequiredEventFields.find(name);
                REQUIRE_MESSAGE(req != qlog_test::kRequiredEventFields.end(), name);
                for (const std::string& f : req->second)
                    CHECK_MESSAGE(e["data"].contains(json::json_pointer(f)), name, " lacks ", f);
                for (const json& fr : e["data"].value("frames", json::array())) {
                    auto freq = qlog_test::kRequiredFrameFields.find(fr.at("frame_type"));
                    REQUIRE(freq != qlog_test::kRequiredFrameFields.end());
                    for (const std::string& f : freq->second)
                        CHECK(fr.contains(json::json_pointer(f)));
                }
                if (packet_name(e) == "quic:packet_sent") sent[packet_key(e)] = &e;
                if (packet_name(e) == "quic:packet_received" &&
                    e["data"]["header"].contains("packet_number"))
                    received[packet_key(e)] = &e;
            }
            // Every packet sent is there, at every level.
            CHECK(sent.size() == full_sent.size());
            for (const auto& [key, e] : full_sent) {
                REQUIRE(sent.count(key) == 1);
                const json& data = sent.at(key)->at("data");
                const bool brief_header = is_core && (key.type == "1RTT");
                CHECK(data["header"].size() == (brief_header ? 2u : (*e)["data"]["header"].size()));
                CHECK(data["raw"] == (*e)["data"]["raw"]);
                // Frames: all of them, except a core bulk packet's.
                if (is_core && is_bulk(*e, false))
                    CHECK_FALSE(data.contains("frames"));
                else
                    CHECK(data["frames"] == (*e)["data"]["frames"]);
            }
            // Packets received: all in extended; in core, all but bulk ones.
            size_t expected_received = 0;
            for (const auto& [key, e] : full_received) {
                const bool kept = !is_core || !is_bulk(*e, true);
                expected_received += kept;
                CHECK(received.count(key) == (kept ? 1u : 0u));
            }
            CHECK(received.size() == expected_received);
            // Extra events only in full; the rest as in full.
            CHECK(names.count("quic:timer_updated") == 0);
            CHECK(names["quic:packet_lost"] == full_names["quic:packet_lost"]);
            CHECK(names["quic:key_updated"] == full_names["quic:key_updated"]);
            CHECK(names["quic:connection_closed"] == 1);
            CHECK(names["quic:recovery_metrics_updated"] > 0);
            CHECK(names["quic:recovery_metrics_updated"] <
                  full_names["quic:recovery_metrics_updated"]);
        }
        CHECK(core.bytes.at(role) < extended.bytes.at(role));
        CHECK(extended.bytes.at(role) < full.bytes.at(role));
    }

    // The core trace of the receiver leaves out the data packets it got, but its own ACK
    // frames say which arrived: each server packet the client received (in the full trace)
    // is acknowledged in a client ACK frame of the core trace, but for the few last ones
    // (RFC 9000 §13.2: ACKs are not sent for every packet).
    std::set<PacketKey> acked;
    for (const json& e : core.records.at("client")) {
        if (packet_name(e) != "quic:packet_sent" || !e["data"].contains("frames")) continue;
        const std::string type = e["data"]["header"]["packet_type"];
        for (const json& f : e["data"]["frames"]) {
            if (f["frame_type"] != "ack") continue;
            for (const json& r : f["acked_ranges"]) {
                const uint64_t lo = r[0], hi = r.size() > 1 ? r[1].get<uint64_t>() : lo;
                for (uint64_t pn = lo; pn <= hi; ++pn) acked.insert(PacketKey{type, pn});
            }
        }
    }
    size_t unacknowledged = 0, server_sent_received = 0;
    for (const json& e : full.records.at("client")) {
        if (packet_name(e) != "quic:packet_received" ||
            !e["data"]["header"].contains("packet_number"))
            continue;
        PacketKey key = packet_key(e);
        if (key.type == "0RTT") key.type = "1RTT";
        ++server_sent_received;
        unacknowledged += acked.count(key) == 0;
    }
    INFO(unacknowledged << " of " << server_sent_received);
    CHECK(server_sent_received > 100);
    CHECK(unacknowledged <= 8);
}
