#include "root_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "file_source.h"
#include "hq_interop.h"

namespace quiver {

namespace {

// Refuses ".." outright (even when it would stay inside: a client asking for it is probing)
// and NUL.
bool probing(std::string_view request) {
    if (request.find('\0') != std::string_view::npos) return true;
    size_t start = 0;
    while (start <= request.size()) {
        size_t end = request.find('/', start);
        if (end == std::string_view::npos) end = request.size();
        if (request.substr(start, end - start) == "..") return true;
        start = end + 1;
    }
    return false;
}

// `fd` open: a regular file is the answer; anything else is closed.
OpenedFile opened(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return OpenedFile{.error = kHqNotFound};
    }
    return OpenedFile{.fd = fd,
                      .size = static_cast<uint64_t>(st.st_size),
                      .mtime = static_cast<int64_t>(st.st_mtime),
                      .ctime_ns = change_time_ns(st)};
}

// What a failed open(2) means to the client: out of descriptors is the server's state (503),
// anything else is the file's.
uint64_t open_error() {
    return errno == EMFILE || errno == ENFILE ? kHqUnavailable : kHqNotFound;
}

}  // namespace

RootedFile resolve_under_root(const std::string& root, std::string_view request,
                              bool allow_directory) {
    if (probing(request)) return {"", kHqForbidden};
    const std::string joined = root + "/" + std::string(request);
    char resolved[PATH_MAX];
    if (!realpath(joined.c_str(), resolved)) return {"", kHqNotFound};
    // A symlink may point anywhere: the resolved file must be strictly under the root (or,
    // for a directory listing, the root itself).
    const std::string real(resolved);
    const std::string prefix = root == "/" ? "/" : root + "/";
    const bool is_root = real == root;
    if (!is_root && (real.compare(0, prefix.size(), prefix) != 0 || real.size() == prefix.size()))
        return {"", kHqForbidden};
    struct stat st;
    if (stat(real.c_str(), &st) != 0) return {"", kHqNotFound};
    if (allow_directory && S_ISDIR(st.st_mode)) return {real, 0, true};
    if (is_root || !S_ISREG(st.st_mode)) return {"", kHqNotFound};
    return {real, 0};
}

ServedRoot::ServedRoot(std::string root) : root_(std::move(root)) {
    fd_ = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

ServedRoot::~ServedRoot() {
    if (fd_ >= 0) ::close(fd_);
}

OpenedFile ServedRoot::open(std::string_view request, bool allow_directory) const {
    if (probing(request)) return OpenedFile{.error = kHqForbidden};
    if (fd_ < 0) return open_resolved(request, allow_directory);
    std::string relative(request.substr(std::min(request.find_first_not_of('/'), request.size())));
    if (relative.empty()) relative = ".";
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused after fstat).
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = syscall(SYS_openat2, fd_, relative.c_str(), &how, sizeof how);
    if (fd < 0) {
        // EXDEV: a symlink absolute or leading out; ELOOP: a magic link; the rest: no openat2
        // here (an old kernel, a seccomp filter). realpath decides those.
        if (errno == EXDEV || errno == ELOOP || errno == ENOSYS || errno == EPERM ||
            errno == EINVAL || errno == E2BIG)
            return open_resolved(request, allow_directory);
        return OpenedFile{.error = open_error()};
    }
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(static_cast<int>(fd));
        return open_resolved(request, allow_directory);  // a listing needs its real path
    }
    return opened(static_cast<int>(fd));
}

OpenedFile ServedRoot::open_resolved(std::string_view request, bool allow_directory) const {
    RootedFile file = resolve_under_root(root_, request, allow_directory);
    if (file.error) return OpenedFile{.error = file.error};
    if (file.directory) return OpenedFile{.path = std::move(file.path), .directory = true};
    const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return OpenedFile{.error = open_error()};
    return opened(fd);
}

std::optional<std::string> decode_request_path(std::string_view target) {
    target = target.substr(0, target.find_first_of("?#"));
    std::string out;
    out.reserve(target.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < target.size(); ++i) {
        if (target[i] != '%') {
            out += target[i];
            continue;
        }
        if (i + 2 >= target.size()) return std::nullopt;
        const int hi = hex(target[i + 1]), lo = hex(target[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        const char c = static_cast<char>(hi * 16 + lo);
        if (c == '\0') return std::nullopt;
        out += c;
        i += 2;
    }
    return out;
}

}  // namespace quiver
