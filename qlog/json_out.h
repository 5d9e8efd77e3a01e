// A small JSON serializer for the qlog writer's hot path: it appends straight into the
// caller's buffer, with no tree, no allocation per value and no exception. The writer builds
// every record with it (one per event, a few hundred per millisecond during a bulk transfer).
//
// Separators are implicit: a key or a value is preceded by a comma unless it opens its object
// or array or follows its key (the buffer's last byte says which: every complete JSON value
// ends in '"', '}', ']', a digit or a letter).
//
// Text from outside (a peer's reason phrase, header fields, ALPN) goes through text(), which
// escapes what JSON requires (RFC 8259 §7) and replaces bytes that are not UTF-8 with U+FFFD,
// so the output is valid JSON whatever the input. Keys and values written with name() or
// trusted() are the writer's own literals and hex digits, written as they are.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "quic/time.h"

namespace qlog {

class JsonOut {
  public:
    explicit JsonOut(std::string& out) : out_(out) {}

    JsonOut& begin_object() {
        separate();
        out_.push_back('{');
        return *this;
    }
    JsonOut& end_object() {
        out_.push_back('}');
        return *this;
    }
    JsonOut& begin_array() {
        separate();
        out_.push_back('[');
        return *this;
    }
    JsonOut& end_array() {
        out_.push_back(']');
        return *this;
    }
    // A key (one of the writer's literals: never escaped). The value follows.
    JsonOut& key(std::string_view k) {
        separate();
        out_.push_back('"');
        out_.append(k);
        out_.append("\":", 2);
        return *this;
    }

    JsonOut& number(uint64_t v);
    JsonOut& number(int64_t v);
    JsonOut& number(uint32_t v) { return number(uint64_t{v}); }
    JsonOut& number(int v) { return number(int64_t{v}); }
    // Shortest text that reads back as the same double; null for NaN and infinities, which
    // JSON cannot carry.
    JsonOut& number(double v);
    JsonOut& boolean(bool v) {
        separate();
        out_.append(v ? "true" : "false");
        return *this;
    }
    // A string the writer made (names, hex): no byte needs escaping.
    JsonOut& trusted(std::string_view s) {
        separate();
        out_.push_back('"');
        out_.append(s);
        out_.push_back('"');
        return *this;
    }
    // A string from anywhere: escaped, invalid UTF-8 replaced.
    JsonOut& text(std::string_view s) { return text(s, s.size()); }
    // The same, cut to its first max_bytes bytes (never inside a UTF-8 sequence) and marked
    // with kTruncationMarker when longer (qlog/limits.h; as truncate_text in qlog/format.h).
    JsonOut& text(std::string_view s, size_t max_bytes);
    // Lowercase hex of the first max_bytes bytes, as a string.
    JsonOut& hex(std::span<const uint8_t> bytes, size_t max_bytes);
    // Milliseconds with microsecond resolution ("12.345"), as qlog's times and durations;
    // the same value as rounding d to microseconds and dividing by 1000.
    JsonOut& milliseconds(quic::Duration d);
    // A count of microseconds as milliseconds ("0.8" for 800).
    JsonOut& microseconds_as_ms(int64_t us);

  private:
    void append_escaped(std::string_view s);
    void separate() {
        const char last = out_.empty() ? '\0' : out_.back();
        if (last != '{' && last != '[' && last != ':' && last != '\x1e' && !out_.empty())
            out_.push_back(',');
    }
    std::string& out_;
};

}  // namespace qlog
