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
