// The qlog writer thread (qlog/trace_writer.h) behind real tracers: it writes the same
// records as a direct write, drains its queue when closed, never makes a tracer wait when
// the "disk" does not move (a FIFO nobody reads yet), drops whole buffers then and says in
// the trace how many events were lost, and reports files it cannot create.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "qlog/limits.h"
#include "qlog/trace_writer.h"
#include "qlog/writer.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using quic::Time;
namespace tr = quic::trace;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "qlog_tw_test_XXXXXX").string();
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

// RFC 7464: 0x1E, one JSON object, 0x0A, again and again; every record must parse.
std::vector<json> parse_json_seq(const std::string& text) {
    std::vector<json> out;
    size_t pos = 0;
    while (pos < text.size()) {
        REQUIRE(text[pos] == '\x1e');
        const size_t end = text.find('\n', pos);
        REQUIRE(end != std::string::npos);
        json j = json::parse(text.substr(pos + 1, end - pos - 1), nullptr, false);
        REQUIRE_MESSAGE(!j.is_discarded(), text.substr(pos, 200));
        out.push_back(std::move(j));
        pos = end + 1;
    }
    return out;
}

Time at_ms(double ms) {
    return quic::time_from_ns(1'000'000'000 + static_cast<int64_t>(ms * 1e6));
}

quic::ConnectionId cid(std::initializer_list<uint8_t> b) {
    std::vector<uint8_t> v(b);
    return quic::ConnectionId(v);
}

// `n` packets sent, each one event at every level: a 1-RTT packet with an ACK and STREAM
// data (not a bulk packet: logged with its frames at every level).
void send_packets(tr::Tracer& t, uint64_t n) {
    const std::vector<uint8_t> data(1000, 'x');
    quic::AckFrame ack;
    ack.ranges = {{0, 5}};
    ack.largest_acknowledged = 5;
    const quic::Frame frames[] = {ack, quic::StreamFrame{0, 0, data, false, true}};
    tr::PacketHeaderInfo h;
    h.type = quic::PacketType::kOneRtt;
    h.length = 1200;
    h.dcid = cid({1, 2, 3, 4});
    for (uint64_t i = 0; i < n; ++i) {
        h.packet_number = i;
        t.packet_sent(at_ms(static_cast<double>(i) / 100), h, frames);
    }
}

size_t count_named(const std::vector<json>& records, const std::string& name) {
    size_t n = 0;
    for (const json& r : records) n += r.value("name", "") == name;
    return n;
}

}  // namespace

TEST_CASE("qlog writer thread: the same records as a direct write, all there after close") {
    TempDir dir;
    const auto odcid = cid({0xaa, 0xbb});
    for (qlog::Level level : {qlog::Level::kCore, qlog::Level::kFull}) {
        CAPTURE(qlog::level_name(level));
        const fs::path direct_dir = dir.path / "direct", queued_dir = dir.path / "queued";
        fs::create_directories(direct_dir);
        fs::create_directories(queued_dir);
        {
            qlog::TraceWriter writer;
            auto queued = qlog::make_file_tracer(writer, queued_dir, quic::Role::kServer, odcid,
                                                 qlog::Schema::kDraft, level);
            auto direct = qlog::make_file_tracer(direct_dir, quic::Role::kServer, odcid,
                                                 qlog::Schema::kDraft, level);
            REQUIRE(queued);
            REQUIRE(direct);
            send_packets(*queued, 5000);  // ~2 MB: dozens of buffers through the queue
            send_packets(*direct, 5000);
            queued.reset();  // the last buffer and the close go to the thread
            direct.reset();
            writer.close();  // drains the queue
            const qlog::TraceWriter::Stats s = writer.stats();
            CHECK(s.buffers_refused == 0);
            CHECK(s.files_failed == 0);
            CHECK(s.buffers_written > 10);
        }
        const std::string name = qlog::trace_file_name(quic::Role::kServer, odcid);
        const auto d = parse_json_seq(slurp(direct_dir / name));
        const auto q = parse_json_seq(slurp(queued_dir / name));
        REQUIRE(d.size() == 5001);
        REQUIRE(q.size() == d.size());
        // The header's wall-clock time differs; every event is the same.
        CHECK(q[0]["trace"]["description"] == d[0]["trace"]["description"]);
        for (size_t i = 1; i < d.size(); ++i) REQUIRE(q[i] == d[i]);
    }
}

