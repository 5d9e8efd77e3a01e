// An HTTP field line as QPACK carries it (RFC 9204 §1.1: "field line"; RFC 9110 §5).
#pragma once

#include <string>

namespace quic::h3 {

struct Field {
    std::string name;
    std::string value;
    // Encode with the 'N' bit (RFC 9204 §4.5.4, §7.1.3): always as a literal, never inserted
    // into the dynamic table, here or on any later hop.
    bool never_index = false;

    bool operator==(const Field&) const = default;
};

// The size RFC 9114 §4.2.2 uses for SETTINGS_MAX_FIELD_SECTION_SIZE: name + value + 32.
inline uint64_t field_size(const Field& f) {
    return f.name.size() + f.value.size() + 32;
}

}  // namespace quic::h3
