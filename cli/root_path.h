// Confines request paths to the served directory: no ".." segment, and, after symlinks are
// resolved, the file must still lie under the root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quiver {

struct RootedFile {
    std::string path;    // the resolved path, when error == 0
    uint64_t error = 0;  // kHqNotFound or kHqForbidden (hq_interop.h)
    bool directory = false;
};

// `root` must be the realpath of the served directory; `request` starts with '/'. A regular
// file only, unless `allow_directory` (then the root itself and directories under it too).
RootedFile resolve_under_root(const std::string& root, std::string_view request,
                              bool allow_directory = false);

// A file opened for a request: `fd` (the caller's to close) with its size and modification
// time; or, with `directory`, the directory's resolved path (for its listing); or an error.
struct OpenedFile {
    int fd = -1;
    uint64_t size = 0;
    int64_t mtime = 0;  // seconds since the epoch
    // The inode's change time when opened: a later change means the content may differ
    // (file_source.h checks it before reading bytes again).
    int64_t ctime_ns = 0;
    std::string path;    // the directory, when `directory`
    uint64_t error = 0;  // kHqNotFound, kHqForbidden or kHqUnavailable (hq_interop.h)
    bool directory = false;
};

// The served directory, opened once. A request's file is opened beneath it with openat2 and
// RESOLVE_BENEATH: one system call where realpath takes a readlink per path component, then
// stat and open again (17 % of the server's CPU under h3 request load, issue 14). What the
// kernel will not resolve beneath the directory (a symlink that is absolute or leaves it), or
// a kernel without openat2, goes through resolve_under_root, which decides by where the
// symlink really leads: the answers are the same either way.
class ServedRoot {
  public:
    // `root` must be the realpath of the served directory.
    explicit ServedRoot(std::string root);
    ~ServedRoot();
    ServedRoot(const ServedRoot&) = delete;
    ServedRoot& operator=(const ServedRoot&) = delete;

    const std::string& path() const { return root_; }
    // As resolve_under_root, then opened: a regular file (or, with `allow_directory`, a
    // directory, not opened).
    OpenedFile open(std::string_view request, bool allow_directory = false) const;

  private:
    OpenedFile open_resolved(std::string_view request, bool allow_directory) const;
    std::string root_;
    int fd_ = -1;  // O_PATH; -1 if it could not be opened (then every request takes realpath)
};

// Percent-decodes a request path (RFC 3986 §2.1), without its query ("?...") or fragment.
// nullopt for a malformed escape or a decoded NUL: the path is a bad request.
std::optional<std::string> decode_request_path(std::string_view target);

}  // namespace quiver
