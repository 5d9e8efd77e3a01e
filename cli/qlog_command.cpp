// `quiver qlog`: look at qlog traces without a browser.
//   quiver qlog summary FILE...      one row per connection (ours, ngtcp2's, quic-go's files)
//   quiver qlog plot FILE -o OUT.svg congestion window, bytes in flight, RTT, stream data
#include "qlog_command.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "qlog/plot.h"
#include "qlog/reader.h"
#include "qlog/summary.h"

namespace quiver {
namespace {

struct QlogOptions {
    std::vector<std::string> files;
    bool json = false;
    std::string plot_file;
    std::string output;
    size_t trace_index = 0;
};

int run_summary(const QlogOptions& o) {
    std::vector<qlog::ConnectionSummary> rows;
    int status = 0;
    for (const std::string& f : o.files) {
        auto traces = qlog::read_file(f);
        if (!traces.ok()) {
            std::fprintf(stderr, "quiver qlog: %s\n", traces.error().reason.c_str());
            status = 1;
            continue;
        }
        for (const qlog::Trace& t : *traces) {
            rows.push_back(qlog::summarize(t));
            if (t.bad_records > 0)
                std::fprintf(stderr, "quiver qlog: %s: %zu records did not parse\n", f.c_str(),
                             t.bad_records);
        }
    }
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : rows) out.push_back(qlog::to_json(r));
        std::printf("%s\n",
                    out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else if (!rows.empty()) {
        std::fputs(qlog::format_summary_table(rows).c_str(), stdout);
    }
    return status;
}

int run_plot(const QlogOptions& o) {
    auto traces = qlog::read_file(o.plot_file);
    if (!traces.ok()) {
        std::fprintf(stderr, "quiver qlog: %s\n", traces.error().reason.c_str());
        return 1;
    }
    if (o.trace_index >= traces->size()) {
        std::fprintf(stderr, "quiver qlog: %s has %zu traces\n", o.plot_file.c_str(),
                     traces->size());
        return 2;
    }
    const std::string svg = qlog::render_svg((*traces)[o.trace_index]);
    std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
    out << svg;
    out.close();
    if (!out) {
        std::fprintf(stderr, "quiver qlog: cannot write %s\n", o.output.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

Command register_qlog(CLI::App& app) {
    auto o = std::make_shared<QlogOptions>();
    CLI::App* sub = app.add_subcommand(
        "qlog", "Summarise and plot qlog traces (quiver's, ngtcp2's, quic-go's; .sqlog and .qlog)");
    sub->require_subcommand(1);
    CLI::App* summary = sub->add_subcommand("summary", "One table row per connection");
    summary->add_option("files", o->files, "qlog files (.sqlog JSON-SEQ, .qlog JSON or NDJSON)")
        ->required()
        ->check(CLI::ExistingFile);
    summary->add_flag("--json", o->json, "Print the rows as a JSON array instead of a table");
    CLI::App* plot = sub->add_subcommand(
        "plot", "Congestion window, bytes in flight, RTT and stream data over time, as SVG");
    plot->add_option("file", o->plot_file, "qlog file")->required()->check(CLI::ExistingFile);
    plot->add_option("-o,--output", o->output, "SVG file to write")->required();
    plot->add_option("--trace", o->trace_index,
                     "Which trace of a multi-trace .qlog file (default 0)");
    return Command{sub, [o, summary] {
                       if (summary->parsed()) return run_summary(*o);
                       return run_plot(*o);
                   }};
}

}  // namespace quiver
