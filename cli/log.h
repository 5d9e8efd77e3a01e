// -v lines of the server: "quiver server: <client address>: <what>" on stderr, or nothing.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <string>

namespace quiver {

class Log {
  public:
    Log(std::FILE* out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}
    bool enabled() const { return out_ != nullptr; }
    void operator()(const char* fmt, ...) const __attribute__((format(printf, 2, 3))) {
        if (!out_) return;
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        std::fprintf(out_, "%s%s\n", prefix_.c_str(), buf);
    }

  private:
    std::FILE* out_;
    std::string prefix_;
};

}  // namespace quiver
