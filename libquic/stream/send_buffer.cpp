#include "stream/send_buffer.h"

#include <algorithm>
#include <iterator>

#include "stream/limits.h"

namespace quic {

namespace {

using RangeMap = std::map<uint64_t, uint64_t>;

// Adds [start, end), merging with overlapping and adjacent ranges.
void range_insert(RangeMap& m, uint64_t start, uint64_t end) {
    if (start >= end) return;
    auto it = m.upper_bound(start);
    if (it != m.begin()) {
        auto prev = std::prev(it);
        if (prev->second >= start) {
            if (prev->second >= end) return;
            start = prev->first;
            it = m.erase(prev);
        }
    }
    while (it != m.end() && it->first <= end) {
        end = std::max(end, it->second);
        it = m.erase(it);
    }
    m.emplace(start, end);
}

// Removes [start, end), splitting a range that straddles either edge.
void range_erase(RangeMap& m, uint64_t start, uint64_t end) {
    if (start >= end || m.empty()) return;
    auto it = m.upper_bound(start);
    if (it != m.begin()) {
        auto prev = std::prev(it);
        if (prev->second > start) {
            uint64_t prev_end = prev->second;
            prev->second = start;  // keep [prev.start, start)
            if (prev->first == start) m.erase(prev);
            if (prev_end > end) {  // the erased range was strictly inside: keep the tail
                m.emplace(end, prev_end);
                return;
            }
        }
    }
    while (it != m.end() && it->first < end) {
        if (it->second > end) {
            uint64_t tail_end = it->second;
            m.erase(it);
            m.emplace(end, tail_end);
            return;
        }
        it = m.erase(it);
    }
}

}  // namespace

void SendBuffer::write(ByteSpan data) {
    if (fin_) return;
    while (!data.empty()) {
        if (chunks_.empty() || chunks_.back().size() == kSendBufferChunkSize)
            chunks_.emplace_back();
        Bytes& last = chunks_.back();
        size_t n = std::min(kSendBufferChunkSize - last.size(), data.size());
        // Grow geometrically but never past the chunk size, so a small stream keeps a small
        // allocation and a full chunk has no slack.
        if (last.capacity() < last.size() + n)
            last.reserve(
                std::min(kSendBufferChunkSize, std::max(last.size() + n, 2 * last.capacity())));
        last.insert(last.end(), data.begin(), data.begin() + n);
        write_offset_ += n;
        data = data.subspan(n);
    }
}

void SendBuffer::finish() {
    fin_ = true;
}

void SendBuffer::write_source(uint64_t length, StreamSource source) {
    if (fin_) return;
    source_ = std::make_unique<StreamSource>(std::move(source));
    source_start_ = write_offset_;
    write_offset_ += length;
    fin_ = true;
}

bool SendBuffer::copy_out(uint64_t offset, MutableByteSpan out) const {
    while (!out.empty()) {
        if (source_ && offset >= source_start_) return (*source_)(offset - source_start_, out);
        ByteSpan d = bytes_at(offset, out.size());
        std::copy(d.begin(), d.end(), out.begin());
        offset += d.size();
        out = out.subspan(d.size());
    }
    return true;
}

ByteSpan SendBuffer::bytes_at(uint64_t offset, uint64_t len) const {
    uint64_t rel = offset - base_offset_;
    const Bytes& chunk = chunks_[rel / kSendBufferChunkSize];
    size_t within = rel % kSendBufferChunkSize;
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, chunk.size() - within));
    return ByteSpan(chunk).subspan(within, n);
}

SendChunk SendBuffer::run_at(uint64_t offset, uint64_t len) const {
    if (source_ && offset >= source_start_)
        return SendChunk{offset, {}, false, static_cast<size_t>(len)};
    if (source_) len = std::min(len, source_start_ - offset);
    ByteSpan data = bytes_at(offset, len);
    return SendChunk{offset, data, false, data.size()};
}

