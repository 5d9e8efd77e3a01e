// The state behind quic::uv::Transport (quic/uv/transport.h): the socket, the endpoint, the
// driver that moves datagrams between them, the listener's state and the connections the
// transport hands out. Internal to the uv layer.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "quic/endpoint.h"
#include "quic/random.h"
#include "quic/uv/transport.h"
#include "uv/driver.h"
#include "uv/timer.h"
#include "uv/udp_socket.h"

namespace quic::uv {

struct Transport::Impl {
    Impl(uv_loop_t* l, UdpSocket s, TransportConfig c);
    ~Impl();

    // --- the driver's wakeups ---
    void on_activity(Time now);
    void on_icmp_error(const UdpSocket::IcmpError& e);
    void on_packet_too_big(const UdpSocket::IcmpError& e);
    // Flush what the endpoint has to send and re-arm the timer (after calls outside a
    // wakeup); a no-op during one, whose end flushes.
    void wake();

    // --- connections ---
    std::shared_ptr<Connection> adopt(std::shared_ptr<quic::Connection> core, bool server,
                                      std::string session_key);
    void accept_new_connections();
    // The listener's share of a server connection whose handshake completed (or, with early
    // delivery, that was just accepted).
    void deliver(const std::shared_ptr<Connection>& c);
    // Queues the connection for the next wakeup's dispatch (once until then): the endpoint
    // touched it, or the application acted on it (ConnectionDriver::wake, take_events).
    void mark_dirty(ConnectionDriver& d);
    // Dispatches the dirty connections, then forgets those of them that closed.
    void dispatch_dirty(Time now);
    void forget_closed(const std::vector<std::shared_ptr<Connection>>& dispatched);

    // --- posted work and closing ---
    void post(std::function<void()> fn);
    void run_posted();
    void check_closed();

    Transport* self = nullptr;
    uv_loop_t* loop;
    TransportConfig config;
    CryptoRandom random;
    UdpSocket socket;
    // More sockets on the same endpoint (TransportConfig::additional_addresses, add_address);
    // heap-held so the driver's references stay valid.
    std::vector<std::unique_ptr<UdpSocket>> more_sockets;
    std::unique_ptr<Endpoint> endpoint;
    std::unique_ptr<Driver> driver;
    std::function<void(const Error&)> on_error;

    // The listener (Transport::listen).
    bool listening = false, accept_early = false;
    std::function<void(std::shared_ptr<Connection>)> on_connection;
    std::deque<std::shared_ptr<Connection>> unclaimed;  // accepted before on_connection was set

    // The connections handed out and not yet closed, by their core connection (what the
    // endpoint reports as touched).
    std::unordered_map<const quic::Connection*, std::shared_ptr<Connection>> connections;
    // To dispatch at the next wakeup (ConnectionDriver::dirty); work per wakeup follows this
    // list, not the number of connections (docs/architecture.md, "Dispatch").
    std::vector<std::shared_ptr<Connection>> dirty;
    std::vector<std::shared_ptr<Connection>> dispatching;    // scratch: the batch being dispatched
    std::vector<std::shared_ptr<quic::Connection>> touched;  // scratch: Endpoint::take_touched

    std::vector<std::function<void()>> posted;
    uv_idle_t* idle = nullptr;  // runs `posted`; freed by its close callback

    bool closing = false, closed = false;
    std::function<void()> close_done;
    uv_check_t* close_check = nullptr;  // watches for the closes to be sent
    std::unique_ptr<Timer> close_linger;
};

}  // namespace quic::uv
