// Restarting the process with a changed environment, for settings BoringSSL reads only once,
// when it initialises (it may do so as the library loads, before main).
#pragma once

namespace quiver {

// Sets `name` to `value` and, unless it already had that value, re-executes this very
// command line (/proc/self/exe with /proc/self/cmdline). Returns only when it cannot re-exec
// (the caller goes on without the setting) or when nothing needed doing.
void reexec_with_env(const char* name, const char* value);

}  // namespace quiver
