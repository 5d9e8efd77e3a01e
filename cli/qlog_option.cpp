#include "qlog_option.h"

#include <cstdlib>

#include "qlog/writer.h"

namespace quiver {

void add_qlog_options(CLI::App* command, QlogOptions& o) {
    command->add_option("--qlog-dir", o.dir,
                        "Write a qlog trace per connection into DIR (default: $QLOGDIR)");
    command
        ->add_option("--qlog-schema", o.schema,
                     "draft (the IETF qlog drafts, default) or 0.3 (what qvis loads)")
        ->check(CLI::IsMember({"draft", "0.3", "qvis"}));
}

std::string apply_qlog_options(const QlogOptions& o, quic::EndpointConfig& config) {
    std::string dir = o.dir;
    if (dir.empty())
        if (const char* env = std::getenv("QLOGDIR")) dir = env;
    if (dir.empty()) return {};
    const auto schema = o.schema == "draft" ? qlog::Schema::kDraft : qlog::Schema::kQvis03;
    config.tracer_factory = [dir, schema](quic::Role role, const quic::ConnectionId& odcid) {
        return qlog::make_file_tracer(dir, role, odcid, schema);
    };
    return {};
}

}  // namespace quiver
