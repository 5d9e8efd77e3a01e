#include "tun_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace netsim {

namespace {

// Closes a file descriptor at the end of a scope.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) close(fd);
    }
};

std::string netns_path(const std::string& netns) {
    return netns.find('/') == std::string::npos ? "/run/netns/" + netns : netns;
}

int create(const std::string& ifname, std::string& error) {
    const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        error = std::string("open /dev/net/tun: ") + std::strerror(errno);
        return -1;
    }
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error = "TUNSETIFF " + ifname + ": " + std::strerror(errno);
        close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

int open_tun(const std::string& netns, const std::string& ifname, std::string& error) {
    if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
        error = "bad interface name '" + ifname + "'";
        return -1;
    }
    if (netns.empty()) return create(ifname, error);
    // The device is created in the namespace the thread is in at TUNSETIFF: step into the
    // host's namespace for that, and back.
    Fd home{open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)};
    Fd target{open(netns_path(netns).c_str(), O_RDONLY | O_CLOEXEC)};
    if (home.fd < 0 || target.fd < 0) {
        error = "network namespace " + netns_path(netns) + ": " + std::strerror(errno);
        return -1;
    }
    if (setns(target.fd, CLONE_NEWNET) < 0) {
        error = "setns " + netns_path(netns) + ": " + std::strerror(errno);
        return -1;
    }
    const int fd = create(ifname, error);
    if (setns(home.fd, CLONE_NEWNET) < 0) {
        // Staying in a host's namespace would route nothing as intended: give up.
        error = std::string("setns back: ") + std::strerror(errno);
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

}  // namespace netsim
