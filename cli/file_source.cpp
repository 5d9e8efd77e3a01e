#include "file_source.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

namespace quiver {
namespace {

struct OpenFile {
    int fd;
    uint64_t size;
    int64_t ctime_ns;
    uint64_t read_end = 0;  // one past the highest byte read so far

    OpenFile(int f, uint64_t n, int64_t ctime) : fd(f), size(n), ctime_ns(ctime) {}
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    ~OpenFile() { ::close(fd); }

    bool unchanged() const {
        struct stat st;
        return ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == size &&
               change_time_ns(st) == ctime_ns;
    }

    bool read(uint64_t offset, quic::MutableByteSpan out) {
        if (offset > size || out.size() > size - offset) return false;
        if (offset < read_end && !unchanged()) return false;  // a resend of changed bytes
        size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::pread(fd, out.data() + done, out.size() - done,
                                      static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;  // an I/O error, or the file shrank
            done += static_cast<size_t>(n);
        }
        read_end = std::max(read_end, offset + out.size());
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
    if (!file.read(0, quic::MutableByteSpan(reinterpret_cast<uint8_t*>(body.data()), size)))
        return std::nullopt;
    return body;
}

quic::StreamSource file_source(int fd, uint64_t size, int64_t ctime_ns) {
    auto file = std::make_shared<OpenFile>(fd, size, ctime_ns);
    return [file](uint64_t offset, quic::MutableByteSpan out) { return file->read(offset, out); };
}

}  // namespace quiver
