#include "root_path.h"

#include <limits.h>
#include <sys/stat.h>

#include <cstdlib>

#include "hq_interop.h"

namespace quiver {

RootedFile resolve_under_root(const std::string& root, std::string_view request) {
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
    // A symlink may point anywhere: the resolved file must be strictly under the root.
    const std::string real(resolved);
    const std::string prefix = root == "/" ? "/" : root + "/";
    if (real.compare(0, prefix.size(), prefix) != 0 || real.size() == prefix.size())
        return {"", kHqForbidden};
    struct stat st;
    if (stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {"", kHqNotFound};
    return {real, 0};
}

}  // namespace quiver
