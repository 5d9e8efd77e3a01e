#include "qlog/json_out.h"

#include <algorithm>
#include <cmath>

#include "qlog/limits.h"

namespace qlog {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// The length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629 §4), 0 if it is not
// one (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short).
size_t utf8_sequence_length(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    const auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xc0) == 0x80; };
    const uint8_t b = byte(i);
    if (b >= 0xc2 && b <= 0xdf) return cont(i + 1) ? 2 : 0;
    if (b >= 0xe0 && b <= 0xef) {
        if (!cont(i + 1) || !cont(i + 2)) return 0;
        const uint8_t b1 = byte(i + 1);
        if (b == 0xe0 && b1 < 0xa0) return 0;  // overlong
        if (b == 0xed && b1 > 0x9f) return 0;  // UTF-16 surrogates
        return 3;
    }
    if (b >= 0xf0 && b <= 0xf4) {
        if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
        const uint8_t b1 = byte(i + 1);
        if (b == 0xf0 && b1 < 0x90) return 0;  // overlong
        if (b == 0xf4 && b1 > 0x8f) return 0;  // past U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

void RecordBuffer::grow(size_t n) {
    const size_t doubled = std::min(std::max<size_t>(storage_.size() * 2, 4096), max_doubling_);
    storage_.resize(std::max(doubled, used_ + n));
}

void RecordBuffer::reopen() {
    used_ = 0;
    // Kept at full length: resize() zero-fills once per buffer, not per append.
    storage_.resize(storage_.capacity());
}

JsonOut& JsonOut::number(double v) {
    separate();
    if (!std::isfinite(v)) {
        out_.append("null");
        return *this;
    }
    char* p = out_.room(32);
    out_.advance(static_cast<size_t>(std::to_chars(p, p + 32, v).ptr - p));
    return *this;
}

JsonOut& JsonOut::text(std::string_view s, size_t max_bytes) {
    separate();
    out_.push_back('"');
    if (s.size() <= max_bytes) {
        append_escaped(s);
    } else {
        size_t cut = max_bytes;
        // Back up over UTF-8 continuation bytes (10xxxxxx) so the cut is between characters.
        while (cut > 0 && (static_cast<uint8_t>(s[cut]) & 0xc0) == 0x80) --cut;
        append_escaped(s.substr(0, cut));
        out_.append(kTruncationMarker);
    }
    out_.push_back('"');
    return *this;
}

void JsonOut::append_escaped(std::string_view s) {
    size_t plain = 0;  // start of the run of bytes copied as they are
    for (size_t i = 0; i < s.size();) {
        const uint8_t c = static_cast<uint8_t>(s[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const size_t n = utf8_sequence_length(s, i)) {
                i += n;
                continue;
            }
        }
        out_.append(s.substr(plain, i - plain));
        switch (c) {
            case '"':
                out_.append("\\\"");
                break;
            case '\\':
                out_.append("\\\\");
                break;
            case '\n':
                out_.append("\\n");
                break;
            case '\r':
                out_.append("\\r");
                break;
            case '\t':
                out_.append("\\t");
                break;
            default:
                if (c < 0x20) {
                    const char esc[] = {
                        '\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xf]};
                    out_.append(std::string_view(esc, sizeof esc));
                } else {
                    out_.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
                }
        }
        plain = ++i;
    }
    out_.append(s.substr(plain));
}

JsonOut& JsonOut::hex(std::span<const uint8_t> bytes, size_t max_bytes) {
    separate();
    const size_t n = bytes.size() < max_bytes ? bytes.size() : max_bytes;
    char* p = out_.room(2 * n + 2);
    *p++ = '"';
    for (size_t i = 0; i < n; ++i) {
        *p++ = kHexDigits[bytes[i] >> 4];
        *p++ = kHexDigits[bytes[i] & 0xf];
    }
    *p = '"';
    out_.advance(2 * n + 2);
    return *this;
}

}  // namespace qlog
