#include "forwarder.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tun_device.h"

namespace netsim {

namespace {
// Packets read from one device before the loop looks at the others and at the clock: keeps
// one busy host from starving the rest and the deliveries due.
constexpr int kReadBurst = 64;
// The largest IP packet a TUN device with the default MTU hands over, with room to spare.
constexpr size_t kMaxPacket = 65536;

const char* side_name(Side s) {
    return s == Side::kClient ? "client" : s == Side::kServer ? "server" : "local";
}
}  // namespace

Time monotonic_now() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return quic::time_from_ns(static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec);
}

Forwarder::Forwarder(ForwarderOptions options, Simulator& simulator)
    : options_(std::move(options)), simulator_(simulator) {}

Forwarder::~Forwarder() {
    for (auto& d : devices_)
        if (d.fd >= 0) close(d.fd);
    if (signal_fd_ >= 0) close(signal_fd_);
    if (listen_fd_ >= 0) close(listen_fd_);
}

bool Forwarder::open(std::string& error) {
    for (const Host& h : options_.hosts) {
        const int fd = open_tun(h.netns, h.ifname, error);
        if (fd < 0) return false;
        devices_.push_back(Device{h, fd});
        for (const IpAddress& a : h.addresses) {
            if (!owner_.emplace(a, devices_.size() - 1).second) {
                error = "address " + a.to_string() + " given to two hosts";
                return false;
            }
        }
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) {
        error = std::string("signalfd: ") + std::strerror(errno);
        return false;
    }
    return true;
}

bool Forwarder::start(Time now) {
    if (simulator_.started()) return true;
    simulator_.start(now);
    std::fprintf(options_.log, "0.000000 s: scenario %s started\n",
                 simulator_.scenario().name.c_str());
    if (options_.synchroniser_port != 0) {
        // ns-3's RunSynchroniser: a TCP port that listens once the simulation runs, which
        // the client's /wait-for-it.sh sim:57832 waits for.
        listen_fd_ = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1, zero = 0;
        setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(options_.synchroniser_port);
        if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 ||
            listen(listen_fd_, 100) < 0) {
            std::fprintf(options_.log, "synchroniser port %u: %s\n", options_.synchroniser_port,
                         std::strerror(errno));
            return false;
        }
    }
    std::fflush(options_.log);
    return true;
}

void Forwarder::write_to(size_t device, const Packet& packet) {
    if (::write(devices_[device].fd, packet.data(), packet.size()) < 0) {
        ++stats_.write_errors;  // the interface is down, or its queue full: a lost packet
        return;
    }
    ++stats_.written;
}

namespace {
// Multicast and link-local traffic (IPv6 router solicitations and the like) stays on its link,
// as it would on the runner's networks: it must not take room in the simulated queue.
bool link_scoped(const IpAddress& a) {
    if (a.version == 4) return (a.bytes[0] & 0xf0) == 0xe0 || a.bytes[0] == 255;
    return a.bytes[0] == 0xff || (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80);
}
}  // namespace

void Forwarder::route(size_t from, Time now, Packet packet) {
    auto dst = destination_address(packet);
    if (!dst || link_scoped(*dst)) {
        ++stats_.no_route;
        return;
    }
    auto it = owner_.find(*dst);
    const Side a = devices_[from].host.side;
    const bool to_local = it != owner_.end() && devices_[it->second].host.side == Side::kLocal;
    if (a == Side::kLocal || to_local) {
        // The simulator's own traffic does not cross the link model (the runner's probe and
        // synchroniser do not go through ns-3 either).
        if (it == owner_.end()) {
            ++stats_.no_route;
            return;
        }
        ++stats_.local;
        write_to(it->second, packet);
        return;
    }
    if (it != owner_.end() && devices_[it->second].host.side == a) {
        ++stats_.same_side;  // only the path between the sides exists
        return;
    }
    // Everything else crosses, whatever its destination, as everything a host sends to the
    // other network does in the runner: a NAT's public address is nobody's until the NAT
    // has translated it at the far end.
    simulator_.send(now, a == Side::kClient ? Direction::kToServer : Direction::kToClient,
                    std::move(packet));
}

void Forwarder::on_readable(size_t device, Time now) {
    read_buffer_.resize(kMaxPacket);
    for (int i = 0; i < kReadBurst; ++i) {
        const ssize_t n = ::read(devices_[device].fd, read_buffer_.data(), read_buffer_.size());
        if (n <= 0) return;  // EAGAIN: drained
        ++stats_.read;
        route(device, now, Packet(read_buffer_.begin(), read_buffer_.begin() + n));
    }
}

