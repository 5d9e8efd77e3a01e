#include "file_source.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace quiver {
namespace {

// Reads smaller than kSmallRead (a path of 1200-1500 byte packets asks for one per packet) are
// served from a window of kReadAheadWindow bytes read ahead of them: one pread per 64 KiB
// instead of one per packet. Larger reads (64 KiB datagrams on loopback) go straight into the
// packet.
constexpr size_t kSmallRead = 16 * 1024;
constexpr size_t kReadAheadWindow = 64 * 1024;

struct OpenFile {
    int fd;
    uint64_t size;
    int64_t ctime_ns;
    uint64_t read_end = 0;  // one past the highest byte read from the file so far
    // The file's bytes [window_offset, window_offset + window_len), made on the first small read.
    std::unique_ptr<uint8_t[]> window;
    uint64_t window_offset = 0;
    size_t window_len = 0;

    OpenFile(int f, uint64_t n, int64_t ctime) : fd(f), size(n), ctime_ns(ctime) {}
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    ~OpenFile() { ::close(fd); }

    bool unchanged() const {
        struct stat st;
        return ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == size &&
               change_time_ns(st) == ctime_ns;
    }

    bool pread_all(uint64_t offset, uint8_t* out, size_t len) {
        size_t done = 0;
        while (done < len) {
            const ssize_t n =
                ::pread(fd, out + done, len - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;  // an I/O error, or the file shrank
            done += static_cast<size_t>(n);
        }
        read_end = std::max(read_end, offset + len);
        return true;
    }

    bool read(uint64_t offset, quic::MutableByteSpan out) {
        if (offset > size || out.size() > size - offset) return false;
        // The window's bytes were read once: sent again, they are the same (§2.2).
        if (window_len && offset >= window_offset &&
            offset + out.size() <= window_offset + window_len) {
            std::copy_n(window.get() + (offset - window_offset), out.size(), out.data());
            return true;
        }
        if (offset < read_end && !unchanged()) return false;  // a resend of changed bytes
        if (out.size() >= kSmallRead) return pread_all(offset, out.data(), out.size());
        if (!window) window = std::make_unique_for_overwrite<uint8_t[]>(kReadAheadWindow);
        const size_t n = static_cast<size_t>(std::min<uint64_t>(kReadAheadWindow, size - offset));
        window_len = 0;
        if (!pread_all(offset, window.get(), n)) return false;
        window_offset = offset;
        window_len = n;
        std::copy_n(window.get(), out.size(), out.data());
        return true;
    }
};

}  // namespace

int64_t change_time_ns(const struct stat& st) {
    return static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
}

std::optional<std::string> read_whole_file(int fd, uint64_t size) {
    OpenFile file(fd, size, 0);
    std::string body(size, '\0');
    if (!file.pread_all(0, reinterpret_cast<uint8_t*>(body.data()), size)) return std::nullopt;
    return body;
}

quic::StreamSource file_source(int fd, uint64_t size, int64_t ctime_ns) {
    auto file = std::make_shared<OpenFile>(fd, size, ctime_ns);
    return [file](uint64_t offset, quic::MutableByteSpan out) { return file->read(offset, out); };
}

}  // namespace quiver
