#include "quic/http3/settings.h"

#include <algorithm>

#include "http3/grease.h"
#include "http3/varint_reader.h"
#include "quic/http3/error.h"

namespace quic::h3 {

Result<Settings> decode_settings(ByteSpan payload) {
    Settings s;
    std::vector<uint64_t> seen;
    ByteReader r(payload);
    while (!r.empty()) {
        Setting setting;
        if (!r.read_varint(setting.id) || !r.read_varint(setting.value))
            return h3_error(H3Error::kFrameError, "truncated setting");
        // §7.2.4: the same identifier MUST NOT occur twice; we treat it as the error the
        // receiver MAY raise. The payload is capped (kMaxControlFramePayload), so this scan
        // stays small.
        if (std::find(seen.begin(), seen.end(), setting.id) != seen.end())
            return h3_error(H3Error::kSettingsError, "duplicate setting identifier");
        seen.push_back(setting.id);
        if (is_http2_only_setting(setting.id))
            return h3_error(H3Error::kSettingsError, "HTTP/2 setting identifier");
        switch (static_cast<SettingId>(setting.id)) {
            case SettingId::kQpackMaxTableCapacity:
                s.qpack_max_table_capacity = setting.value;
                break;
            case SettingId::kMaxFieldSectionSize:
                s.max_field_section_size = setting.value;
                break;
            case SettingId::kQpackBlockedStreams:
                s.qpack_blocked_streams = setting.value;
                break;
            default:  // §7.2.4: unknown identifiers are ignored (kept for extensions)
                s.others.push_back(setting);
                break;
        }
    }
    return s;
}

void encode_settings(Bytes& out, const Settings& s, Random* grease) {
    auto put = [&](uint64_t id, uint64_t value) {
        append_varint(out, id);
        append_varint(out, value);
    };
    if (s.qpack_max_table_capacity)
        put(static_cast<uint64_t>(SettingId::kQpackMaxTableCapacity), *s.qpack_max_table_capacity);
    if (s.max_field_section_size)
        put(static_cast<uint64_t>(SettingId::kMaxFieldSectionSize), *s.max_field_section_size);
    if (s.qpack_blocked_streams)
        put(static_cast<uint64_t>(SettingId::kQpackBlockedStreams), *s.qpack_blocked_streams);
    for (const Setting& o : s.others) put(o.id, o.value);
    if (grease) {
        // A fresh reserved identifier cannot collide with a known one; it could only collide
        // with a reserved one the caller put in `others`, so skip those.
        uint64_t id;
        do {
            id = random_grease_codepoint(*grease);
        } while (std::any_of(s.others.begin(), s.others.end(),
                             [&](const Setting& o) { return o.id == id; }));
        put(id, grease->uniform(uint64_t{1} << 30));
    }
}

}  // namespace quic::h3
