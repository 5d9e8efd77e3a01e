// hq-interop, the interop runner's HTTP/0.9 over QUIC (interop/README.md): the client opens one
// bidirectional stream per file and writes "GET /path\r\n" then FIN; the server answers with
// the file's bytes then FIN. The protocol defines no errors; quiver's server resets the stream
// with these application codes, and the client names them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quiver {

inline constexpr const char* kHqAlpn = "hq-interop";
// HTTP/3 (RFC 9114 §3.1); quiver server offers both, and its client speaks h3 by default.
inline constexpr const char* kH3Alpn = "h3";

inline constexpr uint64_t kHqNotFound = 0x10;     // no such file (or not a regular file)
inline constexpr uint64_t kHqForbidden = 0x11;    // the path leaves the served directory
inline constexpr uint64_t kHqBadRequest = 0x12;   // not "GET /path"
inline constexpr uint64_t kHqReadError = 0x13;    // the file could not be read to its end
inline constexpr uint64_t kHqUnavailable = 0x14;  // the server is out of file descriptors

// A request is bounded: a path longer than this is a bad request.
inline constexpr size_t kHqMaxRequest = 8192;

inline const char* hq_error_name(uint64_t code) {
    switch (code) {
        case kHqNotFound:
            return "not found";
        case kHqForbidden:
            return "forbidden";
        case kHqBadRequest:
            return "bad request";
        case kHqReadError:
            return "server read error";
        case kHqUnavailable:
            return "server out of file descriptors";
        default:
            return "unknown error";
    }
}

inline std::string hq_request(std::string_view path) {
    return "GET " + std::string(path) + "\r\n";
}

// The path of a complete request line ("GET /a/b\r\n", the line end optional at FIN).
inline std::optional<std::string> hq_parse_request(std::string_view line) {
    if (line.substr(0, 4) != "GET ") return std::nullopt;
    line.remove_prefix(4);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty() || line.front() != '/') return std::nullopt;
    return std::string(line);
}

}  // namespace quiver
