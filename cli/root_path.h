// Confines request paths to the served directory: no ".." segment, and, after symlinks are
// resolved, the file must still lie under the root.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace quiver {

struct RootedFile {
    std::string path;    // the resolved path, when error == 0
    uint64_t error = 0;  // kHqNotFound or kHqForbidden (hq_interop.h)
};

// `root` must be the realpath of the served directory; `request` starts with '/'.
RootedFile resolve_under_root(const std::string& root, std::string_view request);

}  // namespace quiver
