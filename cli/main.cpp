// quiver: a command-line toolkit for QUIC testing and interop.
//
// One file per command; this one only builds the command tree and dispatches. Command-line
// mistakes give one line on stderr and a non-zero exit (exit code 2), as docs/architecture.md says.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "commands.h"

int main(int argc, char** argv) {
    CLI::App app{"quiver: QUIC testing and interop toolkit (client, server, perf, replay)",
                 "quiver"};
    app.set_version_flag("-V,--version", std::string("quiver ") + QUIVER_VERSION);
    app.require_subcommand(1);
    app.footer(
        "Exit codes: 0 success, 1 failure, 2 usage error or command not built yet.\n"
        "Run 'quiver COMMAND --help' for a command's options.");

    quiver::CommandTable commands = quiver::register_commands(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "quiver: error: %s (see 'quiver --help')\n", e.what());
        return 2;
    }
    return quiver::run_selected(commands);
}
