#include "reexec.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace quiver {

void reexec_with_env(const char* name, const char* value) {
    const char* have = std::getenv(name);
    if (have && std::strcmp(have, value) == 0) return;
    std::ifstream f("/proc/self/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<char*> argv;
    for (size_t i = 0; i < cmdline.size(); i += std::strlen(&cmdline[i]) + 1)
        argv.push_back(&cmdline[i]);
    if (argv.empty()) return;
    argv.push_back(nullptr);
    if (setenv(name, value, 1) != 0) return;
    execv("/proc/self/exe", argv.data());
}

}  // namespace quiver
