// A nonblocking UDP socket on the project's own fd (docs/architecture.md, "The I/O layer"): batched
// receive with recvmmsg and UDP_GRO, batched send with sendmmsg and UDP_SEGMENT (GSO), ECN
// codepoints both ways, and IP_PMTUDISC_PROBE so that ICMP "fragmentation needed" never
// shrinks the path (QUIC does its own PMTUD, RFC 9000 §14). No QUIC logic here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "quic/address.h"
#include "quic/ecn.h"
#include "quic/result.h"

namespace quic::uv {

// One datagram to send; `data` must stay valid until send() returns.
struct OutDatagram {
    SocketAddress to;
    Ecn ecn = Ecn::kNotEct;
    std::span<const uint8_t> data;
    uint64_t flow = 0;  // Transmit::flow: one GSO send never mixes flows
};

// One datagram received (after GRO splitting); `data` points into the socket's buffer and is
// valid until the next receive().
struct InDatagram {
    SocketAddress from;
    Ecn ecn = Ecn::kNotEct;
    std::span<uint8_t> data;
};

class UdpSocket {
  public:
    // Binds `local`; an IPv6 wildcard ("[::]:port") is bound dual-stack (IPV6_V6ONLY=0) so it
    // also serves IPv4. Port 0 picks a free port (see local_address()).
    // With `reuse_port`, SO_REUSEPORT first: several sockets (one per worker) share the address.
    static Result<UdpSocket> bind(const SocketAddress& local, bool reuse_port = false);
    // "[::]:0", falling back to "0.0.0.0:0" on hosts without IPv6.
    static Result<UdpSocket> bind_any();

    UdpSocket(UdpSocket&& other) noexcept;
    UdpSocket& operator=(UdpSocket&& other) noexcept;
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;
    ~UdpSocket();

    int fd() const { return fd_; }
    // The bound address, IPv4-mapped addresses shown as IPv4.
    const SocketAddress& local_address() const { return local_; }
    bool gso_enabled() const { return gso_; }
    bool gro_enabled() const { return gro_; }
    // The largest UDP payload receive() takes whole (a larger one is truncated and dropped):
    // the max_udp_payload_size a connection on this socket may advertise (RFC 9000 §18.2).
    size_t max_receive_payload() const;

    // Receives what is queued, up to one recvmmsg batch of at most `max_messages` messages
    // (each a datagram, or a GRO-coalesced buffer of several), calling `on` for every datagram
    // (GRO-coalesced buffers split back into datagrams). Returns the number of datagrams, 0
    // when the socket would block; an error only for a real socket failure.
    Result<size_t> receive(const std::function<void(const InDatagram&)>& on,
                           size_t max_messages = SIZE_MAX);

    // An ICMP error the kernel queued for a datagram we sent (IP_RECVERR, RFC 9000 §14.2.1
    // for why QUIC may only trust it with care): the destination that failed and the error
    // (ECONNREFUSED for port unreachable, EHOSTUNREACH, EMSGSIZE for packet too big with
    // `mtu` set).
    struct IcmpError {
        SocketAddress to;
        int error = 0;
        uint32_t mtu = 0;
    };
    // Reads the socket's error queue (after receive() saw an ICMP error, or a poll said so),
    // calling `on` for each. Returns how many were read.
    size_t drain_errors(const std::function<void(const IcmpError&)>& on);
    // receive() met an ICMP error: call drain_errors.
    bool errors_pending() const { return errors_pending_; }

    // Sends datagrams in order, grouping runs of equal-size datagrams to the same destination
    // with the same ECN mark into GSO sends (the last of a run may be shorter). Returns how
    // many datagrams left (or were dropped for a per-datagram error, e.g. an unreachable
    // destination); fewer than given means the socket would block: wait for writability.
    size_t send(std::span<const OutDatagram> datagrams);

    struct Stats {
        uint64_t datagrams_sent = 0, send_calls = 0, gso_batches = 0;
        uint64_t datagrams_received = 0, receive_calls = 0, gro_batches = 0;
        uint64_t send_errors = 0;
        uint64_t icmp_errors = 0;
    };
    const Stats& stats() const { return stats_; }

  private:
    UdpSocket() = default;
    void close();
    // Sends a prepared run of messages; returns how many left.
    size_t send_batch(std::span<const OutDatagram> datagrams, std::span<const size_t> run_sizes);

    int fd_ = -1;
    bool ipv6_ = false;  // an AF_INET6 socket: IPv4 peers are written as ::ffff:a.b.c.d
    bool gso_ = false;
    bool gro_ = false;
    bool gso_worked_ = false;      // a GSO send succeeded: a later refusal concerns one run
    bool tos_cmsg_ok_ = true;      // some kernels refuse IP_TOS cmsgs on IPv6 sockets
    bool errors_pending_ = false;  // receive() met an ICMP error; the error queue has it
    SocketAddress local_;
    std::vector<uint8_t> recv_buffer_;
    Stats stats_;
};

}  // namespace quic::uv
