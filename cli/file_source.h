// A served file as stream data read when it is sent (quic/stream_source.h), so a response body
// is neither held in memory nor copied through a buffer: pread puts it straight into the
// packet being built (issue 14).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>

#include "quic/stream_source.h"

namespace quiver {

// The inode change time of `st` in nanoseconds: what file_source compares.
int64_t change_time_ns(const struct stat& st);

// Takes `fd` (closed when the last copy of the source is dropped: when the peer acknowledged
// the whole body, or the stream or connection ended). `size` bytes are read; `ctime_ns` is the
// file's change time when it was opened.
//
// RFC 9000 §2.2: data sent at an offset must not change when it is sent again. Bytes read a
// second time (a retransmission) are read only if the file's size and change time are still
// those it was opened with; otherwise the source fails and the stream is reset (§3.1) rather
// than sending other bytes. A file that ends early fails it too.
quic::StreamSource file_source(int fd, uint64_t size, int64_t ctime_ns);

// Files up to this size are read whole when opened, and their descriptor closed at once: a
// source holds a descriptor per response until the peer acknowledges it, and a server answering
// many small requests at once would run out of descriptors (RLIMIT_NOFILE) long before memory.
inline constexpr uint64_t kReadWholeFileMax = 16 * 1024;

// Reads `size` bytes of `fd` from its start and closes it; nullopt when the file cannot be read
// to that size (it shrank, an I/O error).
std::optional<std::string> read_whole_file(int fd, uint64_t size);

}  // namespace quiver
