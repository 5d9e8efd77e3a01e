// Small formatting helpers shared by the qlog writer, reader and summary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace qlog {

// Lowercase hex of the first `max_bytes` bytes (qlog's "hexstring"; a longer blob is cut, and
// the caller logs its full length next to it: main schema §11.4 "Truncated values").
std::string hex(std::span<const uint8_t> bytes, size_t max_bytes);

// `text` when it has at most max_bytes bytes; otherwise its first max_bytes bytes (never
// ending inside a UTF-8 sequence) followed by kTruncationMarker.
std::string truncate_text(std::string_view text, size_t max_bytes);

// A QUIC version as qlog's QuicVersion hexstring: 8 hex digits ("00000001").
std::string version_hex(uint32_t version);

// Parses a version as the writers in the wild log it: "00000001", "0x1", "1" (hex) or a JSON
// number. nullopt when it does not parse.
std::optional<uint32_t> parse_version(std::string_view text);

// "v1", "v2", or the hex value ("0xff00001d") for others.
std::string version_display_name(uint32_t version);

// The quic events draft's TransportError names ("no_error", "protocol_violation", ...),
// "crypto_error_0x1NN" for CRYPTO_ERROR (RFC 9001 §4.8), "unknown" otherwise.
std::string transport_error_qlog_name(uint64_t code);

}  // namespace qlog
