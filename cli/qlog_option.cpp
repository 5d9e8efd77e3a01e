#include "qlog_option.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "qlog/level.h"
#include "qlog/writer.h"

namespace quiver {

void add_qlog_options(CLI::App* command, QlogOptions& o) {
    command->add_option("--qlog-dir", o.dir,
                        "Write a qlog trace per connection into DIR (default: $QLOGDIR)");
    command
        ->add_option("--qlog-schema", o.schema,
                     "draft (the IETF qlog drafts, default) or 0.3 (what qvis loads)")
        ->check(CLI::IsMember({"draft", "0.3", "qvis"}));
    command
        ->add_option("--qlog-level", o.level,
                     "How much to trace. core (default): the connection's events and every "
                     "packet sent, but packets carrying only stream data without their frames "
                     "and received ones of that kind (and ACK-only ones) left out; recovery "
                     "metrics when RTT, cwnd or pacing change. extended: every packet, sent "
                     "and received, with its frames; HTTP/3 DATA frames. full: also every "
                     "bytes_in_flight change and timer update")
        ->check(CLI::IsMember({"core", "extended", "full"}));
}

QlogSession::~QlogSession() {
    if (!writer_) return;
    writer_->close();
    const qlog::TraceWriter::Stats s = writer_->stats();
    if (s.buffers_refused > 0)
        std::fprintf(stderr,
                     "quiver: qlog: the disk fell behind; %llu buffers of events were dropped "
                     "(each trace says how many of its events)\n",
                     static_cast<unsigned long long>(s.buffers_refused));
    if (s.files_failed > 0)
        std::fprintf(stderr, "quiver: qlog: %llu trace files could not be written\n",
                     static_cast<unsigned long long>(s.files_failed));
}

std::string apply_qlog_options(const QlogOptions& o, quic::EndpointConfig& config,
                               QlogSession& session) {
    std::string dir = o.dir;
    if (dir.empty())
        if (const char* env = std::getenv("QLOGDIR")) dir = env;
    if (dir.empty()) return {};
    const auto schema = o.schema == "draft" ? qlog::Schema::kDraft : qlog::Schema::kQvis03;
    const auto level = qlog::parse_level(o.level);
    if (!level) return "bad --qlog-level " + o.level + " (core, extended or full)";
    // Once, before the event loop: the writer thread only creates files in it.
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create the qlog directory " + dir + ": " + ec.message();
    session.writer_ = std::make_shared<qlog::TraceWriter>();
    config.tracer_factory = [writer = session.writer_, dir, schema, level = *level](
                                quic::Role role, const quic::ConnectionId& odcid) {
        return qlog::make_file_tracer(*writer, dir, role, odcid, schema, level);
    };
    return {};
}

}  // namespace quiver
