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

// Percent-decodes a request path (RFC 3986 §2.1), without its query ("?...") or fragment.
// nullopt for a malformed escape or a decoded NUL: the path is a bad request.
std::optional<std::string> decode_request_path(std::string_view target);

}  // namespace quiver
