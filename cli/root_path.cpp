#include "root_path.h"

#include <limits.h>
#include <sys/stat.h>

#include <cstdlib>

#include "hq_interop.h"

namespace quiver {

RootedFile resolve_under_root(const std::string& root, std::string_view request,
                              bool allow_directory) {
    if (request.find('\0') != std::string_view::npos) return {"", kHqForbidden};
    // Refuse ".." outright (even when it would stay inside): a client asking for it is probing.
    size_t start = 0;
    while (start <= request.size()) {
        size_t end = request.find('/', start);
        if (end == std::string_view::npos) end = request.size();
        if (request.substr(start, end - start) == "..") return {"", kHqForbidden};
        start = end + 1;
    }
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
