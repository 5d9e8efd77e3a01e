// --qlog-dir / QLOGDIR and --qlog-schema, shared by every command that opens connections.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "quic/endpoint.h"

namespace quiver {

struct QlogOptions {
    std::string dir;  // empty: $QLOGDIR, else no traces
    std::string schema = "draft";
};

void add_qlog_options(CLI::App* command, QlogOptions& options);

// Installs a qlog file tracer for every connection of the endpoint when a directory is given
// (option or QLOGDIR). Returns an error text, empty on success.
std::string apply_qlog_options(const QlogOptions& options, quic::EndpointConfig& config);

}  // namespace quiver
