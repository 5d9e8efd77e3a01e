#include "qlog/format.h"

#include <cstdio>
#include <cstdlib>

#include "qlog/limits.h"

namespace qlog {

std::string hex(std::span<const uint8_t> bytes, size_t max_bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    const size_t n = bytes.size() < max_bytes ? bytes.size() : max_bytes;
    std::string s;
    s.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) {
        s.push_back(kHex[bytes[i] >> 4]);
        s.push_back(kHex[bytes[i] & 0xf]);
    }
    return s;
}

std::string truncate_text(std::string_view text, size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    size_t cut = max_bytes;
    // Back up over UTF-8 continuation bytes (10xxxxxx) so the cut is between characters.
    while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xc0) == 0x80) --cut;
    std::string out(text.substr(0, cut));
    out += kTruncationMarker;
    return out;
}

std::string version_hex(uint32_t version) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", version);
    return buf;
}

std::optional<uint32_t> parse_version(std::string_view text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text.remove_prefix(2);
    if (text.empty() || text.size() > 8) return std::nullopt;
    uint32_t v = 0;
    for (char c : text) {
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return std::nullopt;
        v = (v << 4) | static_cast<uint32_t>(d);
    }
    return v;
}

std::string version_display_name(uint32_t version) {
    if (version == 0x00000001) return "v1";
    if (version == 0x6b3343cf) return "v2";
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", version);
    return buf;
}

std::string transport_error_qlog_name(uint64_t code) {
    // RFC 9000 §20.1 (plus RFC 9368's VERSION_NEGOTIATION_ERROR, not in the draft's list).
    static constexpr const char* kNames[] = {
        "no_error",
        "internal_error",
        "connection_refused",
        "flow_control_error",
        "stream_limit_error",
        "stream_state_error",
        "final_size_error",
        "frame_encoding_error",
        "transport_parameter_error",
        "connection_id_limit_error",
        "protocol_violation",
        "invalid_token",
        "application_error",
        "crypto_buffer_exceeded",
        "key_update_error",
        "aead_limit_reached",
        "no_viable_path",
    };
    if (code < sizeof(kNames) / sizeof(kNames[0])) return kNames[code];
    if (code >= 0x100 && code <= 0x1ff) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "crypto_error_0x%03x", static_cast<unsigned>(code));
        return buf;
    }
    return "unknown";
}

}  // namespace qlog
