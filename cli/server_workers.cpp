#include "server_workers.h"

#include <uv.h>

#include <thread>
#include <utility>

#include "uv_handles.h"

namespace quiver {

// Declared in this order so that the loop outlives the handles the others own.
struct ServerWorkers::Worker {
    Loop loop;
    std::unique_ptr<quic::uv::Transport> transport;
    std::shared_ptr<quic::uv::Listener> listener;
    std::unique_ptr<ConnectionService> service;
    uv_async_t* stop = nullptr;  // another thread asks this worker to close
    std::function<void()> on_stop;
    std::thread thread;
    uint64_t connections = 0;

    // Closes the service and the transport; the loop stops once the closes are sent.
    void close() {
        service->close();
        transport->close(0, "server shutting down", [this] { uv_stop(loop.get()); });
        close_handle(std::exchange(stop, nullptr));
    }
};

quic::Result<std::unique_ptr<ServerWorkers>> ServerWorkers::create(
    const quic::SocketAddress& listen, const quic::uv::TransportConfig& config, unsigned count,
    const ServiceFactory& make_service) {
    std::unique_ptr<ServerWorkers> group(new ServerWorkers);
    quic::SocketAddress address = listen;
    for (unsigned i = 0; i < count; ++i) {
        auto w = std::make_unique<Worker>();
        quic::uv::TransportConfig wc = config;
        wc.workers = quic::uv::WorkerGroup{i, count};
        auto t = quic::uv::Transport::create(w->loop.get(), address, std::move(wc));
        if (!t.ok()) return t.error();
        w->transport = std::move(t).value();
        // Port 0: the others join the port worker 0 got.
        address = w->transport->local_address();
        auto l = w->transport->listen();
        if (!l.ok()) return l.error();
        w->listener = std::move(l).value();
        w->service = make_service(i);
        Worker* wp = w.get();
        w->listener->on_connection([wp](std::shared_ptr<quic::uv::Connection> c) {
            ++wp->connections;
            wp->service->serve(c);
        });
        if (i > 0) {
            w->stop = new_handle<uv_async_t>();
            w->on_stop = [wp] { wp->close(); };
            uv_async_init(w->loop.get(), w->stop,
                          [](uv_async_t* h) { (*static_cast<std::function<void()>*>(h->data))(); });
            w->stop->data = &w->on_stop;
        }
        group->workers_.push_back(std::move(w));
    }
    return group;
}

ServerWorkers::~ServerWorkers() {
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
    // Each worker's transport, then its loop, on this thread: their loops no longer run.
}

quic::uv::Transport& ServerWorkers::transport(unsigned i) {
    return *workers_.at(i)->transport;
}

uint64_t ServerWorkers::connections(unsigned i) const {
    return workers_.at(i)->connections;
}

void ServerWorkers::run(std::FILE* log) {
    for (size_t i = 1; i < workers_.size(); ++i) {
        Worker* w = workers_[i].get();
        w->thread = std::thread([w] { uv_run(w->loop.get(), UV_RUN_DEFAULT); });
    }
    Worker& first = *workers_[0];
    bool shutting_down = false;
    SignalWatch signals(first.loop.get(), [&] {
        if (std::exchange(shutting_down, true)) return;
        if (log) std::fprintf(log, "quiver server: shutting down\n");
        for (size_t i = 1; i < workers_.size(); ++i) uv_async_send(workers_[i]->stop);
        first.close();
    });
    uv_run(first.loop.get(), UV_RUN_DEFAULT);
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
}

}  // namespace quiver
