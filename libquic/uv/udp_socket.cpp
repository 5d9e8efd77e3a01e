#include "uv/udp_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace quic::uv {
namespace {

constexpr int kSocketBufferBytes = 4 * 1024 * 1024;
// Linux accepts at most 64 segments per GSO send (UDP_MAX_SEGMENTS) and a UDP payload below
// 64 KiB; stay just under.
constexpr size_t kMaxGsoSegments = 64;
constexpr size_t kMaxGsoBytes = 65000;
// Messages per sendmmsg / recvmmsg call.
constexpr size_t kSendBatch = 64;
constexpr size_t kRecvSlotsGro = 16, kRecvSlotGro = 65536;
constexpr size_t kRecvSlotsPlain = 64, kRecvSlotPlain = 4096;

constexpr int kOn = 1;

Error socket_error(const char* what, int err) {
    return Error::transport(TransportErrorCode::kInternalError,
                            std::string(what) + ": " + std::strerror(err));
}

void set_int(int fd, int level, int name, int value) {
    (void)setsockopt(fd, level, name, &value, sizeof value);
}

// Raise a socket buffer: the *FORCE variant works for root beyond net.core.*mem_max; the plain
// one is capped silently. Neither failing is fatal (a smaller buffer only costs throughput).
void raise_buffer(int fd, int force_name, int name) {
    if (setsockopt(fd, SOL_SOCKET, force_name, &kSocketBufferBytes, sizeof kSocketBufferBytes) != 0)
        set_int(fd, SOL_SOCKET, name, kSocketBufferBytes);
}

// ::ffff:a.b.c.d as IPv4: a dual-stack socket reports IPv4 peers that way, and the core must
// see one address per peer whatever socket it came through.
SocketAddress unmap(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            std::array<uint8_t, 4> ip;
            std::memcpy(ip.data(), in6->sin6_addr.s6_addr + 12, 4);
            return SocketAddress::ipv4(ip, ntohs(in6->sin6_port));
        }
    }
    return SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss))
        .value_or(SocketAddress{});
}

socklen_t to_native(const SocketAddress& a, bool ipv6_socket, sockaddr_storage& out) {
    if (ipv6_socket && a.family() == SocketAddress::Family::kIpv4) {
        std::array<uint8_t, 16> ip{};
        ip[10] = ip[11] = 0xff;
        std::memcpy(ip.data() + 12, a.ip(), 4);
        return SocketAddress::ipv6(ip, a.port()).to_sockaddr(out);
    }
    return a.to_sockaddr(out);
}

bool is_gso_refusal(int err) {
    return err == EIO || err == EINVAL || err == ENOPROTOOPT;
}

}  // namespace

Result<UdpSocket> UdpSocket::bind(const SocketAddress& local, bool reuse_port) {
    if (local.empty()) return socket_error("bind", EINVAL);
    const bool v6 = local.family() == SocketAddress::Family::kIpv6;
    UdpSocket s;
    s.fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd_ < 0) return socket_error("socket", errno);
    s.ipv6_ = v6;
    const int fd = s.fd_;
    if (v6) set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &kOn, sizeof kOn) != 0)
        return socket_error("SO_REUSEPORT", errno);
    raise_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
    raise_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
    // Never let ICMP shrink the path MTU: datagrams keep their size and the DF bit; a too-big
    // probe is simply lost (RFC 9000 §14.2, RFC 8899).
    set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
    if (v6) set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
    // ICMP errors for what we send, on the error queue: a client learns at once that nothing
    // listens at the server's address (drain_errors).
    set_int(fd, IPPROTO_IP, IP_RECVERR, 1);
    if (v6) set_int(fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
    // ECN codepoints of received packets (a dual-stack socket reports IPv4 ones as IP_TOS).
    set_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
    if (v6) set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
    const int on = 1;
    s.gro_ = setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
    int seg = 0;
    socklen_t seg_len = sizeof seg;
    s.gso_ = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &seg_len) == 0;

    sockaddr_storage ss;
    socklen_t len = local.to_sockaddr(ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
        return socket_error(("bind " + local.to_string()).c_str(), errno);
    len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return socket_error("getsockname", errno);
    s.local_ = unmap(ss);
    s.recv_buffer_.resize(s.gro_ ? kRecvSlotsGro * kRecvSlotGro : kRecvSlotsPlain * kRecvSlotPlain);
    return s;
}

