#include "probe.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "forwarder.h"
#include "ip_packet.h"

namespace netsim {

namespace {
constexpr size_t kProbeSize = 1207;
}

ProbeResult probe_server(const std::string& host_port, double timeout_s, double interval_s) {
    ProbeResult r;
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos) {
        r.error = "expected HOST:PORT, got '" + host_port + "'";
        return r;
    }
    std::string host = host_port.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* ai = nullptr;
    if (int rc = getaddrinfo(host.c_str(), host_port.substr(colon + 1).c_str(), &hints, &ai);
        rc != 0) {
        r.error = host_port + ": " + gai_strerror(rc);
        return r;
    }
    const int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        r.error = host_port + ": " + std::strerror(errno);
        freeaddrinfo(ai);
        if (fd >= 0) close(fd);
        return r;
    }
    freeaddrinfo(ai);

    std::array<uint8_t, kProbeSize> probe{};
    const uint8_t head[] = {0xc0, 0x57, 0x41, 0x49, 0x54, 0x00, 0x00};  // "WAIT", no CIDs
    std::memcpy(probe.data(), head, sizeof head);
    const Time start = monotonic_now();
    auto elapsed = [&] { return static_cast<double>((monotonic_now() - start).count()) / 1e9; };
    double next_send = 0;
    for (;;) {
        const double t = elapsed();
        if (t >= timeout_s) break;
        if (t >= next_send) {
            // A refused send (ICMP port unreachable from a server not listening yet) is
            // only a reason to try again.
            (void)send(fd, probe.data(), probe.size(), 0);
            next_send += interval_s;
        }
        pollfd p{fd, POLLIN, 0};
        const double wait = std::min(next_send, timeout_s) - elapsed();
        if (poll(&p, 1, std::max(0, static_cast<int>(wait * 1000) + 1)) > 0) {
            std::array<uint8_t, 1500> answer{};
            const ssize_t n = recv(fd, answer.data(), answer.size(), 0);
            if (n < 0) continue;  // ECONNREFUSED: nobody listens yet
            r.seconds = elapsed();
            if (!is_version_negotiation({answer.data(), static_cast<size_t>(n)})) {
                r.error = "the answer is not a Version Negotiation packet";
                close(fd);
                return r;
            }
            r.answered = true;
            close(fd);
            return r;
        }
    }
    r.seconds = elapsed();
    close(fd);
    return r;
}

}  // namespace netsim
