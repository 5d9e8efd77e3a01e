#include "stream/receive_buffer.h"

#include <algorithm>

#include "stream/limits.h"

namespace quic {

ReceiveBuffer ReceiveBuffer::for_crypto() {
    return ReceiveBuffer(kMaxCryptoBufferBeyondRead, TransportErrorCode::kCryptoBufferExceeded);
}

Result<ReceiveBuffer::InsertOutcome> ReceiveBuffer::insert(uint64_t offset, ByteSpan data, bool fin,
                                                           bool may_add_fragment) {
    // §19.8 / §19.6: the end of the data cannot exceed 2^62-1 (no credit can cover it).
    if (offset > kMaxStreamOffset || data.size() > kMaxStreamOffset - offset)
        return Error::transport(TransportErrorCode::kFrameEncodingError,
                                "stream data ends past 2^62-1");
    const uint64_t end = offset + data.size();

    // §4.5: once known, the final size cannot change, and no data may lie at or past it.
    if (final_size_) {
        if (end > *final_size_)
            return Error::transport(TransportErrorCode::kFinalSizeError,
                                    "data beyond the final size");
        if (fin && end != *final_size_)
            return Error::transport(TransportErrorCode::kFinalSizeError, "final size changed");
    } else if (fin && end < highest_received_) {
        // §4.5: the final size is one past the highest byte sent, so data already received
        // above it proves it wrong.
        return Error::transport(TransportErrorCode::kFinalSizeError,
                                "final size below data already received");
    }
    // §7.5 for CRYPTO streams: there is no flow control, so this cap is the only bound.
    if (end > read_offset_ && end - read_offset_ > max_beyond_read_)
        return Error::transport(over_limit_error_, "too much data buffered past the read offset");

    // Bytes below the read offset were delivered already: only [start, end) can be new.
    const uint64_t start = std::max(offset, read_offset_);
    const bool new_bytes = !discarding_ && start < end && !received_.contains_range(start, end);
    // Checked before any state changes, so a dropped fragment leaves no trace. Data at the read
    // offset is never dropped: it becomes readable at once, so refusing it could only stall the
    // stream (at most one fragment beyond the cap, which the next in-order data extends).
    if (new_bytes && start > read_offset_ &&
        (!may_add_fragment || received_.size() >= kMaxReassemblyFragments) &&
        would_add_fragment(start, end))
        return InsertOutcome::kDroppedTooFragmented;

    bool changed = false;
    if (fin && !final_size_) {
        final_size_ = end;
        changed = true;
    }
    if (end > highest_received_) {
        highest_received_ = end;
        changed = true;
    }
    if (!new_bytes) return changed ? InsertOutcome::kAccepted : InsertOutcome::kDuplicate;

    ByteSpan src = data.subspan(static_cast<size_t>(start - offset));
    size_t rel = static_cast<size_t>(start - read_offset_);
    // Overwrite the part that falls inside the buffer (holes, or bytes we already have: §2.2
    // says they must be identical), then append the rest. In-order data is a pure append.
    if (!buf_) buf_.emplace();
    std::deque<uint8_t>& buf = *buf_;
    if (rel < buf.size()) {
        size_t n = std::min(buf.size() - rel, src.size());
        std::copy(src.begin(), src.begin() + n, buf.begin() + rel);
        src = src.subspan(n);
        rel += n;
    }
    if (!src.empty()) {
        if (rel > buf.size()) buf.resize(rel);  // a hole before out-of-order data
        buf.insert(buf.end(), src.begin(), src.end());
    }
    received_.insert(start, end);
    return InsertOutcome::kAccepted;
}

bool ReceiveBuffer::would_add_fragment(uint64_t start, uint64_t end) const {
    // Linear, but only called at the cap, where the set has kMaxReassemblyFragments entries.
    for (const auto& [s, e] : received_) {
        if (s > end) break;
        if (e >= start) return false;  // overlaps or touches: merges instead
    }
    return true;
}

uint64_t ReceiveBuffer::readable_bytes() const {
    if (discarding_) return 0;
    return received_.contiguous_end(read_offset_) - read_offset_;
}

size_t ReceiveBuffer::read(MutableByteSpan out) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), readable_bytes()));
    if (n == 0) return 0;
    std::deque<uint8_t>& buf = *buf_;  // readable bytes were inserted
    std::copy(buf.begin(), buf.begin() + n, out.begin());
    // Erasing at the front of a deque releases whole blocks: memory follows the read offset.
    buf.erase(buf.begin(), buf.begin() + n);
    read_offset_ += n;
    received_.erase_below(read_offset_);
    return n;
}

bool ReceiveBuffer::all_received() const {
    if (!final_size_ || discarding_) return false;
    return received_.contiguous_end(read_offset_) >= *final_size_;
}

void ReceiveBuffer::discard() {
    discarding_ = true;
    buf_.reset();
    received_.clear();
}

}  // namespace quic
