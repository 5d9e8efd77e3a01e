// quiver perf: the QUIC performance protocol (draft-banks-quic-performance-00) and an
// HTTP/3 load generator: `perf server`, `perf client`, `perf h3`.
#include <functional>
#include <memory>
#include <vector>

#include "commands.h"

namespace quiver {

std::function<int()> register_perf_server(CLI::App* perf);
std::function<int()> register_perf_client(CLI::App* perf);
std::function<int()> register_perf_h3(CLI::App* perf);

Command register_perf(CLI::App& app) {
    CLI::App* perf = app.add_subcommand(
        "perf", "Benchmark: the QUIC perf protocol (server, client) and HTTP/3 load (h3)");
    perf->require_subcommand(1);
    auto runs = std::make_shared<std::vector<std::pair<CLI::App*, std::function<int()>>>>();
    runs->push_back({nullptr, register_perf_server(perf)});
    runs->push_back({nullptr, register_perf_client(perf)});
    runs->push_back({nullptr, register_perf_h3(perf)});
    const char* names[] = {"server", "client", "h3"};
    for (size_t i = 0; i < runs->size(); ++i) (*runs)[i].first = perf->get_subcommand(names[i]);
    return Command{perf, [runs] {
                       for (const auto& [sub, run] : *runs)
                           if (sub->parsed()) return run();
                       return 2;
                   }};
}

}  // namespace quiver
