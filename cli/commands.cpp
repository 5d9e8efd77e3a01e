#include "commands.h"

#include <cstdio>

#include "qlog_command.h"

namespace quiver {
namespace {

// A command whose implementation has not landed yet: it has --help, and says so when run.
Command not_built_yet(CLI::App& app, const char* name, const char* description) {
    CLI::App* sub = app.add_subcommand(name, description);
    return Command{sub, [name] {
                       std::fprintf(stderr, "quiver %s: not built yet in this version\n", name);
                       return 2;
                   }};
}

}  // namespace

CommandTable register_commands(CLI::App& app) {
    CommandTable t;
    t.push_back(register_client(app));
    t.push_back(register_server(app));
    t.push_back(register_qlog(app));
    t.push_back(register_perf(app));
    t.push_back(register_replay(app));
    return t;
}

int run_selected(const CommandTable& commands) {
    for (const Command& c : commands)
        if (c.app->parsed()) return c.run();
    return 2;
}

}  // namespace quiver
