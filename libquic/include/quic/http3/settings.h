// The SETTINGS frame payload, RFC 9114 §7.2.4, with the QPACK settings of RFC 9204 §5.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "quic/bytes.h"
#include "quic/random.h"
#include "quic/result.h"

namespace quic::h3 {

enum class SettingId : uint64_t {
    kQpackMaxTableCapacity = 0x01,  // RFC 9204 §5, default 0
    kMaxFieldSectionSize = 0x06,    // RFC 9114 §7.2.4.1, default unlimited
    kQpackBlockedStreams = 0x07,    // RFC 9204 §5, default 0
};

// §7.2.4.1 / §11.2.2: identifiers HTTP/2 defined with no HTTP/3 equivalent
// (ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE). Receiving one is
// H3_SETTINGS_ERROR.
constexpr bool is_http2_only_setting(uint64_t id) {
    return id >= 0x02 && id <= 0x05;
}

struct Setting {
    uint64_t id = 0;
    uint64_t value = 0;
    bool operator==(const Setting&) const = default;
};

// Absent settings take their default (§7.2.4.2); the optionals keep "absent" apart from "sent
// with the default value", which 0-RTT checks need (RFC 9204 §3.2.3).
struct Settings {
    std::optional<uint64_t> qpack_max_table_capacity;
    std::optional<uint64_t> max_field_section_size;
    std::optional<uint64_t> qpack_blocked_streams;
    // Every other identifier, in the order received: extensions and reserved (grease) ones,
    // which §7.2.4 says to ignore but an extension layer may want to read.
    std::vector<Setting> others;

    uint64_t qpack_max_table_capacity_or_default() const {
        return qpack_max_table_capacity.value_or(0);
    }
    uint64_t qpack_blocked_streams_or_default() const { return qpack_blocked_streams.value_or(0); }
    uint64_t max_field_section_size_or_default() const {
        return max_field_section_size.value_or(UINT64_MAX);
    }
    bool operator==(const Settings&) const = default;
};

// Parses a SETTINGS payload (§7.2.4): truncated → H3_FRAME_ERROR (§7.1); a repeated
// identifier or an HTTP/2-only one → H3_SETTINGS_ERROR.
Result<Settings> decode_settings(ByteSpan payload);

// Appends the payload: the known settings that are present, then `others`, then, when grease
// is given, one reserved identifier with a random value (§7.2.4.1: endpoints SHOULD include
// one). `others` must not hold known, HTTP/2-only or repeated identifiers.
void encode_settings(Bytes& out, const Settings& s, Random* grease = nullptr);

}  // namespace quic::h3
