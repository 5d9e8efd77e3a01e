#include "commands.h"

#include "qlog_command.h"

namespace quiver {
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