std::optional<SendChunk> SendBuffer::next_chunk(size_t max_len, uint64_t flow_limit) const {
    // Lost data first: the receiver cannot deliver anything past the hole (§2.2), and its
    // flow-control credit is already spent.
    if (!lost_.empty() && max_len > 0) {
        auto [start, end] = *lost_.begin();
        SendChunk c = run_at(start, std::min<uint64_t>(end - start, max_len));
        c.fin = fin_pending() && start + c.length == write_offset_;
        return c;
    }
    if (sent_offset_ < write_offset_) {
        uint64_t limit = std::min(flow_limit, write_offset_);
        if (limit <= sent_offset_ || max_len == 0) return std::nullopt;  // flow-control blocked
        SendChunk c = run_at(sent_offset_, std::min<uint64_t>(limit - sent_offset_, max_len));
        c.fin = fin_ && sent_offset_ + c.length == write_offset_;
        return c;
    }
    // A FIN on its own: a stream finished after its data was sent, an empty stream, or a lost
    // FIN whose data was acknowledged. Sits at the final size with no data (§19.8).
    if (lost_.empty() && fin_pending()) return SendChunk{write_offset_, {}, true, 0};
    return std::nullopt;
}

uint64_t SendBuffer::on_sent(uint64_t offset, uint64_t len, bool fin) {
    uint64_t end = offset + len;
    uint64_t newly_sent = end > sent_offset_ ? end - sent_offset_ : 0;
    sent_offset_ = std::max(sent_offset_, end);
    range_erase(lost_, offset, end);
    if (fin) {
        fin_sent_ = true;
        fin_lost_ = false;
    }
    return newly_sent;
}

void SendBuffer::on_acked(uint64_t offset, uint64_t len, bool fin) {
    if (fin) {
        fin_acked_ = true;
        fin_lost_ = false;
    }
    uint64_t start = std::max(offset, acked_prefix_);
    uint64_t end = std::min(offset + len, sent_offset_);
    if (start >= end) return;
    range_erase(lost_, start, end);
    if (start == acked_prefix_) {
        acked_prefix_ = end;
        // Absorb out-of-order acknowledgements that now touch the prefix.
        while (!acked_.empty() && acked_.begin()->first <= acked_prefix_) {
            acked_prefix_ = std::max(acked_prefix_, acked_.begin()->second);
            acked_.erase(acked_.begin());
        }
        free_acked_chunks();
    } else {
        range_insert(acked_, start, end);
    }
}

void SendBuffer::on_lost(uint64_t offset, uint64_t len, bool fin) {
    if (fin && !fin_acked_) fin_lost_ = true;
    uint64_t start = std::max(offset, acked_prefix_);
    uint64_t end = std::min(offset + len, sent_offset_);
    if (start >= end) return;
    // Queue only the parts no other packet acknowledged meanwhile: walk the acknowledged
    // ranges overlapping [start, end) and add the gaps between them.
    auto it = acked_.upper_bound(start);
    if (it != acked_.begin() && std::prev(it)->second > start) --it;
    uint64_t cur = start;
    for (; it != acked_.end() && it->first < end; ++it) {
        if (it->first > cur) range_insert(lost_, cur, it->first);
        cur = std::max(cur, it->second);
    }
    if (cur < end) range_insert(lost_, cur, end);
}

void SendBuffer::free_acked_chunks() {
    // Everything written is acknowledged: nothing is kept, the last partial chunk included
    // (an idle stream, a crypto stream after the handshake); the next write starts a chunk at
    // write_offset_.
    if (acked_prefix_ == write_offset_ && (!chunks_.empty() || source_)) {
        chunks_ = {};
        base_offset_ = write_offset_;
        source_.reset();  // a file is closed once the peer has every byte
        return;
    }
    // Otherwise only full chunks are dropped, so that every chunk but the last stays full.
    size_t n = 0;
    while (n < chunks_.size() &&
           (chunks_[n].size() == kSendBufferChunkSize || (source_ && n + 1 == chunks_.size())) &&
           base_offset_ + chunks_[n].size() <= acked_prefix_) {
        base_offset_ += chunks_[n].size();
        ++n;
    }
    if (n) chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(n));
}

bool SendBuffer::all_acked() const {
    return fin_ && fin_acked_ && acked_prefix_ == write_offset_;
}

bool SendBuffer::has_pending() const {
    return !lost_.empty() || sent_offset_ < write_offset_ || fin_pending();
}

}  // namespace quic
