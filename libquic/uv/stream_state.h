// The state behind quic::uv::Stream (quic/uv/stream.h): the stream's ID, the application's
// callbacks, what each side learned (FIN read, errors), write_all's backlog and the
// deadlines. Internal to the uv layer.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "quic/bytes.h"
#include "quic/result.h"
#include "quic/uv/stream.h"
#include "uv/timer.h"

namespace quic::uv {

class ConnectionDriver;

class StreamState {
  public:
    StreamState(std::weak_ptr<Connection> conn, ConnectionDriver& driver, uint64_t id, bool local,
                bool readable, bool writable);

    // From the connection's events.
    void notify_readable();
    void notify_writable();
    void on_reset_received(uint64_t code);
    void on_stop_sending(uint64_t code);
    void on_connection_closed(const Error& why);
    // Both sides are over: the connection may forget the stream.
    bool done() const;

    // The connection's driver, or null once the connection is gone.
    ConnectionDriver* driver() const;
    void pump_backlog();
    void finish_backlog(Status outcome);
    void arm_deadline(bool read_side);

    Stream* self = nullptr;
    std::weak_ptr<Connection> conn;
    ConnectionDriver* drv;
    uint64_t id;
    bool local, can_read, can_write;

    Stream::Callback on_readable, on_writable;
    bool readable_pending = false;  // an event came while no callback was set
    bool fin_read = false, write_ended = false;
    std::optional<Error> read_error, write_error;

    // write_all: bytes not yet taken by the connection.
    Bytes backlog;
    size_t backlog_offset = 0;
    bool backlog_active = false, backlog_fin = false;
    std::function<void(Status)> backlog_done;

    std::optional<Time> read_deadline, write_deadline;
    std::unique_ptr<Timer> read_timer, write_timer;
    bool read_expired = false, write_expired = false;
};

}  // namespace quic::uv