Result<UdpSocket> UdpSocket::bind_any() {
    auto s = bind(SocketAddress::ipv6({}, 0));
    if (s.ok()) return s;
    return bind(SocketAddress::ipv4({}, 0));
}

UdpSocket::UdpSocket(UdpSocket&& o) noexcept {
    *this = std::move(o);
}

UdpSocket& UdpSocket::operator=(UdpSocket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        ipv6_ = o.ipv6_;
        gso_ = o.gso_;
        gso_worked_ = o.gso_worked_;
        gro_ = o.gro_;
        tos_cmsg_ok_ = o.tos_cmsg_ok_;
        errors_pending_ = o.errors_pending_;
        local_ = o.local_;
        recv_buffer_ = std::move(o.recv_buffer_);
        stats_ = o.stats_;
    }
    return *this;
}

UdpSocket::~UdpSocket() {
    close();
}

void UdpSocket::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

// --- receive ---------------------------------------------------------------------------------

size_t UdpSocket::max_receive_payload() const {
    // RFC 9000 §18.2: 65527 is the largest max_udp_payload_size (a UDP payload's limit).
    return std::min<size_t>(gro_ ? kRecvSlotGro : kRecvSlotPlain, 65527);
}

Result<size_t> UdpSocket::receive(const std::function<void(const InDatagram&)>& on,
                                  size_t max_messages) {
    const size_t all_slots = gro_ ? kRecvSlotsGro : kRecvSlotsPlain;
    const size_t slot_size = recv_buffer_.size() / all_slots;
    const size_t slots = std::clamp<size_t>(max_messages, 1, all_slots);
    // Not value-initialised: 17 KiB to zero on every call for a batch that is often one
    // datagram. Each used header is zeroed below; the kernel writes the addresses and control
    // data it returns, with their lengths.
    std::array<mmsghdr, kRecvSlotsPlain> msgs;
    std::array<iovec, kRecvSlotsPlain> iovs;
    std::array<sockaddr_storage, kRecvSlotsPlain> from;
    // Room for UDP_GRO, IP_TOS and IPV6_TCLASS.
    struct alignas(cmsghdr) Control {
        uint8_t bytes[CMSG_SPACE(sizeof(int)) * 4];
    };
    std::array<Control, kRecvSlotsPlain> control;
    for (size_t i = 0; i < slots; ++i) {
        iovs[i] = {recv_buffer_.data() + i * slot_size, slot_size};
        msgs[i] = mmsghdr{};
        msghdr& h = msgs[i].msg_hdr;
        h.msg_name = &from[i];
        h.msg_namelen = sizeof from[i];
        h.msg_iov = &iovs[i];
        h.msg_iovlen = 1;
        h.msg_control = control[i].bytes;
        h.msg_controllen = sizeof control[i].bytes;
    }
    int n;
    do {
        n = recvmmsg(fd_, msgs.data(), static_cast<unsigned>(slots), MSG_DONTWAIT, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
        // An ICMP error queued on the socket (e.g. port unreachable): not fatal; the details
        // wait on the error queue (drain_errors), which must be read or poll keeps waking.
        if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
            errno == EMSGSIZE) {
            errors_pending_ = true;
            return size_t{0};
        }
        return socket_error("recvmmsg", errno);
    }
    ++stats_.receive_calls;
    size_t count = 0;
    for (int i = 0; i < n; ++i) {
        msghdr& h = msgs[i].msg_hdr;
        if (h.msg_flags & MSG_TRUNC) continue;  // larger than any datagram we accept
        size_t segment = 0;
        Ecn ecn = Ecn::kNotEct;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                int v;
                std::memcpy(&v, CMSG_DATA(c), sizeof v);
                segment = v > 0 ? static_cast<size_t>(v) : 0;
            } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
                ecn = static_cast<Ecn>(*CMSG_DATA(c) & 0x3);
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
                int v;
                std::memcpy(&v, CMSG_DATA(c), sizeof v);
                ecn = static_cast<Ecn>(v & 0x3);
            }
        }
        InDatagram d;
        d.from = unmap(from[i]);
        d.ecn = ecn;
        uint8_t* base = static_cast<uint8_t*>(iovs[i].iov_base);
        const size_t len = msgs[i].msg_len;
        if (segment == 0 || segment >= len) {
            d.data = {base, len};
            on(d);
            ++count;
            continue;
        }
        ++stats_.gro_batches;
        for (size_t off = 0; off < len; off += segment) {
            d.data = {base + off, std::min(segment, len - off)};
            on(d);
            ++count;
        }
    }
    stats_.datagrams_received += count;
    return count;
}

