// The state behind quic::uv::Connection (quic/uv/connection.h): one core connection, its
// streams' handles, the application's callbacks, and the dial or accept it is part of. It
// turns the core's events (quic/events.h) into those callbacks. Internal to the uv layer.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quic/connection.h"
#include "quic/uv/connection.h"
#include "quic/uv/transport.h"
#include "uv/timer.h"

namespace quic::uv {

// A close as the public API reports it: the core's origin becomes the error's kind.
Error api_error(const ConnectionClosed& closed);

class ConnectionDriver {
  public:
    ConnectionDriver(Transport::Impl& transport, std::shared_ptr<quic::Connection> core,
                     bool server, std::string session_key);
    ~ConnectionDriver();

    // The public handle over a driver, and back.
    static std::shared_ptr<Connection> make(std::unique_ptr<ConnectionDriver> driver);
    static ConnectionDriver& of(Connection& c) { return *c.driver_; }

    // Drains the core's events into callbacks (or hands the wakeup to take_events' handler).
    void dispatch(Time now);
    // The transport goes away: every call fails with kClosed from now on.
    void detach();
    bool attached() const { return transport_ != nullptr; }
    quic::Connection& core() { return *core_; }
    const quic::Connection& core() const { return *core_; }
    Transport::Impl* transport() { return transport_; }
    void wake();
    // Closes with `why` as the reported reason (ICMP unreachable, a dial deadline).
    void fail(const Error& why);

    Connection* self = nullptr;
    std::weak_ptr<Connection> weak_self;

    // Dial: called once the handshake completes or the connection fails.
    Transport::DialCallback dial_done;
    std::unique_ptr<Timer> dial_timer;
    // Server: hand to the listener once the handshake completes.
    bool awaiting_accept = false;
    bool server;
    // Listed in Transport::Impl::dirty: dispatched at the next wakeup.
    bool dirty = false;

    // Callbacks (quic/uv/connection.h).
    Connection::StreamCallback on_stream, on_uni_stream;
    std::function<void(ByteSpan)> on_datagram;
    std::function<void()> on_handshake_completed;
    std::function<void(const Error&)> on_closed;
    std::function<void(Time)> manual;  // take_events

    std::optional<Error> close_error;

    // Streams.
    std::shared_ptr<Stream> make_stream(uint64_t id, bool local);
    void open_when_allowed(bool bidi, Connection::OpenCallback cb, Duration timeout);
    void deliver_unaccepted();
    void forget_stream(uint64_t id);
    // Stream::on_readable was set after data arrived: call it if the stream still waits.
    void notify_pending_readable(uint64_t id);

  private:
    void observe(const ConnectionEvent& ev);
    void route(const ConnectionEvent& ev);
    void on_handshake();
    void on_close(const ConnectionClosed& c);
    void release_callbacks(const std::map<uint64_t, std::shared_ptr<Stream>>& streams);
    void retry_opens(bool bidi);
    std::shared_ptr<Stream> find(uint64_t id);

    Transport::Impl* transport_;
    std::shared_ptr<quic::Connection> core_;
    std::string session_key_;
    std::map<uint64_t, std::shared_ptr<Stream>> streams_;
    // [bidi, uni] opened by the peer, not yet handed out. Vectors: an empty deque allocates
    // about 600 bytes, and most connections never queue a stream here (scripts/load, idle).
    std::vector<std::shared_ptr<Stream>> unaccepted_[2];
    struct OpenWait {
        bool bidi;
        Connection::OpenCallback cb;
        std::unique_ptr<Timer> timer;
    };
    // A vector, not a deque: libstdc++'s deque holds a block even while empty, and nearly every
    // connection has no waiter (memory per idle connection, issue 14).
    std::vector<std::unique_ptr<OpenWait>> open_waits_;
    std::optional<Error> forced_error_;  // fail(): reported instead of the core's reason
    bool handshake_seen_ = false;
};

}  // namespace quic::uv
