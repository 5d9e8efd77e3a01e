#include "uv/reuseport.h"

#include <linux/filter.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace quic::uv {

Status attach_connection_id_steering(int fd, unsigned workers) {
    // The program sees the UDP payload (the kernel pulls the UDP header first). The first
    // byte's high bit tells a long header (RFC 9000 §17.2: DCID at offset 6, after the flags,
    // the version and the DCID length) from a short one (§17.3: DCID at offset 1). A datagram
    // too short to load from ends the program with 0: worker 0, which drops it.
    std::array<sock_filter, 7> program = {{
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80, 0, 2),  // long header: next; short: +2
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
        BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 1),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, workers),
        BPF_STMT(BPF_RET | BPF_A, 0),
    }};
    sock_fprog prog{static_cast<unsigned short>(program.size()), program.data()};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
        return Error::of_kind(ErrorKind::kSocket,
                              std::string("SO_ATTACH_REUSEPORT_CBPF: ") + std::strerror(errno));
    return {};
}

ConnectionId worker_connection_id(Random& random, size_t length, unsigned worker,
                                  unsigned workers) {
    std::array<uint8_t, kMaxConnectionIdLength> b{};
    random.fill(std::span(b.data(), length));
    // The largest multiple of `workers` that fits a byte, plus the index, keeps the byte
    // uniform over the values that steer to this worker.
    const unsigned slots = 256 / workers;
    b[0] = static_cast<uint8_t>((b[0] % slots) * workers + worker);
    return ConnectionId(std::span<const uint8_t>(b.data(), length));
}

}  // namespace quic::uv
