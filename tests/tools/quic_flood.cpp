// quic_flood: sends what an attacker sends a QUIC server, at a given rate, from many source
// ports (and, with --source-ips, many loopback addresses), and counts the replies by kind.
// For the real-socket flood tests (tests/integration/flood.sh) and by hand:
//
//   quic_flood --target 127.0.0.1:4433 --kind junk --rate 2000 --duration 3
//
// Kinds (each datagram 1200 bytes unless said otherwise):
//   junk         a well-formed version 1 Initial header with a random payload (does not decrypt)
//   initial      a real Initial, sealed with the keys of its random DCID, carrying the start of
//                a ClientHello that never completes (decrypts; a server that keeps state for it
//                holds a half-open connection)
//   short        the same real Initial in a 1199-byte datagram (RFC 9000 §14.1: dropped)
//   vn           a Version Negotiation packet (version 0: never to be answered)
//   unknown      a long header with an unknown version (answered with Version Negotiation)
//   mix          all of the above in turn
// Prints one line: "sent N replies R vn V retry T initial I other O seconds S failed F"
// (replies by type; S the seconds spent sending, so N / S is the rate reached; F datagrams
// whose sendto failed, not in N).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "crypto/initial_secrets.h"
#include "endpoint/initial_packet.h"
#include "quic/address.h"
#include "quic/frame.h"
#include "quic/random.h"
#include "quic/varint.h"

