// `quiver perf h3 URL...`: HTTP/3 load on any server, as h2load does for HTTP/2: -c
// connections, each keeping -m requests in flight (a new one as each completes), the URLs in
// turn, until -n requests were made or --duration ends. It measures requests/s, the time to
// the response's header section (ttfb) and to its end (latency), status codes and body bytes,
// through the library's HTTP/3 client (quic/http3/client.h).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quiver {

// Registers `h3` under `perf`; the returned function runs it.
std::function<int()> register_perf_h3(CLI::App* perf);

}  // namespace quiver
