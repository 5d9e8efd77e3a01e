// Runs a sans-IO Endpoint on a libuv loop (docs/architecture.md, "The I/O layer"): a uv_poll_t
// watches the UdpSocket, one uv_timer_t is armed at endpoint.next_timeout(). Every wakeup does the
// same three steps: feed the endpoint (datagrams or on_timeout), let the application look at its
// connections (on_activity), then flush what the endpoint wants to send, in GSO batches.
// No QUIC logic here: the endpoint decides what and when, the driver only moves bytes.
#pragma once

#include <uv.h>

#include <functional>
#include <vector>

#include "quic/endpoint.h"
#include "quic/time.h"
#include "quic/uv/clock.h"
#include "uv/udp_socket.h"

namespace quic::uv {

class Driver {
  public:
    // `socket` and `endpoint` must outlive the driver. Starts watching the socket at once.
    Driver(uv_loop_t* loop, UdpSocket& socket, Endpoint& endpoint);
    // Another socket feeding the same endpoint (a server's preferred address, a client's new
    // local address for migration); must outlive the driver. Each datagram leaves from the
    // socket whose address is its path's local address (the first socket when none is).
    void add_socket(UdpSocket& socket);
    ~Driver();
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    // Called after every batch of input (datagrams, timeouts), before the flush: the place to
    // poll connection events and accept connections.
    std::function<void(Time now)> on_activity;
    // A socket failure other than "would block" (the driver keeps going).
    std::function<void(const Error&)> on_error;
    // An ICMP error for a datagram we sent (the socket's error queue), before on_activity.
    std::function<void(const UdpSocket::IcmpError&)> on_icmp_error;

    // The application wrote to streams, connected or closed: flush and re-arm the timer now
    // (or right after on_activity returns, when called from inside it).
    void wake();
    // True when every datagram the endpoint produced has been handed to the kernel.
    bool drained() const { return head_ == queue_.size(); }
    // Stops watching; the handles are released once the loop runs their close callbacks (run
    // the loop after close(), as libuv requires). Idempotent; the destructor calls it.
    void close();

    UdpSocket& socket() { return *sockets_.front(); }

  private:
    struct Handles;
    struct Watch;
    static void on_poll(uv_poll_t* h, int status, int events);
    static void on_timer(uv_timer_t* h);
    void on_socket_event(size_t index, int status, int events);
    bool receive(Time now, size_t index);
    void drain_errors(size_t index);
    size_t socket_for(const SocketAddress& local) const;
    void after_input(Time now);
    void flush();
    void fill(Time now);
    void rearm();
    void watch(size_t index, bool writable);
    void report(const Error& e);
    // Returns freed heap memory to the system after the connection count fell a lot.
    void give_back_memory();

    uv_loop_t* loop_;
    std::vector<UdpSocket*> sockets_;  // the first is the transport's own
    Endpoint& endpoint_;
    Handles* handles_ = nullptr;   // freed by the last close callback
    std::vector<Watch*> watches_;  // one per socket, each freed by its close callback
    bool in_activity_ = false;
    bool writable_wanted_ = false;  // a socket would block: wait until it drains
    // Datagrams polled from the endpoint and not yet accepted by the kernel; they point into
    // out_buffer_, which is refilled only once they are all gone. queue_socket_ holds each
    // one's socket (an index into sockets_).
    std::vector<uint8_t> out_buffer_;
    std::vector<OutDatagram> queue_;
    std::vector<size_t> queue_socket_;
    size_t head_ = 0;
    size_t peak_connections_ = 0;  // since the last give_back_memory() trim
    bool trimming_ = false;        // a large peak is draining: trim at each fourfold drop
};

}  // namespace quic::uv
