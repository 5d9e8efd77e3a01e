// --qlog-dir / QLOGDIR, --qlog-schema and --qlog-level, shared by every command that opens
// connections.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "qlog/trace_writer.h"
#include "quic/endpoint.h"

namespace quiver {

struct QlogOptions {
    std::string dir;  // empty: $QLOGDIR, else no traces
    std::string schema = "draft";
    std::string level = "core";
};

void add_qlog_options(CLI::App* command, QlogOptions& options);

// The qlog writer thread of one command run (qlog/trace_writer.h): started by
// apply_qlog_options when traces are asked for, and owned by the command. Declare it before
// the endpoint: its destruction, after the endpoint's, writes what is still queued, joins the
// thread, and says on stderr if events were dropped because the disk fell behind.
class QlogSession {
  public:
    QlogSession() = default;
    ~QlogSession();
    QlogSession(const QlogSession&) = delete;
    QlogSession& operator=(const QlogSession&) = delete;

    bool active() const { return writer_ != nullptr; }

  private:
    friend std::string apply_qlog_options(const QlogOptions&, quic::EndpointConfig&, QlogSession&);
    std::shared_ptr<qlog::TraceWriter> writer_;
};

// Installs a qlog tracer for every connection of the endpoint when a directory is given
// (option or QLOGDIR): creates the directory and starts `session`'s writer thread. Returns an
// error text, empty on success.
std::string apply_qlog_options(const QlogOptions& options, quic::EndpointConfig& config,
                               QlogSession& session);

}  // namespace quiver
