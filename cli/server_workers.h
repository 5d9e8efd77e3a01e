// The event loops of a server command: one per worker (`--workers N`), each with its own
// transport on the shared address (quic/uv/transport.h, WorkerGroup: SO_REUSEPORT and
// connection-ID steering) and its own thread. Worker 0 runs on the command's thread, which
// also takes SIGINT/SIGTERM and then closes every worker.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "quic/address.h"
#include "quic/result.h"
#include "quic/uv/transport.h"

namespace quiver {

// What a server does with its connections (files for `quiver server`).
class ConnectionService {
  public:
    virtual ~ConnectionService() = default;
    virtual void serve(const std::shared_ptr<quic::uv::Connection>& c) = 0;
    // Shutting down: close the protocol's sessions (the transport closes the rest).
    virtual void close() = 0;
};

class ServerWorkers {
  public:
    using ServiceFactory = std::function<std::unique_ptr<ConnectionService>(unsigned worker)>;

    // Binds `count` transports on `listen`, in worker order, each listening with its own
    // service. The first failure is returned.
    static quic::Result<std::unique_ptr<ServerWorkers>> create(
        const quic::SocketAddress& listen, const quic::uv::TransportConfig& config, unsigned count,
        const ServiceFactory& make_service);
    ~ServerWorkers();
    ServerWorkers(const ServerWorkers&) = delete;
    ServerWorkers& operator=(const ServerWorkers&) = delete;

    unsigned size() const { return static_cast<unsigned>(workers_.size()); }
    quic::uv::Transport& transport(unsigned i);
    // Connections worker i was handed.
    uint64_t connections(unsigned i) const;

    // Runs every worker until SIGINT/SIGTERM has closed them all (`log`: say so).
    void run(std::FILE* log);

  private:
    struct Worker;
    ServerWorkers() = default;
    std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace quiver
