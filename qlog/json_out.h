// A small JSON serializer for the qlog writer's hot path: it appends straight into a
// RecordBuffer, with no tree, no allocation per value and no exception. The writer builds
// every record with it (one per event, hundreds per millisecond in a bulk transfer), so the
// common operations are inline: a key or a number is a bounds check and a few stores.
//
// Separators are implicit: a key or a value is preceded by a comma unless it opens its object
// or array or follows its key (the buffer's last byte says which: every complete JSON value
// ends in '"', '}', ']', a digit or a letter).
//
// Text from outside (a peer's reason phrase, header fields, ALPN) goes through text(), which
// escapes what JSON requires (RFC 8259 §7) and replaces bytes that are not UTF-8 with U+FFFD,
// so the output is valid JSON whatever the input. Keys and trusted() values are the writer's
// own literals and names, written as they are.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "quic/time.h"

namespace qlog {

// Bytes being written: a std::string kept at its full length, of which the first size()
// bytes are records, so that appends write through a pointer (std::string's own append is an
// out-of-line call). take() and reopen() hand the bytes to a Sink as a plain std::string.
// The writer's hot path: inlined even where the compiler's size heuristics would not (a
// bounds check and a few stores, against a call per key and per value).
#define QLOG_INLINE [[gnu::always_inline]] inline

class RecordBuffer {
  public:
    // Starts empty and doubles as needed, up to `max_doubling` bytes (past it, by what an
    // append needs): a connection that logs little holds little.
    explicit RecordBuffer(size_t max_doubling = SIZE_MAX) : max_doubling_(max_doubling) {}

    // Room for n more bytes at the end (filled by the caller, then advance(n)).
    QLOG_INLINE char* room(size_t n) {
        if (storage_.size() - used_ < n) grow(n);
        return storage_.data() + used_;
    }
    QLOG_INLINE void advance(size_t n) { used_ += n; }
    QLOG_INLINE void append(std::string_view s) {
        std::memcpy(room(s.size()), s.data(), s.size());
        used_ += s.size();
    }
    QLOG_INLINE void push_back(char c) {
        *room(1) = c;
        ++used_;
    }
    QLOG_INLINE char back() const { return used_ ? storage_[used_ - 1] : '\0'; }
    size_t size() const { return used_; }
    bool empty() const { return used_ == 0; }
    void truncate(size_t n) { used_ = n < used_ ? n : used_; }
    void clear() { used_ = 0; }
    std::string_view view() const { return {storage_.data(), used_}; }

    // The bytes as a string of exactly size() bytes, for Sink::write or Sink::finish; then
    // reopen(), whatever the sink left in it (an empty string, or one to reuse).
    std::string& take() {
        storage_.resize(used_);
        return storage_;
    }
    // Empties the buffer after take(), keeping the capacity the string has.
    void reopen();
    // Frees the memory.
    void release() {
        std::string().swap(storage_);
        used_ = 0;
    }

  private:
    void grow(size_t n);
    std::string storage_;
    size_t used_ = 0;
    size_t max_doubling_;
};

class JsonOut {
  public:
    explicit JsonOut(RecordBuffer& out) : out_(out) {}

    QLOG_INLINE JsonOut& begin_object() {
        separate();
        out_.push_back('{');
        return *this;
    }
    QLOG_INLINE JsonOut& end_object() {
        out_.push_back('}');
        return *this;
    }
    QLOG_INLINE JsonOut& begin_array() {
        separate();
        out_.push_back('[');
        return *this;
    }
    QLOG_INLINE JsonOut& end_array() {
        out_.push_back(']');
        return *this;
    }
    // A key (one of the writer's literals: never escaped). The value follows.
    QLOG_INLINE JsonOut& key(std::string_view k) {
        char* p = out_.room(k.size() + 4);
        char* const start = p;
        if (needs_comma()) *p++ = ',';
        *p++ = '"';
        std::memcpy(p, k.data(), k.size());
        p += k.size();
        *p++ = '"';
        *p++ = ':';
        out_.advance(static_cast<size_t>(p - start));
        return *this;
    }

    QLOG_INLINE JsonOut& number(uint64_t v) {
        separate();
        char* p = out_.room(20);
        out_.advance(static_cast<size_t>(std::to_chars(p, p + 20, v).ptr - p));
        return *this;
    }
    QLOG_INLINE JsonOut& number(int64_t v) {
        separate();
        char* p = out_.room(20);
        out_.advance(static_cast<size_t>(std::to_chars(p, p + 20, v).ptr - p));
        return *this;
    }
    JsonOut& number(uint32_t v) { return number(uint64_t{v}); }
    JsonOut& number(int v) { return number(int64_t{v}); }
    // Shortest text that reads back as the same double; null for NaN and infinities, which
    // JSON cannot carry.
    JsonOut& number(double v);
    JsonOut& boolean(bool v) {
        separate();
        out_.append(v ? std::string_view("true") : std::string_view("false"));
        return *this;
    }
    // A string the writer made (names, hex): no byte needs escaping.
    QLOG_INLINE JsonOut& trusted(std::string_view s) {
        separate();
        char* p = out_.room(s.size() + 2);
        p[0] = '"';
        std::memcpy(p + 1, s.data(), s.size());
        p[s.size() + 1] = '"';
        out_.advance(s.size() + 2);
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
    QLOG_INLINE JsonOut& milliseconds(quic::Duration d) {
        // Round to the microsecond, half away from zero (as std::round), without overflow.
        const int64_t ns = d.count();
        int64_t us = ns / 1000;
        const int64_t rest = ns % 1000;
        if (rest >= 500) ++us;
        if (rest <= -500) --us;
        return microseconds_as_ms(us);
    }
    // A count of microseconds as milliseconds ("0.8" for 800).
    QLOG_INLINE JsonOut& microseconds_as_ms(int64_t us) {
        separate();
        uint64_t magnitude = static_cast<uint64_t>(us);
        char* p = out_.room(26);
        char* const start = p;
        if (us < 0) {
            *p++ = '-';
            magnitude = 0 - magnitude;
        }
        p = std::to_chars(p, p + 20, magnitude / 1000).ptr;
        if (const uint32_t frac = static_cast<uint32_t>(magnitude % 1000)) {
            p[0] = '.';
            p[1] = static_cast<char>('0' + frac / 100);
            p[2] = static_cast<char>('0' + frac / 10 % 10);
            p[3] = static_cast<char>('0' + frac % 10);
            p += frac % 100 == 0 ? 2 : frac % 10 == 0 ? 3 : 4;
        }
        out_.advance(static_cast<size_t>(p - start));
        return *this;
    }

  private:
    void append_escaped(std::string_view s);
    QLOG_INLINE bool needs_comma() const {
        const char last = out_.back();
        return last != '{' && last != '[' && last != ':' && last != '\x1e' && last != '\0';
    }
    QLOG_INLINE void separate() {
        if (needs_comma()) out_.push_back(',');
    }
    RecordBuffer& out_;
};

#undef QLOG_INLINE

}  // namespace qlog