namespace {

using quic::Bytes;
using quic::ConnectionId;

struct Options {
    std::string target;
    std::string kind = "junk";
    double rate = 1000;   // datagrams per second
    double duration = 1;  // seconds
    int sockets = 64;     // source ports
    int source_ips = 0;   // > 0: spread the sockets over 127.1.x.y (IPv4 targets only)
    double linger = 0.3;  // seconds to keep counting replies after the last send
};

int usage() {
    std::fprintf(stderr,
                 "usage: quic_flood --target ADDR:PORT [--kind junk|initial|short|vn|unknown|mix]\n"
                 "                  [--rate N/s] [--duration S] [--sockets N] [--source-ips N]\n");
    return 2;
}

double now_seconds() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

ConnectionId random_cid(quic::Random& r) {
    uint8_t b[8];
    r.fill(b);
    return ConnectionId(b);
}

Bytes long_header(quic::Random& r, uint32_t version, size_t size) {
    Bytes d(size);
    r.fill(d);
    quic::ByteWriter w(d);
    w.write_u8(0xc0);  // long header, fixed bit, Initial (v1), reserved and PN length bits 0
    w.write_u32(version);
    w.write_u8(8).write_bytes(random_cid(r).bytes());
    w.write_u8(8).write_bytes(random_cid(r).bytes());
    w.write_varint(0);
    w.write_varint_with_length(size - w.size() - 2, 2);
    return d;
}

Bytes real_initial(quic::Random& r, size_t size) {
    static const uint8_t hello[] = {0x01, 0x00, 0x10, 0x00, 0x03, 0x03, 0xaa, 0xbb};
    quic::CryptoFrame f;
    f.data = hello;
    Bytes frames(quic::encoded_size(quic::Frame{f}));
    quic::ByteWriter w(frames);
    quic::encode_frame(w, quic::Frame{f});
    const ConnectionId dcid = random_cid(r), scid = random_cid(r);
    quic::InitialKeys keys = quic::make_initial_keys(quic::kVersion1, dcid);
    return quic::seal_initial(quic::kVersion1, dcid, scid, {}, 0, frames, size, keys.client);
}

Bytes make(quic::Random& r, const std::string& kind, uint64_t n) {
    static const char* kMix[] = {"junk", "initial", "short", "vn", "unknown"};
    const std::string k = kind == "mix" ? kMix[n % 5] : kind;
    if (k == "junk") return long_header(r, quic::kVersion1, 1200);
    if (k == "initial") return real_initial(r, 1200);
    if (k == "short") return real_initial(r, 1199);
    if (k == "vn") return long_header(r, quic::kVersionNegotiationVersion, 1200);
    if (k == "unknown") return long_header(r, 0x1a2a3a4a, 1200);
    return {};
}

struct Counts {
    uint64_t sent = 0, replies = 0, vn = 0, retry = 0, initial = 0, other = 0;
    uint64_t failed = 0;  // sendto failed (not counted in sent)
};

void count_reply(const uint8_t* d, ssize_t n, Counts& c) {
    if (n <= 0) return;
    ++c.replies;
    if (!(d[0] & 0x80) || n < 5) {
        ++c.other;
        return;
    }
    const uint32_t version =
        (uint32_t(d[1]) << 24) | (uint32_t(d[2]) << 16) | (uint32_t(d[3]) << 8) | d[4];
    const int type = (d[0] >> 4) & 3;
    if (version == 0)
        ++c.vn;
    else if (type == 3)
        ++c.retry;
    else if (type == 0)
        ++c.initial;
    else
        ++c.other;
}

int open_socket(const quic::SocketAddress& target, int index, int source_ips) {
    const bool v6 = target.family() == quic::SocketAddress::Family::kIpv6;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    quic::SocketAddress local;
    if (v6) {
        local = *quic::SocketAddress::parse("[::1]:0");
    } else if (source_ips > 0) {
        const int ip = index % source_ips;  // 127.1.x.y: all of 127/8 is local on Linux
        local = quic::SocketAddress::ipv4(
            {127, 1, static_cast<uint8_t>(ip / 250), static_cast<uint8_t>(1 + ip % 250)}, 0);
    } else {
        local = quic::SocketAddress::ipv4({127, 0, 0, 1}, 0);
    }
    sockaddr_storage ss;
    const unsigned len = local.to_sockaddr(ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        const char* v = nullptr;
        if (a == "--target" && (v = next()))
            o.target = v;
        else if (a == "--kind" && (v = next()))
            o.kind = v;
        else if (a == "--rate" && (v = next()))
            o.rate = std::atof(v);
        else if (a == "--duration" && (v = next()))
            o.duration = std::atof(v);
        else if (a == "--sockets" && (v = next()))
            o.sockets = std::atoi(v);
        else if (a == "--source-ips" && (v = next()))
            o.source_ips = std::atoi(v);
        else if (a == "--linger" && (v = next()))
            o.linger = std::atof(v);
        else
            return usage();
    }
    auto target = quic::SocketAddress::parse(o.target);
    if (!target || o.rate <= 0 || o.sockets <= 0) return usage();
    quic::CryptoRandom random;
    if (make(random, o.kind, 0).empty()) return usage();

    std::vector<int> fds;
    for (int i = 0; i < o.sockets; ++i) {
        int fd = open_socket(*target, i, o.source_ips);
        if (fd < 0) {
            std::perror("quic_flood: socket");
            return 1;
        }
        fds.push_back(fd);
    }
    sockaddr_storage to;
    const socklen_t to_len = target->to_sockaddr(to);

    Counts c;
    uint8_t buf[2048];
    auto drain = [&] {
        for (int fd : fds)
            for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) count_reply(buf, n, c);
    };
    const double start = now_seconds();
    const uint64_t total = static_cast<uint64_t>(o.rate * o.duration);
    uint64_t attempted = 0;
    while (attempted < total) {
        // Catch up to where the rate says we should be, in 1 ms steps.
        const double elapsed = now_seconds() - start;
        const uint64_t due = std::min<uint64_t>(total, static_cast<uint64_t>(elapsed * o.rate) + 1);
        for (; attempted < due; ++attempted) {
            Bytes d = make(random, o.kind, attempted);
            int fd = fds[attempted % fds.size()];
            if (sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), to_len) >= 0) {
                ++c.sent;
                continue;
            }
            // A full socket buffer or an ICMP error from an earlier datagram: not sent, and
            // counted, so that the rate reached is sent / seconds.
            ++c.failed;
            if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED)
                std::perror("quic_flood: sendto");
        }
        drain();
        timespec pause{0, 1'000'000};
        nanosleep(&pause, nullptr);
    }
    // The rate reached is sent / seconds of sending (the linger only counts replies).
    const double sending_seconds = now_seconds() - start;
    const double end = now_seconds() + o.linger;
    while (now_seconds() < end) {
        drain();
        timespec pause{0, 5'000'000};
        nanosleep(&pause, nullptr);
    }
    std::printf(
        "sent %llu replies %llu vn %llu retry %llu initial %llu other %llu seconds %.2f failed "
        "%llu\n",
        (unsigned long long)c.sent, (unsigned long long)c.replies, (unsigned long long)c.vn,
        (unsigned long long)c.retry, (unsigned long long)c.initial, (unsigned long long)c.other,
        sending_seconds, (unsigned long long)c.failed);
    for (int fd : fds) close(fd);
    return 0;
}