int Forwarder::run() {
    if (options_.start_now && !start(monotonic_now())) return 1;
    std::vector<pollfd> fds;
    for (const auto& d : devices_) fds.push_back(pollfd{d.fd, POLLIN, 0});
    fds.push_back(pollfd{signal_fd_, POLLIN, 0});
    const size_t sig = fds.size() - 1;
    for (;;) {
        Time now = monotonic_now();
        due_.clear();
        simulator_.poll(now, due_);
        for (Delivery& d : due_) {
            auto dst = destination_address(d.packet);
            auto it = dst ? owner_.find(*dst) : owner_.end();
            const Side want = d.direction == Direction::kToServer ? Side::kServer : Side::kClient;
            if (it == owner_.end() || devices_[it->second].host.side != want) {
                ++stats_.no_route;
                continue;
            }
            write_to(it->second, d.packet);
        }
        // Sleep until the next delivery (nanosecond timeout: packets 1.2 ms apart at 10 Mbit/s
        // need better than poll's milliseconds) or until a device or a signal wakes us.
        timespec timeout{};
        timespec* wait = nullptr;
        if (auto next = simulator_.next_event()) {
            const int64_t ns = std::max<int64_t>(0, (*next - monotonic_now()).count());
            timeout.tv_sec = ns / 1'000'000'000;
            timeout.tv_nsec = ns % 1'000'000'000;
            wait = &timeout;
        }
        if (listen_fd_ >= 0 && fds.size() == sig + 1) fds.push_back(pollfd{listen_fd_, POLLIN, 0});
        if (ppoll(fds.data(), fds.size(), wait, nullptr) < 0 && errno != EINTR) {
            std::fprintf(options_.log, "ppoll: %s\n", std::strerror(errno));
            return 1;
        }
        now = monotonic_now();
        for (size_t i = 0; i < devices_.size(); ++i)
            if (fds[i].revents & POLLIN) on_readable(i, now);
        if (fds.size() > sig + 1 && (fds[sig + 1].revents & POLLIN)) {
            const int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) close(c);  // a waiter only needs the connection to succeed
        }
        if (fds[sig].revents & POLLIN) {
            signalfd_siginfo si{};
            while (::read(signal_fd_, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGUSR1) {
                    if (!start(now)) return 1;
                } else {
                    summary();
                    return 0;
                }
            }
        }
    }
}

void Forwarder::summary() {
    FILE* f = options_.log;
    std::fprintf(f,
                 "devices: read %llu, written %llu, write errors %llu, no route %llu, same side "
                 "%llu, local %llu\n",
                 static_cast<unsigned long long>(stats_.read),
                 static_cast<unsigned long long>(stats_.written),
                 static_cast<unsigned long long>(stats_.write_errors),
                 static_cast<unsigned long long>(stats_.no_route),
                 static_cast<unsigned long long>(stats_.same_side),
                 static_cast<unsigned long long>(stats_.local));
    for (Direction d : {Direction::kToServer, Direction::kToClient}) {
        const DirectionStats s = simulator_.stats(d);
        std::fprintf(f,
                     "%s: sent %llu, queue drops %llu (max waiting %zu), arrived %llu, "
                     "delivered %llu; random drops %llu, corrupted %llu, listed drops %llu, "
                     "blackholed %llu, NAT drops %llu, before start %llu\n",
                     direction_name(d), static_cast<unsigned long long>(s.link.sent),
                     static_cast<unsigned long long>(s.link.dropped_queue), s.link.max_waiting,
                     static_cast<unsigned long long>(s.link.arrived),
                     static_cast<unsigned long long>(s.delivered),
                     static_cast<unsigned long long>(s.errors.dropped_random),
                     static_cast<unsigned long long>(s.errors.corrupted),
                     static_cast<unsigned long long>(s.errors.dropped_listed),
                     static_cast<unsigned long long>(s.errors.dropped_blackhole),
                     static_cast<unsigned long long>(s.dropped_nat),
                     static_cast<unsigned long long>(s.dropped_not_started));
    }
    for (const auto& d : devices_)
        std::fprintf(f, "host %s %s/%s\n", side_name(d.host.side),
                     d.host.netns.empty() ? "(sim)" : d.host.netns.c_str(), d.host.ifname.c_str());
    std::fflush(f);
}

}  // namespace netsim