TEST_CASE("qlog writer thread: a disk that does not move costs events, never a wait") {
    TempDir dir;
    // A FIFO with no reader: the writer thread blocks opening it, as on a stalled disk, and
    // the queue fills. Every tracer call must still return at once.
    const fs::path fifo = dir.path / "stalled.sqlog";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    constexpr size_t kCap = 256 * 1024;
    constexpr uint64_t kEvents = 20'000;  // ~7 MB of records against a 256 KiB queue
    qlog::TraceWriter writer(kCap);
    std::string read_back;
    {
        auto tracer =
            std::make_shared<qlog::QlogTracer>(writer.open(fifo), quic::Role::kClient, cid({7}),
                                               qlog::Schema::kDraft, qlog::Level::kFull);
        send_packets(*tracer, kEvents);
        CHECK(tracer->ok());
        CHECK(tracer->events_dropped() > 0);
        CHECK(tracer->events_dropped() < kEvents);
        CHECK(writer.stats().buffers_refused > 0);
        // The disk comes back: a reader drains the FIFO while the tracer finishes.
        std::thread reader([&] {
            std::ifstream in(fifo, std::ios::binary);
            read_back.assign(std::istreambuf_iterator<char>(in), {});
        });
        tracer.reset();
        writer.close();
        reader.join();
    }
    const auto records = parse_json_seq(read_back);
    REQUIRE(records.size() >= 3);
    CHECK(records[0].contains("file_schema"));  // the header first, even after drops
    const size_t events_in_file = count_named(records, "quic:packet_sent");
    uint64_t dropped = 0;  // the notices carry a running total
    for (const json& r : records)
        if (r.value("name", "") == "loglevel:warning")
            dropped = std::max(dropped, r["data"]["dropped_events"].get<uint64_t>());
    CHECK(dropped > 0);
    // Every event is either in the file or counted as dropped.
    CHECK(events_in_file + dropped == kEvents);
    // Reading what was kept: the buffers that fitted, in order.
    uint64_t last_pn = 0;
    for (const json& r : records)
        if (r.value("name", "") == "quic:packet_sent") {
            const uint64_t pn = r["data"]["header"]["packet_number"];
            CHECK(pn >= last_pn);
            last_pn = pn;
        }
}

TEST_CASE("qlog writer thread: a queue with no room keeps only the header and the count") {
    TempDir dir;
    qlog::TraceWriter writer(0);  // refuses every buffer; the last one is always taken
    {
        auto tracer = qlog::make_file_tracer(writer, dir.path, quic::Role::kServer, cid({1}),
                                             qlog::Schema::kQvis03, qlog::Level::kFull);
        REQUIRE(tracer);
        send_packets(*tracer, 1000);
    }
    writer.close();
    const auto records =
        parse_json_seq(slurp(dir.path / qlog::trace_file_name(quic::Role::kServer, cid({1}))));
    REQUIRE(records.size() == 2);
    CHECK(records[0]["qlog_version"] == "0.3");
    CHECK(records[1]["name"] == "generic:warning");
    CHECK(records[1]["data"]["dropped_events"] == 1000);
}

TEST_CASE("qlog writer thread: a file it cannot create stops that trace, not the others") {
    TempDir dir;
    qlog::TraceWriter writer;
    auto bad = qlog::make_file_tracer(writer, dir.path / "no" / "such" / "dir", quic::Role::kClient,
                                      cid({1}), qlog::Schema::kDraft, qlog::Level::kFull);
    auto good = qlog::make_file_tracer(writer, dir.path, quic::Role::kClient, cid({2}),
                                       qlog::Schema::kDraft, qlog::Level::kFull);
    REQUIRE(bad);  // nothing is opened on this thread: the failure shows later
    REQUIRE(good);
    auto* bad_tracer = static_cast<qlog::QlogTracer*>(bad.get());
    send_packets(*bad, 10);
    bad_tracer->flush();  // the thread tries to create the file, and cannot
    writer.wait_idle();
    REQUIRE(writer.stats().files_failed == 1);
    send_packets(*bad, 10);
    bad_tracer->flush();  // refused: tracing stops for this connection
    CHECK_FALSE(bad_tracer->ok());
    CHECK_NOTHROW(send_packets(*bad, 10));
    send_packets(*good, 10);
    bad.reset();
    good.reset();
    writer.close();
    CHECK(parse_json_seq(slurp(dir.path / "02_client.sqlog")).size() == 11);
}
