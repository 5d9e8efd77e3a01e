// SSLKEYLOGFILE support for client and server (interop/README.md: the runner decrypts its pcaps
// with it): NSS key log lines appended to a file, never truncated, each line flushed at once so a
// killed process leaves a usable log.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace quiver {

using KeyLogWriter = std::function<void(std::string_view line)>;

// Opens `path`, or $SSLKEYLOGFILE when `path` is empty. Returns an empty writer when neither
// is set, and sets `error` (and returns an empty writer) when the file cannot be opened.
KeyLogWriter open_keylog(const std::string& path, std::string& error);

}  // namespace quiver
