#include "keylog.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace quiver {

KeyLogWriter open_keylog(const std::string& path, std::string& error) {
    std::string file = path;
    if (file.empty()) {
        const char* env = std::getenv("SSLKEYLOGFILE");
        if (!env || !*env) return {};
        file = env;
    }
    // "a": several connections and several processes (resumption, multiconnect) share the file.
    std::FILE* f = std::fopen(file.c_str(), "a");
    if (!f) {
        error = "cannot open key log " + file + ": " + std::strerror(errno);
        return {};
    }
    std::shared_ptr<std::FILE> shared(f, [](std::FILE* p) { std::fclose(p); });
    return [shared](std::string_view line) {
        std::fwrite(line.data(), 1, line.size(), shared.get());
        std::fputc('\n', shared.get());
        std::fflush(shared.get());
    };
}

}  // namespace quiver
