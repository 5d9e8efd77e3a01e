// A group of sockets sharing one address (SO_REUSEPORT), one per worker event loop, with a
// classic BPF program that steers each datagram to the worker owning its connection
// (docs/architecture.md, "The I/O layer"). The rule, shared by the program and the
// connection IDs the workers issue: worker = first byte of the Destination Connection ID
// modulo the worker count.
#pragma once

#include <cstddef>

#include "quic/connection_id.h"
#include "quic/random.h"
#include "quic/result.h"

namespace quic::uv {

// The most workers a group may have: one per core is the point, and the kernel caps a
// reuseport group well above this.
inline constexpr unsigned kMaxWorkers = 64;

// Attaches the steering program to `fd`'s reuseport group (SO_ATTACH_REUSEPORT_CBPF; it
// applies to every socket of the group). The kernel numbers the group's sockets in the order
// they were bound: worker i must be the i-th socket bound.
Status attach_connection_id_steering(int fd, unsigned workers);

// A random connection ID of `length` bytes whose first byte steers to `worker` of `workers`
// (the rest, at least 3 bytes, is random: RFC 9000 §5.1 wants IDs an attacker cannot link).
ConnectionId worker_connection_id(Random& random, size_t length, unsigned worker, unsigned workers);

}  // namespace quic::uv