size_t UdpSocket::drain_errors(const std::function<void(const IcmpError&)>& on) {
    errors_pending_ = false;
    size_t count = 0;
    // Each read takes one queued error; the queue is the kernel's, bounded by the socket's
    // receive buffer, but a flood of ICMP must not hold the loop: a batch per call.
    for (int i = 0; i < 64; ++i) {
        sockaddr_storage to{};
        uint8_t payload[64];
        iovec iov{payload, sizeof payload};
        struct alignas(cmsghdr) Control {
            uint8_t bytes[CMSG_SPACE(sizeof(sock_extended_err) + sizeof(sockaddr_in6)) * 2];
        } control{};
        msghdr h{};
        h.msg_name = &to;
        h.msg_namelen = sizeof to;
        h.msg_iov = &iov;
        h.msg_iovlen = 1;
        h.msg_control = control.bytes;
        h.msg_controllen = sizeof control.bytes;
        if (recvmsg(fd_, &h, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
            const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
            const bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
            if (!v4 && !v6) continue;
            sock_extended_err ee;
            std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
            IcmpError e;
            e.to = unmap(to);
            e.error = static_cast<int>(ee.ee_errno);
            if (ee.ee_errno == EMSGSIZE) e.mtu = ee.ee_info;
            ++count;
            ++stats_.icmp_errors;
            on(e);
        }
    }
    return count;
}

// --- send ------------------------------------------------------------------------------------

size_t UdpSocket::send(std::span<const OutDatagram> datagrams) {
    size_t done = 0;
    std::array<size_t, kSendBatch> runs;
    while (done < datagrams.size()) {
        // Group runs: same destination, mark and flow (Transmit::flow), equal sizes (a shorter
        // one ends the run).
        size_t msgs = 0, i = done;
        while (i < datagrams.size() && msgs < kSendBatch) {
            const OutDatagram& first = datagrams[i];
            size_t j = i + 1, bytes = first.data.size();
            if (gso_) {
                while (j < datagrams.size() && j - i < kMaxGsoSegments) {
                    const OutDatagram& d = datagrams[j];
                    if (!(d.to == first.to) || d.ecn != first.ecn || d.flow != first.flow ||
                        d.data.size() > first.data.size() || bytes + d.data.size() > kMaxGsoBytes)
                        break;
                    bytes += d.data.size();
                    ++j;
                    if (d.data.size() < first.data.size()) break;
                }
            }
            runs[msgs++] = j - i;
            i = j;
        }
        const size_t sent = send_batch(datagrams.subspan(done, i - done), {runs.data(), msgs});
        if (sent == 0) break;
        done += sent;
    }
    return done;
}

size_t UdpSocket::send_batch(std::span<const OutDatagram> datagrams,
                             std::span<const size_t> run_sizes) {
    // Not value-initialised (as in receive): only the messages used are zeroed below.
    std::array<mmsghdr, kSendBatch> msgs;
    std::array<sockaddr_storage, kSendBatch> to;
    std::array<iovec, kSendBatch * kMaxGsoSegments> iovs;
    struct alignas(cmsghdr) Control {
        uint8_t bytes[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint16_t))];
    };
    std::array<Control, kSendBatch> control;

    size_t first_datagram = 0, iov = 0;
    for (size_t m = 0; m < run_sizes.size(); ++m) {
        const OutDatagram& d = datagrams[first_datagram];
        msgs[m] = mmsghdr{};
        to[m] = sockaddr_storage{};
        control[m] = Control{};
        msghdr& h = msgs[m].msg_hdr;
        h.msg_name = &to[m];
        h.msg_namelen = to_native(d.to, ipv6_, to[m]);
        h.msg_iov = &iovs[iov];
        h.msg_iovlen = run_sizes[m];
        for (size_t k = 0; k < run_sizes[m]; ++k) {
            const OutDatagram& seg = datagrams[first_datagram + k];
            iovs[iov++] = {const_cast<uint8_t*>(seg.data.data()), seg.data.size()};
        }
        h.msg_control = control[m].bytes;
        h.msg_controllen = sizeof control[m].bytes;
        size_t used = 0;
        cmsghdr* c = CMSG_FIRSTHDR(&h);
        if (d.ecn != Ecn::kNotEct) {
            const bool v4 = d.to.family() == SocketAddress::Family::kIpv4;
            if (!v4 || !ipv6_ || tos_cmsg_ok_) {
                const int tos = static_cast<int>(d.ecn);
                c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
                c->cmsg_type = v4 ? IP_TOS : IPV6_TCLASS;
                c->cmsg_len = CMSG_LEN(sizeof tos);
                std::memcpy(CMSG_DATA(c), &tos, sizeof tos);
                used += CMSG_SPACE(sizeof tos);
                c = reinterpret_cast<cmsghdr*>(control[m].bytes + used);
            }
        }
        if (run_sizes[m] > 1) {
            const uint16_t segment = static_cast<uint16_t>(d.data.size());
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof segment);
            std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
            used += CMSG_SPACE(sizeof segment);
        }
        h.msg_controllen = used;
        if (used == 0) h.msg_control = nullptr;
        first_datagram += run_sizes[m];
    }

    int n;
    do {
        n = sendmmsg(fd_, msgs.data(), static_cast<unsigned>(run_sizes.size()), 0);
    } while (n < 0 && errno == EINTR);
    ++stats_.send_calls;
    if (n > 0) {
        size_t datagrams_sent = 0;
        for (int m = 0; m < n; ++m) {
            datagrams_sent += run_sizes[m];
            if (run_sizes[m] > 1) {
                ++stats_.gso_batches;
                gso_worked_ = true;
            }
        }
        stats_.datagrams_sent += datagrams_sent;
        return datagrams_sent;
    }
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) return 0;
    // An ICMP error reported on this send (IP_RECVERR sets the socket's pending error, which
    // the next call returns and clears): nothing was sent; the details are on the error queue.
    if ((err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH) && !errors_pending_) {
        errors_pending_ = true;
        return send(datagrams.first(run_sizes[0]));
    }
    // The first message failed. GSO refused: remember, and send that run one by one.
    if (run_sizes[0] > 1 && (is_gso_refusal(err) || err == EMSGSIZE)) {
        // A run whose segments are larger than the interface's MTU fails whole (EMSGSIZE, or
        // EINVAL on some kernels) and queues no error: send it one by one, so that only the
        // too-big datagram (a DPLPMTUD probe) fails, with its MTU on the error queue. GSO
        // stays on unless it never worked.
        // The EMSGSIZE may also be an ICMP's pending error (fragmentation needed, returned by
        // whichever call comes first): the error queue says which, so the driver reads it now,
        // not at the next poll, after a batch of ACKs that declares the probe lost.
        const bool keep = gso_worked_ || err == EMSGSIZE;
        if (err == EMSGSIZE) errors_pending_ = true;
        gso_ = false;
        const size_t sent = send(datagrams.first(run_sizes[0]));
        gso_ = keep;
        return sent;
    }
    // IP_PMTUDISC_PROBE: larger than the interface's MTU. IP_RECVERR queued the MTU on the
    // error queue (drain_errors reports it); the datagram is dropped, as a router would.
    if (err == EMSGSIZE) errors_pending_ = true;
    // An IP_TOS cmsg refused on an IPv6 socket: send IPv4 datagrams unmarked from now on.
    const OutDatagram& d = datagrams[0];
    if (err == EINVAL && ipv6_ && tos_cmsg_ok_ && d.ecn != Ecn::kNotEct &&
        d.to.family() == SocketAddress::Family::kIpv4) {
        tos_cmsg_ok_ = false;
        return send(datagrams.first(run_sizes[0]));
    }
    // Anything else concerns this destination only (unreachable, too big, a full qdisc:
    // ENOBUFS): drop the run, as the network would; QUIC's loss recovery takes over.
    ++stats_.send_errors;
    return run_sizes[0];
}

}  // namespace quic::uv
