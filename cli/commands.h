// The command table: each command registers its options and a run function.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace quiver {

struct Command {
    CLI::App* app;
    std::function<int()> run;
};
using CommandTable = std::vector<Command>;

CommandTable register_commands(CLI::App& app);
int run_selected(const CommandTable& commands);

// One file per command.
Command register_client(CLI::App& app);
Command register_server(CLI::App& app);
Command register_perf(CLI::App& app);
Command register_replay(CLI::App& app);

}  // namespace quiver
